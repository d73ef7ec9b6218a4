"""What the server sends validates against the response schemas in ``schemas/responses``."""

from __future__ import annotations

import json

import pytest
from conftest import post_json, sse_data
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mock_server.bundled import bundled

RESPONSES = bundled("schemas") / "responses"


def _validators() -> dict[str, Draft202012Validator]:
    documents = {p.name: json.loads(p.read_text()) for p in RESPONSES.glob("*.json")}
    registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc)) for doc in documents.values()
    )
    return {
        name.removesuffix(".json"): Draft202012Validator(doc, registry=registry)
        for name, doc in documents.items()
    }


VALIDATORS = _validators()
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer", "minimum": 1},
                },
                "required": ["city"],
            },
        },
    }
]
REQUESTS = {
    "text": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello there"}]},
    "n2": {"model": "gpt-4o", "n": 2, "messages": [{"role": "user", "content": "Hi"}]},
    "tool": {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Weather?"}],
        "tools": TOOLS,
        "tool_choice": "required",
    },
    "length": {
        "model": "gpt-4o",
        "max_tokens": 2,
        "messages": [{"role": "user", "content": "a b c d e"}],
    },
}
PROFILES = ["openai", "deepseek", "gomodel", "gemini"]


def test_schema_files_are_valid_json_schemas():
    for path in [*RESPONSES.glob("*.json"), *bundled("schemas").glob("*.json")]:
        Draft202012Validator.check_schema(json.loads(path.read_text()))


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_completion_conforms(server, profile, name):
    if profile == "gemini" and name == "tool":
        pytest.skip("covered by the openai-shaped tool case")
    response = post_json(server, f"/{profile}/v1/chat/completions", REQUESTS[name])
    assert response.status == 200, response.body
    body = response.json()
    VALIDATORS["chat.completion"].validate(body)
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_stream_chunks_conform(server, profile, name):
    body = {**REQUESTS[name], "stream": True, "stream_options": {"include_usage": True}}
    response = post_json(server, f"/{profile}/v1/chat/completions", body)
    assert response.status == 200, response.body
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    payloads = sse_data(response.body)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    for chunk in chunks:
        VALIDATORS["chat.completion.chunk"].validate(chunk)
    assert {(c["id"], c["created"], c["model"], c.get("system_fingerprint")) for c in chunks} == {
        (
            chunks[0]["id"],
            chunks[0]["created"],
            chunks[0]["model"],
            chunks[0].get("system_fingerprint"),
        )
    }
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["usage"]["total_tokens"] > 0
    if profile == "deepseek":  # the usage rides on the chunk that finishes the stream
        assert chunks[-1]["choices"][-1]["finish_reason"] is not None
    else:  # a chunk of its own, with no choices
        assert chunks[-1]["choices"] == []


def test_error_bodies_conform(server):
    for body in ({}, {"model": "x", "messages": []}, {"model": "x", "messages": [], "foo": 1}):
        response = post_json(server, "/v1/chat/completions", body)
        assert response.status == 400
        VALIDATORS["error"].validate(response.json())


def test_ids_and_fingerprint(server):
    body = post_json(server, "/v1/chat/completions", REQUESTS["tool"]).json()
    assert len(body["id"]) == len("chatcmpl-") + 29
    call = body["choices"][0]["message"]["tool_calls"][0]
    assert call["id"].startswith("call_")
    assert json.loads(call["function"]["arguments"]) == {"city": "example", "days": 1}
    assert body["system_fingerprint"].startswith("fp_")
