"""The seam between the pipeline and an API: a minimal API defined here, and nothing else
changed, gets routes on every prefix of the profiles that name it, the shortcut, the guard,
validation in the profile's wording, scenarios, account rules and the journal."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import API_KEY

from mock_server.accounts.rules import Cost
from mock_server.config import Settings
from mock_server.engine.request_view import RequestView
from mock_server.errors import ApiError, ConfigError
from mock_server.jsonio import loads
from mock_server.reply import Message
from mock_server.server.apis import DEFAULT_APIS, Api, Encoded
from mock_server.server.app import create_app, server_options
from mock_server.server.connection import AppRunner
from mock_server.server.journal import entry
from mock_server.server.render import json_answer
from mock_server.server.state import STATE

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


class Echoed:
    """What the echo API wrote: an id, a time and usage."""

    def __init__(self, text: str) -> None:
        self.id, self.created, self.text = f"echo-{time.monotonic_ns()}", int(time.time()), text

    def usage(self) -> dict[str, Any]:
        return {"total_tokens": len(self.text.split())}

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "echo": self.text}


class Echo(Api):
    """Answers ``{"text": ...}`` with ``{"echo": ...}``; a scenario's content replaces it."""

    name = "echo"
    path = "/echo"

    def check(self, exchange, raw: bytes) -> dict[str, Any]:
        body = loads(raw)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise ApiError("400", "Missing required parameter: 'text'.", param="text")
        if boom := body.get("boom"):
            raise RuntimeError(boom)
        return body

    def view(self, exchange) -> RequestView:
        messages = [{"role": "user", "content": exchange.body["text"]}]
        return RequestView({"messages": messages}, exchange.incoming.headers, "echo")

    def cost(self, exchange) -> Cost:
        return Cost("echo", len(exchange.body["text"].split()), 0)

    def fallback(self, view: RequestView, max_bytes: int) -> Message:
        return Message(content=view.last_user_message.upper())

    def encode(self, exchange, messages, reply, headers, fault) -> Encoded:
        written = Echoed(messages[0].content or "")
        exchange.tenant.store.put(written.id, written.text, len(written.text))
        return Encoded(written, json_answer({"echo": written.text}, headers=headers))


@pytest.fixture
async def echo_server(tmp_path):
    profile = tmp_path / "echoing.yaml"
    profile.write_text(
        "name: echoing\nextends: openai\napis: [chat_completions, echo]\npaths: [/v1, /api/v1]\n"
    )
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(
        "scenarios:\n"
        "  - name: greeting\n"
        "    match: {last_user_message: {contains: hello}}\n"
        "    reply: {content: scripted}\n"
        "  - name: refused\n"
        "    match: {last_user_message: {contains: quota}}\n"
        "    reply: {status: 429}\n"
    )
    settings = Settings(port=0, profile_files=[str(profile)], scenarios=[str(scenarios)])
    app = create_app(settings, apis=(*DEFAULT_APIS, Echo()))
    runner = AppRunner(app, **server_options(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{runner.addresses[0][1]}") as client:
            yield app, client
    finally:
        await runner.cleanup()


async def post(client, path: str, body: Any) -> tuple[int, Any]:
    async with client.post(path, json=body, headers=HEADERS) as response:
        return response.status, await response.json()


@pytest.mark.parametrize(
    "path", ["/echoing/v1/echo", "/t/team/echoing/v1/echo", "/t/team/echoing/api/v1/echo"]
)
async def test_a_profile_that_names_the_api_serves_it_on_its_prefixes(echo_server, path):
    _, client = echo_server
    assert await post(client, path, {"text": "say this"}) == (200, {"echo": "SAY THIS"})
    assert await post(client, path, {"text": "hello there"}) == (200, {"echo": "scripted"})


async def test_profiles_that_do_not_name_it_answer_as_for_an_unknown_path(echo_server):
    _, client = echo_server
    for path in ("/v1/echo", "/gomodel/v1/echo", "/t/team/v1/echo"):
        status, body = await post(client, path, {"text": "hi"})
        assert status == 404
        assert body["error"]["message"] == f"Invalid URL (POST {path})"


async def test_validation_errors_and_crashes_are_the_profiles_answers(echo_server):
    _, client = echo_server
    status, body = await post(client, "/echoing/v1/echo", {"words": "hi"})
    assert status == 400
    assert body["error"] == {
        "message": "Missing required parameter: 'text'.",
        "type": "invalid_request_error",
        "param": "text",
        "code": None,
    }
    status, body = await post(client, "/echoing/v1/echo", {"text": "hi", "boom": "a bug"})
    assert (status, body["error"]["type"]) == (500, "server_error")
    status, body = await post(client, "/echoing/v1/echo", {"text": "over quota"})
    assert (status, body["error"]["type"]) == (429, "requests")
    async with client.post("/echoing/v1/echo", json={"text": "x"}) as response:
        assert response.status == 401  # the key is checked before the API sees the body


async def test_the_journal_and_the_shortcut_see_it(echo_server):
    app, client = echo_server
    for text in ("one two", "one two", "hello"):
        await post(client, "/t/log/echoing/v1/echo", {"text": text})
    journal = app[STATE].tenants.get("log").journal
    entries = [
        {name: entry(values)[name] for name in ("api", "status", "scenario")} for values in journal
    ]
    assert entries == [
        {"api": "echo", "status": 200, "scenario": None},
        {"api": "echo", "status": 200, "scenario": None},
        {"api": "echo", "status": 200, "scenario": "greeting"},
    ]
    shortcut = app[STATE].shortcut
    assert shortcut.off is not None or shortcut.answered == 3
    stored = app[STATE].tenants.get("log").store
    assert [stored.get(key) for key in stored] == ["ONE TWO", "ONE TWO", "scripted"]
    assert len(app[STATE].tenants.get("other").store) == 0
    async with client.post("/t/log/__admin/reset") as response:
        assert response.status == 200
    assert len(stored) == 0


def test_a_profile_naming_an_api_the_server_lacks_stops_start_up(tmp_path):
    profile = tmp_path / "echoing.yaml"
    profile.write_text("name: echoing\nextends: openai\napis: [chat_completions, echo]\n")
    with pytest.raises(ConfigError, match="profile 'echoing' names unknown API\\(s\\) 'echo'"):
        create_app(Settings(profile_files=[str(profile)]))
