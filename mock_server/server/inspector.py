"""The inspector: a page at ``[/t/{tenant}]/__admin/`` that shows the journal as it fills.

Served by the server itself from the files in ``inspector/`` (read once, at start-up): no build
step, nothing fetched from the internet. The page holds no data of its own — everything it shows
comes from the admin API, with the admin token when the server has one — so it is served
without the token, and a ``Content-Security-Policy`` lets it run only its own script.
Nothing on the request path serves or feeds it: with nobody watching it costs nothing; a page
open polls ``GET /__admin/requests?after=ID`` once a second.
"""

from __future__ import annotations

from aiohttp import web

from ..bundled import bundled

FILES = {
    "": ("index.html", "text/html; charset=utf-8"),
    "inspector.js": ("inspector.js", "text/javascript; charset=utf-8"),
    "inspector.css": ("inspector.css", "text/css; charset=utf-8"),
}
HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def load_files() -> dict[str, tuple[str, str, bytes]]:
    """The page's files, read once."""
    folder = bundled("server/inspector")
    return {
        route: (name, content_type, (folder / name).read_bytes())
        for route, (name, content_type) in FILES.items()
    }


def add_inspector_routes(app: web.Application, files: dict[str, tuple[str, str, bytes]]) -> None:
    """Serve the page at ``/__admin/`` (``server.prefixed`` serves it under a tenant's prefix
    too)."""
    base = "/__admin"

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.path + "/")

    app.router.add_get(base, redirect)
    for route, (_, content_type, data) in files.items():

        async def serve(request: web.Request, data=data, content_type=content_type) -> web.Response:
            return web.Response(body=data, headers={**HEADERS, "Content-Type": content_type})

        app.router.add_get(f"{base}/{route}", serve)
