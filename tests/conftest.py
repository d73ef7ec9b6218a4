from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from mock_server.config import Settings
from mock_server.testing.runner import MockServer

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk-test-0123456789abcdef"
# A function tool get_weather(city: str) as the Agents SDK sends one: strict.
STRICT_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    with MockServer(Settings(port=0, seed=7)) as running:
        yield running


def profile_url(server: MockServer, profile: str | None, base: str = "/v1") -> str:
    return server.url + (f"/{profile}" if profile else "") + base


@pytest.fixture
def client_for(server):
    """An OpenAI SDK client pointed at one profile's URL, with retries off."""

    def make(profile: str | None = None, base: str = "/v1", **options) -> openai.OpenAI:
        options.setdefault("max_retries", 0)
        options.setdefault("api_key", API_KEY)
        return made(openai.OpenAI(base_url=profile_url(server, profile, base), **options))

    return make


def raw_request(
    server: MockServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> RawResponse:
    """One HTTP exchange over a fresh socket, for what an SDK would never send."""
    connection = http.client.HTTPConnection(server.settings.host, server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return RawResponse(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def wait_for(condition, seconds: float = 10.0, every: float = 0.02):
    """Poll ``condition`` until it returns something true, or fail at the deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"not within {seconds} s: {condition.__doc__ or condition}")


def auth_headers(content_type: str | None = "application/json") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def sse_data(raw: bytes) -> list[str]:
    """The ``data:`` payloads of an SSE body, checking OpenAI's framing on the way."""
    text = raw.decode("utf-8")
    assert text.endswith("\n\n"), "every event ends with a blank line"
    payloads = []
    for event in text[:-2].split("\n\n"):
        if event.startswith(":"):
            continue  # a comment, such as a keep-alive
        assert event.startswith("data: "), event
        assert "\n" not in event, "one data line per event"
        payloads.append(event[len("data: ") :])
    return payloads


def post_json(server, path: str, body: dict, headers: dict | None = None) -> RawResponse:
    return raw_request(
        server, "POST", path, json.dumps(body).encode(), {**auth_headers(), **(headers or {})}
    )


_MADE: list[openai.OpenAI] = []  # the SDK clients a test made: closed when it ends


@pytest.fixture(autouse=True)
def _close_clients():
    """Every sync SDK client a test made through ``made`` is closed after it, its sockets with
    it (else the garbage collector finds them open later, in some other test)."""
    yield
    while _MADE:
        _MADE.pop().close()


def made(client: openai.OpenAI) -> openai.OpenAI:
    """``client``, closed when the test ends."""
    _MADE.append(client)
    return client


@dataclass
class TenantHandle:
    """A fresh tenant on the session server, driven through the admin API."""

    server: MockServer
    name: str

    def url(self, profile: str | None = None, base: str = "/v1") -> str:
        return f"{self.server.url}/t/{self.name}" + (f"/{profile}" if profile else "") + base

    def client(self, profile: str | None = None, **options) -> openai.OpenAI:
        options.setdefault("max_retries", 0)
        return made(openai.OpenAI(base_url=self.url(profile), api_key=API_KEY, **options))

    def async_client(self, profile: str | None = None, **options) -> openai.AsyncOpenAI:
        options.setdefault("max_retries", 0)
        return openai.AsyncOpenAI(base_url=self.url(profile), api_key=API_KEY, **options)

    def admin(self, method: str, path: str, body: object = None) -> RawResponse:
        data = (
            None if body is None else (body if isinstance(body, (str, bytes)) else json.dumps(body))
        )
        if isinstance(data, str):
            data = data.encode()
        return raw_request(self.server, method, f"/t/{self.name}/__admin{path}", data)

    def add(self, spec: object) -> None:
        response = self.admin("POST", "/scenarios", spec)
        assert response.status == 201, response.body.decode()

    def requests(self, **query: str) -> list[dict]:
        suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        return self.admin("GET", "/requests" + suffix).json()["requests"]

    def post(
        self, body: dict, profile: str | None = None, headers: dict | None = None
    ) -> RawResponse:
        path = self.url(profile).removeprefix(self.server.url) + "/chat/completions"
        return post_json(self.server, path, body, headers)

    def saved_and_replayed(self, body: dict) -> str:
        """``body`` sent, its journal entry saved as a scenario ("save as scenario"), and that
        scenario shown to answer ``body`` again in a strict tenant of its own; its YAML."""
        self.post(body)
        (entry,) = self.requests()
        text = self.admin("GET", f"/requests/{entry['id']}/scenario").body.decode()
        again = TenantHandle(self.server, self.name + "-again")
        again.add(text)
        again.admin("POST", "/settings", {"strict": True})
        assert again.post(body).status == 200
        (replayed,) = again.requests()
        assert replayed["matched"] and f"name: {replayed['scenario']}" in text
        return text


@pytest.fixture
def tenant(server, request) -> TenantHandle:
    import re
    import uuid

    name = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:40] + "-" + uuid.uuid4().hex[:6]
    return TenantHandle(server, name)


# A user's test project, run by test_pytest_plugin.py through pytester (one test in it fails on
# purpose), not by this suite directly; and the real clients, which CI runs in a stage of their
# own (tests/clients/weather.py).
collect_ignore = ["plugin_project"]
if not os.environ.get("CLIENT_TESTS"):
    collect_ignore.append("clients")
