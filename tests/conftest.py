from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from mock_server.config import Settings
from mock_server.runner import MockServer

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk-test-0123456789abcdef"


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
        return openai.OpenAI(base_url=profile_url(server, profile, base), **options)

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
