"""The admin API's routes, registered without loading the API: ``server.admin`` is imported on
the first admin call, so a server nobody administers never pays for it at start-up."""

from __future__ import annotations

from aiohttp import web

from .prefixed import RouteTable

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


# The routes under [/t/{tenant}]/__admin, the inspector's too (for ``wrong_method``).
ADMIN_ROUTES = web.AppKey("admin_routes", RouteTable)


def add_admin_routes(app: web.Application) -> None:
    """Register the admin API (``server.prefixed`` serves it under a tenant's prefix too)."""
    base = "/__admin"
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


async def wrong_method(request: web.Request) -> web.Response | None:
    """405, with ``Allow``, for an admin path called with a method it does not take; None for
    any other request (the API's paths answer 404 there, as OpenAI does)."""
    routes = request.app[ADMIN_ROUTES]
    _, allowed = routes.match(request.rel_url.path_safe, request.method, {})
    if not allowed:
        return None
    from . import admin

    return admin.method_not_allowed(request, sorted(allowed))
