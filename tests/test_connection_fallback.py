"""The connection shortcut can never take the server down: where aiohttp's internals are not
what it expects, or the application adds middlewares or response hooks, every request goes
through aiohttp's public path; once an answer is written, a later failure is logged and
counted, never answered a second time."""

from __future__ import annotations

import logging
import socket
import time

import aiohttp
import openai
import pytest
from aiohttp import web
from conftest import API_KEY, raw_request
from test_connection import read_response, request_bytes

from mock_server.config import Settings
from mock_server.server import connection
from mock_server.server.app import create_app, server_options
from mock_server.server.connection import AppRunner, refusal, release
from mock_server.server.state import STATE
from mock_server.testing.runner import MockServer


def refusal_of(app: web.Application) -> str | None:
    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        raise AssertionError("never called")

    return refusal(app, web.Server(handler))


TESTED = release(aiohttp.__version__) >= connection.TESTED_SINCE


async def test_the_shortcut_serves_a_plain_app_and_refuses_what_it_cannot():
    plain = refusal_of(create_app(Settings()))
    assert plain is None if TESTED else plain.startswith(f"aiohttp {aiohttp.__version__} is older")
    assert refusal_of(create_app(Settings(shortcut=False))) == "turned off in the settings"
    hooked = create_app(Settings())
    hooked.on_response_prepare.append(lambda request, response: None)
    assert refusal_of(hooked) == "the application has on_response_prepare handlers"


async def test_an_aiohttp_it_is_not_tested_on_is_served_the_public_way(monkeypatch):
    monkeypatch.setattr(aiohttp, "__version__", "3.14.1")
    assert refusal_of(create_app(Settings())) == "aiohttp 3.14.1 is older than 3.14.4"


async def test_middlewares_see_every_request():
    seen = []

    @web.middleware
    async def note(request: web.Request, handler):
        seen.append(request.path)
        return await handler(request)

    settings = Settings(port=0)
    app = create_app(settings)
    app.middlewares.append(note)
    runner = AppRunner(app, **server_options(settings))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/chat/completions"
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        headers = {"Authorization": f"Bearer {API_KEY}"}
        async with aiohttp.ClientSession() as session:
            for _ in range(3):
                async with session.post(url, json=body, headers=headers) as response:
                    assert response.status == 200
    finally:
        await runner.cleanup()
    assert seen == ["/v1/chat/completions"] * 3
    assert app[STATE].shortcut.off == "the application has middlewares"


def test_a_failing_probe_leaves_every_request_to_aiohttp(monkeypatch, caplog):
    monkeypatch.setattr(connection, "_HANDLER_NAMES", (*connection._HANDLER_NAMES, "_gone"))
    caplog.set_level(logging.INFO, logger="mock_server")
    with MockServer() as server:
        status = server.app[STATE].shortcut
        if TESTED:  # an older aiohttp is refused before the probe
            assert status.off == f"aiohttp {aiohttp.__version__} lacks _gone"
        said = [r.getMessage() for r in caplog.records if "shortcut" in r.getMessage()]
        assert said == [f"connection shortcut off: {status.off}"]
        client = openai.OpenAI(base_url=server.base_url, api_key=API_KEY, max_retries=0)
        with client:
            exercise(client)
        assert raw_request(server, "GET", "/__admin/health").json()["shortcut"] == {
            "on": False, "off": status.off, "answered": 0, "failures": 0,
        }  # fmt: skip


def exercise(client: openai.OpenAI) -> None:
    """A reply, a stream, a refusal and the model list, through the SDK."""
    ask = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}
    assert client.chat.completions.create(**ask).choices[0].message.content
    chunks = list(client.chat.completions.create(**ask, stream=True))
    assert chunks[-1].choices[0].finish_reason == "stop"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o", messages=[])
    assert client.models.list().data


@pytest.fixture
def shortcut_server():
    with MockServer() as server:
        if server.app[STATE].shortcut.off is not None:
            pytest.skip(f"the connection shortcut is off: {server.app[STATE].shortcut.off}")
        yield server


def test_a_failure_after_the_answer_is_written_is_not_answered_again(shortcut_server, caplog):
    server, state = shortcut_server, shortcut_server.app[STATE]
    with server.tenant("after-write") as tenant:
        one_answer_each(server, state, tenant, caplog)


def one_answer_each(server: MockServer, state, tenant, caplog) -> None:
    tenant.add({"name": "seq", "sequence": [{"content": word} for word in ("one", "two", "3")]})

    def broken_log(exchange) -> None:
        raise RuntimeError("the log is full")

    state.request_log = broken_log
    path = f"/t/{tenant.tenant}/v1/chat/completions"
    head, data = request_bytes(path)
    with socket.create_connection((server.settings.host, server.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        answers = []
        for _ in range(3):
            sock.sendall(head + data)
            answers.append(read_response(reader))
    assert [status for status, _, _ in answers] == ["HTTP/1.1 200 OK"] * 3
    contents = [openai.types.chat.ChatCompletion.model_validate_json(body) for *_, body in answers]
    assert [c.choices[0].message.content for c in contents] == ["one", "two", "3"]
    deadline = time.monotonic() + 5  # the last failure comes just after its answer went out
    while state.shortcut.failures < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (state.shortcut.answered, state.shortcut.failures) == (3, 3)
    assert len(tenant.requests) == 3  # journaled before the log line failed
    failures = [r for r in caplog.records if "answered, then failed" in r.getMessage()]
    assert len(failures) == 3


def test_a_connection_whose_state_is_in_doubt_is_closed(shortcut_server, monkeypatch):
    def broken_count(self) -> None:
        raise RuntimeError("lost count")

    monkeypatch.setattr(connection.Connection, "_answered", broken_count)
    head, data = request_bytes("/v1/chat/completions")
    with socket.create_connection(
        (shortcut_server.settings.host, shortcut_server.port), timeout=10
    ) as sock:
        sock.sendall((head + data) * 2)  # two pipelined requests
        reader = sock.makefile("rb")
        # The answer waiting in the outbox is written before the close (``force_close``).
        assert read_response(reader)[0] == "HTTP/1.1 200 OK"
        assert reader.read() == b""  # closed after exactly one answer
    assert shortcut_server.app[STATE].shortcut.failures == 1
