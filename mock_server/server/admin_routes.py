"""The admin API's routes, registered without loading the API: ``server.admin`` is imported on
the first admin call, so a server nobody administers never pays for it at start-up."""

from __future__ import annotations

import re

from aiohttp import web

# (method, path under [/t/{tenant}]/__admin, handler in server.admin)
ROUTES = (
    ("GET", "/health", "health"),
    ("GET", "/requests", "list_requests"),
    ("GET", "/requests/count", "count_requests"),
    ("GET", "/requests/unmatched", "unmatched_requests"),
    ("GET", "/requests/{id}/scenario", "request_as_scenario"),
    ("DELETE", "/requests", "delete_requests"),
    ("GET", "/scenarios", "list_scenarios"),
    ("POST", "/scenarios", "add_scenarios"),
    ("DELETE", "/scenarios", "delete_scenarios"),
    ("POST", "/scenarios/reset", "reset_sequences"),
    ("DELETE", "/scenarios/{name}", "delete_scenario"),
    ("POST", "/settings", "update_settings"),
    ("PUT", "/recording", "start_recording"),
    ("GET", "/accounts", "list_accounts"),
    ("POST", "/clock", "advance_clock"),
    ("POST", "/reset", "reset"),
)


def add_admin_routes(app: web.Application, prefix: str = "") -> None:
    """Register the admin API under ``prefix`` (``""`` or ``/t/{tenant}``)."""
    base = prefix + "/__admin"
    for method, path, name in ROUTES:
        if method == "GET":
            app.router.add_get(base + path, _on_first_use(name))  # HEAD too, as for any GET
        else:
            app.router.add_route(method, base + path, _on_first_use(name))


def _on_first_use(name: str):
    handler = None

    async def admin_call(request: web.Request) -> web.StreamResponse:
        nonlocal handler
        if handler is None:
            from . import admin

            handler = admin.guarded(getattr(admin, name))
        return await handler(request)

    return admin_call


# A path under [/t/{tenant}]/__admin (a tenant's name is one segment).
_ADMIN_PATH = re.compile(r"(?:/t/[^/]+)?/__admin(?:/|$)")


async def wrong_method(request: web.Request) -> web.Response | None:
    """405, with ``Allow``, for an admin path called with a method it does not take; None for
    any other request (the API's paths answer 404 there, as OpenAI does)."""
    if not _ADMIN_PATH.match(request.path):
        return None
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if "/__admin" in resource.canonical:  # not /{profile}/..., for a profile "__admin"
            allowed.update((await resource.resolve(request))[1])
    if not allowed:
        return None
    from . import admin

    return admin.method_not_allowed(request, sorted(allowed))
