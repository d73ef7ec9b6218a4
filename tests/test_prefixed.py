"""Routes under ``/t/{tenant}`` and ``/{profile}`` (``server.prefixed``), resolved by aiohttp's
router as a request is: each prefix reaches the route the rest of the path reaches without it."""

from __future__ import annotations

import asyncio

import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from conftest import API_KEY, made

from mock_server.server.app import create_app
from mock_server.server.prefixed import PrefixedRoutes, prefixed_routes


@pytest.fixture(scope="module")
def app() -> web.Application:
    app = create_app()
    app.freeze()
    return app


def resolved(app: web.Application, method: str, path: str) -> web.UrlMappingMatchInfo:
    request = make_mocked_request(method, path, app=app)
    return asyncio.run(app.router.resolve(request))


def unprefixed_routes(app: web.Application):
    """Each route registered without a prefix, a path that reaches it, and whether it is the
    admin API's or the inspector's (served under a tenant's prefix, not a profile's)."""
    for resource in app.router.resources():
        if isinstance(resource, PrefixedRoutes) or resource.canonical == "/{tail}":
            continue
        path = resource.canonical.replace("{model}", "openai/gpt-4o").format_map(_Sample())
        for route in resource:
            yield route, path, path.startswith("/__admin")


class _Sample(dict):
    def __missing__(self, key: str) -> str:
        return f"some-{key}"


def test_every_route_is_reached_under_every_prefix_with_the_prefix_in_its_match(app):
    routes = list(unprefixed_routes(app))
    assert len(routes) > 80
    for route, path, admin in routes:
        prefixes = {"": {}, "/t/team-a": {"tenant": "team-a"}}
        if not admin:
            prefixes |= {
                "/groq": {"profile": "groq"},
                "/t/team-a/groq": {"tenant": "team-a", "profile": "groq"},
            }
        for prefix, named in prefixes.items():
            match = resolved(app, route.method, prefix + path)
            assert match.route is route, (route.method, prefix + path)
            assert named.items() <= match.items()


@pytest.mark.parametrize(
    ("method", "path", "canonical", "variables"),
    [
        # A plain path that takes POST alone; GET goes on to the pattern beside it.
        ("GET", "/t/a/v1/responses/input_tokens", "/v1/responses/{id}", {"id": "input_tokens"}),
        # aiohttp decodes "/" and "%" in a variable's value, a profile's name too.
        ("GET", "/x%2Fy/v1/models/a%2Fb", "/v1/models/{model}", {"profile": "x/y", "model": "a/b"}),
        ("DELETE", "/t/a/__admin/scenarios/x%25y", "/__admin/scenarios/{name}", {"name": "x%y"}),
        # No tenant: "%" in its name, an empty name, a second tenant; no tenant's prefix alone.
        ("POST", "/t/a%25b/v1/chat/completions", "/{tail}", {}),
        ("POST", "/t//v1/chat/completions", "/{tail}", {}),
        ("POST", "/t/a/t/b/v1/chat/completions", "/{tail}", {}),
        ("GET", "/t/a", "/{tail}", {}),
        # The admin API under a profile's prefix is no admin API.
        ("GET", "/groq/__admin/health", "/{tail}", {}),
        # "/t/v1/...": no tenant "v1" serves "/chat/completions", a profile "t" is named.
        ("POST", "/t/v1/chat/completions", "/v1/chat/completions", {"profile": "t"}),
    ],
)
def test_a_path_under_a_prefix_resolves_as_aiohttp_resolves_its_own_routes(
    app, method, path, canonical, variables
):
    match = resolved(app, method, path)
    assert match.route.resource.canonical == canonical
    assert variables.items() <= match.items()


def test_each_prefix_is_one_resource_not_a_pattern_per_route(app):
    prefixed = [r for r in app.router.resources() if "{tenant" in r.canonical]
    assert [r.canonical for r in prefixed] == ["/t/{tenant}"]
    assert sum("{profile" in r.canonical for r in app.router.resources()) == 1


@pytest.mark.parametrize(
    ("method", "path", "canonical", "variables"),
    [
        ("POST", "/mock/t/a/v1/chat/completions", "/v1/chat/completions", {"tenant": "a"}),
        ("GET", "/mock/t/a/groq/v1/models/x", "/v1/models/{model}", {"profile": "groq"}),
        ("GET", "/mock/groq/v1/models", "/v1/models", {"profile": "groq"}),
        ("GET", "/mock/t/a/__admin/health", "/__admin/health", {"tenant": "a"}),
    ],
)
def test_an_app_mounted_under_a_prefix_serves_its_prefixed_routes_there(
    method, path, canonical, variables
):
    parent = web.Application()
    parent.add_subapp("/mock", create_app())
    parent.freeze()
    match = resolved(parent, method, path)
    assert match.route.resource.canonical == "/mock" + canonical
    assert variables.items() <= match.items()


async def _one(request: web.Request) -> web.Response:
    return web.Response()


async def _two(request: web.Request) -> web.Response:
    return web.Response()


def test_a_table_tries_the_routes_in_the_order_aiohttp_does():
    """The longest literal start first, whatever the order registered; a path registered twice
    answers with its first resource's routes, a route for any method among them."""
    app = web.Application()
    app.router.add_get("/v1/{a}/x", _one)
    app.router.add_get("/v1/b/{c}", _two)
    app.router.add_route("*", "/v1/same", _one)
    app.router.add_get("/v1/other", _one)
    app.router.add_get("/v1/same", _two)
    for resource in prefixed_routes([], list(app.router.resources())):
        app.router.register_resource(resource)
    app.freeze()
    for method, path, handler in [
        ("GET", "/v1/b/x", _two),
        ("GET", "/v1/c/x", _one),
        ("GET", "/v1/same", _one),
        ("PATCH", "/v1/same", _one),
    ]:
        for prefix in ("", "/t/z", "/groq", "/t/z/groq"):
            assert resolved(app, method, prefix + path).route.handler is handler


def test_the_sdk_reaches_a_profile_under_a_tenant_as_that_tenant_and_profile(server, tenant):
    """Through the openai SDK: the tenant's scenario answers, the profile words the errors."""
    tenant.add({"name": "team", "match": {"last_user_message": "hi"}, "reply": {"content": "ours"}})
    sdk = made(openai.OpenAI(base_url=tenant.url("deepseek"), api_key=API_KEY, max_retries=0))
    ask = {"model": "deepseek-chat", "messages": [{"role": "user", "content": "hi"}]}
    assert sdk.chat.completions.create(**ask).choices[0].message.content == "ours"
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        sdk.chat.completions.create(**ask, temperature=3)
    assert caught.value.body["message"].startswith("Invalid Parameters: Invalid 'temperature'")
    assert [entry["profile"] for entry in tenant.requests()] == ["deepseek", "deepseek"]
    assert {model.owned_by for model in sdk.models.list().data} == {"deepseek"}
    elsewhere = made(openai.OpenAI(base_url=server.url + "/deepseek/v1", api_key=API_KEY))
    assert elsewhere.chat.completions.create(**ask).choices[0].message.content != "ours"
