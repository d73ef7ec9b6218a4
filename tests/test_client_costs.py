"""What a client's schema, a reply's size and a template may cost: a few hundred bytes of
request that ask for a reply past ``max_response_bytes`` are refused before the reply is built
and keep nothing; the refusal says so in the project's words. Raw HTTP against real servers."""

from __future__ import annotations

import gc
import time
import tracemalloc
import uuid

import pytest
from conftest import RawResponse, auth_headers, post_json, raw_request

from mock_server.engine.templating import Template
from mock_server.errors import ApiError
from mock_server.testing.runner import MockServer

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three"}]}
CHAT = "/v1/chat/completions"


def error_of(response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.body
    return response.json()["error"]


def tool_forced(schema: dict) -> dict:
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    return {**ASK, "tools": [tool], "tool_choice": {"type": "function", "function": {"name": "f"}}}


def test_a_schema_whose_value_is_past_the_limit_is_refused_unbuilt_and_not_kept(server):
    """Thousands of long strings, asked for in a 400-byte schema: refused as too large a
    reply, quickly, and none of it kept in memory, though every schema is new."""
    strings = {"type": "array", "minItems": 20, "items": {"type": "string", "minLength": 10_000}}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        started = time.process_time()
        for _ in range(3):
            schema = {"type": "object", "description": uuid.uuid4().hex, "minProperties": 20}
            schema["additionalProperties"] = {"type": "array", "minItems": 20, "items": strings}
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": schema},
            }
            response = post_json(server, CHAT, {**ASK, "response_format": response_format})
            assert response.status == 400, response.body[:300]
            error = error_of(response)
            assert error["code"] == "response_too_large"
            assert error["message"].startswith("This request asks for a reply of about")
            assert "max_response_bytes" in error["message"]
        spent = time.process_time() - started
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 8_000_000, f"{kept:,} bytes kept"
    assert spent < 1, spent


def test_prefix_items_past_the_bound_are_named_as_such(server):
    schema = {
        "type": "object",
        "properties": {"a": {"type": "array", "prefixItems": [{"type": "string"}] * 500}},
        "required": ["a"],
    }
    schema["properties"]["a"]["items"] = False
    response = post_json(server, CHAT, tool_forced(schema))
    assert response.status == 400, response.body[:300]
    message = error_of(response)["message"]
    assert "prefixItems of 500 items is above the fallback's 64" in message, message
    assert "minItems" not in message, message


def test_many_choices_with_log_probabilities_are_refused_before_they_are_built(server):
    """n=128 echoes of 182 short words, each token with 20 alternatives: hundreds of
    megabytes in an indented body, from a 1.4 KB request."""
    words = " ".join(f"w{i}" for i in range(182))
    body = {**ASK, "messages": [{"role": "user", "content": words}], "n": 128}
    started = time.process_time()
    response = post_json(server, CHAT, {**body, "logprobs": True, "top_logprobs": 20})
    assert response.status == 400, len(response.body)
    error = error_of(response)
    assert error["code"] == "response_too_large"
    assert "n=128" in error["message"] and "top_logprobs=20" in error["message"]
    assert time.process_time() - started < 1


WORDS = " ".join(f"w{i}" for i in range(100))


@pytest.mark.parametrize(
    "indent, text",
    [(0, WORDS), (2, WORDS), (4, WORDS), (2, '"\\' * 100), (4, "é€😀" * 40)],
)
def test_the_size_estimate_bounds_log_probabilities_in_any_indentation(tmp_path, indent, text):
    """A reply the estimate lets through under ``max_response_bytes`` is never larger: a limit
    one byte under what an answer takes refuses the same request."""
    profile = tmp_path / "spaced.yaml"
    profile.write_text(f"name: spaced\nextends: openai\nbody_format: {{indent: {indent}}}\n")
    body = {**ASK, "messages": [{"role": "user", "content": text}], "n": 2}
    body |= {"logprobs": True, "top_logprobs": 20}
    path = "/spaced" + CHAT
    with MockServer(profile_files=[str(profile)]) as server:
        written = len(post_json(server, path, body).body)
    with MockServer(profile_files=[str(profile)], max_response_bytes=written - 1) as server:
        refused = post_json(server, path, body)
    assert refused.status == 400, written
    assert error_of(refused)["code"] == "response_too_large"


def test_a_join_stops_once_it_passes_the_bound(tenant):
    """150,000 items joined by a long separator pass the bound after some 16,000 of them: the
    rest are never written out. Shown without timing it: an item no JSON can hold, last in the
    list, is never reached (writing every item before sizing them met it first)."""
    tenant.add(
        {"name": "plain", "match": {"headers": {"x-join": "no"}}, "reply": {"content": "ok"}}
    )
    joined = "{{ request.messages | join('%s') }}" % ("-" * 1_000)
    tenant.add(
        {"name": "join", "match": {"headers": {"x-join": "yes"}}, "reply": {"content": joined}}
    )
    message = b'{"role":"user","content":""},'
    many = b'{"model":"gpt-4o","messages":[' + message * 149_999 + message[:-1] + b"]}"
    path = tenant.url().removeprefix(tenant.server.url) + "/chat/completions"

    def sent(join: str) -> RawResponse:
        return raw_request(tenant.server, "POST", path, many, auth_headers() | {"x-join": join})

    plain, refused = sent("no"), sent("yes")
    assert plain.status == 200, plain.body[:300]
    assert refused.status == 400, refused.body[:300]
    error = error_of(refused)
    assert error["code"] == "response_too_large", error
    assert error["message"].startswith("A reply template renders to more than"), error
    unwritable = [{"role": "user", "content": ""}] * 149_999 + [{"a set": {1, 2}}]
    with pytest.raises(ApiError, match="A reply template renders to more than"):
        Template(joined).render(lambda: {"request": {"messages": unwritable}})


def test_an_argument_too_deep_to_check_is_named_in_the_warning(tenant):
    """A scripted call's arguments nested 1,000 levels deep, against a strict recursive
    schema: the warning says how deep, never the validator's own exception."""
    tenant.add(
        {
            "name": "deep",
            "reply": {"tool_calls": [{"name": "f", "arguments": "{{ last_user_message }}"}]},
        }
    )
    node = {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/object"}]}
    nested = {"type": "object", "properties": {"a": {"$ref": "#/$defs/node"}}, "required": ["a"]}
    nested["additionalProperties"] = False
    schema = {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/node"}},
        "required": ["x"],
        "additionalProperties": False,
        "$defs": {"node": node, "object": nested},
    }
    deep = '{"x":' + '{"a":' * 1_000 + "null" + "}" * 1_001
    tool = {"type": "function", "function": {"name": "f", "parameters": schema, "strict": True}}
    response = tenant.post(
        {**ASK, "messages": [{"role": "user", "content": deep}], "tools": [tool]}
    )
    assert response.status == 200, response.body[:300]
    warning = response.headers["x-mock-scenario-warning"]
    assert "nests arrays and objects more than 128 levels deep" in warning, warning
    assert "recursion" not in warning, warning


def test_a_schemas_own_values_count_toward_the_bound_as_they_are_given(server):
    """64 x 64 copies of a 20,000-character const: 82 MB of JSON from a 20 KB schema, built
    whole before the size was looked at."""
    copies = {"type": "array", "minItems": 64, "items": {"const": "x" * 20_000}}
    schema = {
        "type": "object",
        "description": uuid.uuid4().hex,
        "properties": {"a": {"type": "array", "minItems": 64, "items": copies}},
        "required": ["a"],
    }
    tracemalloc.start()
    try:
        response = post_json(server, CHAT, tool_forced(schema))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status == 400 and error_of(response)["code"] == "response_too_large"
    assert peak < 30_000_000, f"{peak:,} bytes at the peak"
