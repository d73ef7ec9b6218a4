"""What the real-client tests share: a weather tool loop on a strict server.

Real clients of the Responses API, each against a real server: the Agents SDK, LangChain,
pydantic-ai and the Vercel AI SDK (node). They install more than the suite needs, so they run
in a CI stage of their own (``.ci/run``: ``CLIENT_TESTS=1 pytest tests/clients``),
which installs them at the versions in ``requirements.txt`` and ``vercel/package.json``; the
main run leaves this folder out (``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mock_server.testing.runner import MockServer

# A weather tool loop, in the Responses API: the model asks for the tool, then answers from
# its result.
WEATHER_LOOP = [
    {
        "name": "asks",
        "match": {"api": "responses", "last_message_role": "user", "tools": ["get_weather"]},
        "reply": {
            "tool_calls": [{"id": "call_w1", "name": "get_weather", "arguments": {"city": "Oslo"}}]
        },
    },
    {
        "name": "answers",
        "match": {
            "api": "responses",
            "tool_call_id": "call_w1",
            "tool_result": {"contains": "sunny"},
        },
        "reply": {"content": "It is sunny in Oslo."},
    },
]


@contextmanager
def weather_server(reasoning: str | None = None) -> Iterator[MockServer]:
    """A strict server that knows the loop and nothing else; ``reasoning``: what the model
    thinks before it asks for the tool (a reasoning item the client sends back)."""
    loop = WEATHER_LOOP
    if reasoning is not None:
        asks = {**loop[0], "reply": {**loop[0]["reply"], "reasoning_content": reasoning}}
        loop = [asks, *loop[1:]]
    with MockServer(strict=True) as server:
        server.add(loop)
        yield server


def answered(server: MockServer) -> list[tuple[str, str | None, int]]:
    return [(entry["api"], entry["scenario"], entry["status"]) for entry in server.requests]
