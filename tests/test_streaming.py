"""OpenAI's SSE wire format: framing, delta order, usage chunk, n > 1, and real timing."""

from __future__ import annotations

import itertools
import json
import statistics
import time

import aiohttp
import pytest
from conftest import API_KEY, TenantHandle, sse_data
from test_conformance import VALIDATORS

from mock_server.config import Settings
from mock_server.testing.runner import MockServer

WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object"}},
}
SEARCH = {"type": "function", "function": {"name": "googleSearch"}}
ASK = [{"role": "user", "content": "weather in Beijing and Shanghai?"}]
BODIES = {
    None: {"model": "gpt-4o", "messages": ASK, "tools": [WEATHER]},
    "openai": {"model": "gpt-4o", "messages": ASK, "tools": [WEATHER]},
    "deepseek": {"model": "text", "messages": ASK, "tools": [WEATHER]},
    "gomodel": {"model": "gpt-4o-mini", "messages": ASK, "tools": [WEATHER]},
    "gemini": {"model": "gemini-2.5-flash", "messages": ASK, "tools": [WEATHER]},
    "gemini-tools": {"model": "gemini-3.1-flash-lite-preview", "messages": ASK, "tools": [SEARCH]},
}


def assemble(raw: bytes) -> dict:
    """Rebuild a chat.completion from a raw SSE body, as a careful client would."""
    payloads = sse_data(raw)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    choices: dict[int, dict] = {}
    usage = None
    for chunk in chunks:
        VALIDATORS["chat.completion.chunk"].validate(chunk)
        usage = chunk.get("usage") or usage
        for part in chunk["choices"]:
            choice = choices.setdefault(
                part["index"],
                {"content": None, "reasoning_content": None, "refusal": None, "tool_calls": {}},
            )
            delta = part["delta"]
            for field in ("content", "reasoning_content", "refusal"):
                if delta.get(field):
                    choice[field] = (choice[field] or "") + delta[field]
            for call in delta.get("tool_calls", ()):
                slot = choice["tool_calls"].setdefault(call["index"], {"arguments": ""})
                if "id" in call:
                    assert "id" not in slot, "id only in the first delta of a call"
                    slot.update(id=call["id"], name=call["function"]["name"])
                slot["arguments"] += call["function"].get("arguments", "")
            if part["finish_reason"]:
                choice["finish_reason"] = part["finish_reason"]
    return {"choices": [choices[i] for i in sorted(choices)], "usage": usage}


def from_body(body: dict) -> dict:
    choices = []
    for choice in body["choices"]:
        message = choice["message"]
        calls = {
            i: {
                "id": c["id"],
                "name": c["function"]["name"],
                "arguments": c["function"]["arguments"],
            }
            for i, c in enumerate(message.get("tool_calls", ()))
        }
        choices.append(
            {
                "content": message["content"] or None,
                "reasoning_content": message.get("reasoning_content"),
                "refusal": message.get("refusal"),
                "tool_calls": calls,
                "finish_reason": choice["finish_reason"],
            }
        )
    return {"choices": choices, "usage": body["usage"]}


def without_ids(result: dict) -> dict:
    for choice in result["choices"]:
        for call in choice["tool_calls"].values():
            call.pop("id", None)
    return result


def bundled_scenarios(server) -> list[tuple[str, str | None]]:
    listing = TenantHandle(server, "listing").admin("GET", "/scenarios").json()["scenarios"]
    return [(s["name"], s["profile"]) for s in listing]


def test_every_bundled_scenario_streams_what_it_answers(server):
    compared = 0
    for name, profile in bundled_scenarios(server):
        plain_tenant = TenantHandle(server, f"plain-{name}")
        stream_tenant = TenantHandle(server, f"stream-{name}")
        body = BODIES[profile]
        headers = {"X-Mock-Scenario": name}
        for _ in range(2):  # both steps of two-step sequences
            plain = plain_tenant.post(body, profile, headers)
            streamed = stream_tenant.post(
                {**body, "stream": True, "stream_options": {"include_usage": True}},
                profile,
                headers,
            )
            assert plain.status == streamed.status, name
            if plain.status != 200:
                assert plain.json() == streamed.json()
                continue
            expected = from_body(plain.json())
            assert without_ids(assemble(streamed.body)) == without_ids(expected), name
            compared += 1
    assert compared >= 10


def test_delta_order_role_first_then_tool_call_header_then_fragments(tenant):
    tenant.add(
        {
            "name": "two-calls",
            "reply": {
                "tool_calls": [
                    {"name": "get_weather", "arguments": {"location": "Beijing"}},
                    {"name": "get_weather", "arguments": {"location": "Shanghai"}},
                ]
            },
            "priority": 10,
        }
    )
    raw = tenant.post({**BODIES[None], "stream": True}).body
    deltas = [json.loads(p)["choices"][0]["delta"] for p in sse_data(raw)[:-1]]
    # OpenAI opens an answer of tool calls with the role and the first call in one delta, as a
    # capture of gpt-4o-2024-08-06 shows: {"role":"assistant","content":null,"tool_calls":[...],
    # "refusal":null}.
    assert list(deltas[0]) == ["role", "content", "tool_calls", "refusal"]
    assert deltas[0]["content"] is None and deltas[0]["refusal"] is None
    first_call = deltas[0]["tool_calls"][0]
    assert first_call["index"] == 0 and first_call["function"]["arguments"] == ""
    assert set(first_call) == {"index", "id", "type", "function"}
    fragments = [d["tool_calls"][0] for d in deltas[1:] if d]
    assert all(set(f) == {"index", "function"} for f in fragments if "id" not in f)
    indexes = [d["tool_calls"][0]["index"] for d in deltas if d]
    assert indexes == sorted(indexes) and set(indexes) == {0, 1}
    assert deltas[-1] == {}


def test_usage_null_only_with_include_usage(tenant):
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Say things"}],
        "stream": True,
    }
    plain = [json.loads(p) for p in sse_data(tenant.post(body).body)[:-1]]
    assert all("usage" not in chunk for chunk in plain)
    body["stream_options"] = {"include_usage": True}
    with_usage = [json.loads(p) for p in sse_data(tenant.post(body).body)[:-1]]
    assert all(chunk["usage"] is None for chunk in with_usage[:-1])
    assert with_usage[-1]["choices"] == []


def test_exact_bytes_of_a_text_stream(tenant):
    tenant.add(
        {
            "name": "hi",
            "priority": 10,
            "reply": {"content": "Hi there", "stream": {"chunk": "word"}},
        }
    )
    raw = tenant.post({"model": "gpt-4o", "messages": ASK, "stream": True}).body
    chunks = [json.loads(p) for p in sse_data(raw)[:-1]]
    first = chunks[0]
    # The alias answers as its dated snapshot; each chunk ends with OpenAI's obfuscation padding.
    head = (
        f'"id":"{first["id"]}","object":"chat.completion.chunk","created":{first["created"]},'
        f'"model":"gpt-4o-2024-08-06","service_tier":"default","system_fingerprint":"{first["system_fingerprint"]}"'
    )
    pads = [chunk["obfuscation"] for chunk in chunks]
    assert all(pads) and list(chunks[0])[-1] == "obfuscation"
    choice = '"logprobs":null,"finish_reason":null}],"obfuscation":"%s"}'
    assert raw.decode() == (
        f'data: {{{head},"choices":[{{"index":0,"delta":{{"role":"assistant","content":"","refusal":null}},{choice % pads[0]}\n\n'
        f'data: {{{head},"choices":[{{"index":0,"delta":{{"content":"Hi"}},{choice % pads[1]}\n\n'
        f'data: {{{head},"choices":[{{"index":0,"delta":{{"content":" there"}},{choice % pads[2]}\n\n'
        f'data: {{{head},"choices":[{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":"stop"}}],"obfuscation":"{pads[3]}"}}\n\n'
        "data: [DONE]\n\n"
    )


@pytest.mark.parametrize(
    ("shape", "pieces"),
    [
        ({"chunk": "char"}, ["a", "b", " ", "c"]),
        ({"chunk": "word"}, ["ab", " c"]),
        ({"chunk": "char", "size": 3}, ["ab ", "c"]),
        ({"chunk": "token"}, ["ab", " c"]),
    ],
)
def test_chunking(tenant, shape, pieces):
    tenant.add({"name": "c", "priority": 10, "reply": {"content": "ab c", "stream": shape}})
    raw = tenant.post({"model": "gpt-4o", "messages": ASK, "stream": True}).body
    deltas = [json.loads(p)["choices"][0]["delta"] for p in sse_data(raw)[1:-2]]
    assert [d["content"] for d in deltas] == pieces


def test_sdk_stream_helper_and_n_two(tenant):
    tenant.add(
        {
            "name": "n2",
            "priority": 10,
            "reply": {"choices": [{"content": "left"}, {"content": "right"}]},
        }
    )
    client = tenant.client()
    with client.chat.completions.stream(model="gpt-4o", messages=ASK, n=2) as stream:
        final = stream.get_final_completion()
    assert [c.message.content for c in final.choices] == ["left", "right"]
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=ASK, n=2, stream=True))
    assert [c.choices[0].index for c in chunks[:2]] == [0, 1]  # interleaved


def test_sdk_stream_helper_parallel_tool_calls(tenant):
    client = tenant.client()
    with client.chat.completions.stream(model="gpt-4o", messages=ASK, tools=[WEATHER]) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [json.loads(c.function.arguments)["location"] for c in calls] == ["Beijing", "Shanghai"]
    assert final.choices[0].finish_reason == "tool_calls"


async def _arrivals(url: str, body: dict) -> list[float]:
    """Seconds from sending to each SSE event's arrival."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        began = time.monotonic()
        async with session.post(url, json=body) as response:
            arrivals = []
            buffer = b""
            async for data in response.content.iter_any():
                buffer += data
                while b"\n\n" in buffer:
                    _, buffer = buffer.split(b"\n\n", 1)
                    arrivals.append(time.monotonic() - began)
            return arrivals


@pytest.mark.asyncio
async def test_time_to_first_chunk_and_interval(tenant):
    tenant.add(
        {
            "name": "paced",
            "priority": 10,
            "reply": {
                "content": "one two three four five six",
                "latency": {"ttft_ms": 250, "chunk_interval_ms": 60},
            },
        }
    )
    arrivals = await _arrivals(
        tenant.url() + "/chat/completions", {"model": "gpt-4o", "messages": ASK, "stream": True}
    )
    # The role comes with the first word, after the first-token delay; the finish with the last.
    assert 0.24 <= arrivals[0] < 0.6 and arrivals[1] - arrivals[0] < 0.045
    gaps = [b - a for a, b in itertools.pairwise(arrivals[1:-1])]
    assert 0.045 <= statistics.median(gaps) <= 0.12
    assert arrivals[-1] >= 0.25 + 0.06 * 5 - 0.02


@pytest.mark.asyncio
async def test_a_response_stream_opens_at_once_and_its_first_word_comes_after_the_delay(tenant):
    """The Responses API's ``created`` and ``in_progress`` go out as the request is taken;
    the output begins after the first-token delay, each word an interval after the last."""
    reply = {"content": "one two three", "latency": {"ttft_ms": 400, "chunk_interval_ms": 60}}
    tenant.add({"name": "paced", "priority": 10, "reply": reply})
    arrivals = await _arrivals(
        tenant.url() + "/responses", {"model": "gpt-4o", "input": "hi", "stream": True}
    )
    _, in_progress, item_added, part_added, first_word = arrivals[:5]
    assert in_progress < 0.3 and 0.39 <= item_added <= part_added <= first_word < 0.8
    assert arrivals[-1] - first_word >= 0.06 * 2 - 0.02


@pytest.mark.asyncio
async def test_tokens_per_second(tenant):
    tenant.add(
        {
            "name": "tps",
            "priority": 10,
            "reply": {"content": "a b c d e f g h i j", "latency": {"tokens_per_second": 40}},
        }
    )
    arrivals = await _arrivals(
        tenant.url() + "/chat/completions", {"model": "gpt-4o", "messages": ASK, "stream": True}
    )
    assert 0.2 <= arrivals[-1] < 0.7  # ten tokens at 40/s


def test_keepalive_comments_while_waiting_for_the_first_token():
    with MockServer(Settings(port=0, keepalive_interval=0.05)) as server:
        handle = TenantHandle(server, "keepalive")
        handle.add({"name": "slow", "reply": {"content": "ok", "latency": {"ttft_ms": 300}}})
        body = {"model": "deepseek-chat", "messages": ASK, "stream": True}
        raw = handle.post(body, profile="deepseek").body
        assert raw.startswith(b": keep-alive\n\n")
        assert raw.count(b": keep-alive\n\n") >= 3
        assert assemble(raw)["choices"][0]["content"] == "ok"
        openai_raw = handle.post({**body, "model": "gpt-4o"}).body
        assert b"keep-alive" not in openai_raw


def test_a_refusal_streams_as_openai_streams_one(tenant):
    """The first delta holds ``"content":null,"refusal":""``, and with logprobs asked for each
    piece has its own under ``refusal`` (openai-python's recorded stream ``569c877e….bin``);
    the SDK's helper puts together what the plain answer says."""
    refusal = "I can't help with that."
    tenant.add({"name": "no", "priority": 10, "reply": {"content": None, "refusal": refusal}})
    body = {"model": "gpt-4o", "messages": ASK, "stream": True, "logprobs": True}
    chunks = [json.loads(p)["choices"][0] for p in sse_data(tenant.post(body).body)[:-1]]
    assert chunks[0]["delta"] == {"role": "assistant", "content": None, "refusal": ""}
    assert chunks[0]["logprobs"] == {"content": None, "refusal": []}
    pieces = chunks[1:-1]
    assert "".join(c["delta"]["refusal"] for c in pieces) == refusal
    for chunk in pieces:
        assert chunk["logprobs"]["content"] is None
        assert [e["token"] for e in chunk["logprobs"]["refusal"]] == [chunk["delta"]["refusal"]]
    with tenant.client().chat.completions.stream(model="gpt-4o", messages=ASK) as stream:
        streamed = stream.get_final_completion().choices[0].message
    plain = tenant.client().chat.completions.create(model="gpt-4o", messages=ASK)
    assert (streamed.content, streamed.refusal) == (None, refusal)
    assert (plain.choices[0].message.content, plain.choices[0].message.refusal) == (None, refusal)


def test_a_text_with_tool_calls_opens_as_a_text(tenant):
    """The first delta says ``"content":""`` when text comes first, tool calls after it;
    ``null`` only when the answer is tool calls alone (docs/streaming.md)."""
    call = {"id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}
    tenant.add(
        {"name": "both", "priority": 10, "reply": {"content": "Let me look.", "tool_calls": [call]}}
    )
    tenant.add(
        {
            "name": "calls",
            "priority": 20,
            "match": {"last_user_message": "calls"},
            "reply": {"tool_calls": [call]},
        }
    )
    body = {"model": "gpt-4o", "messages": ASK, "stream": True}
    both = [json.loads(p)["choices"][0]["delta"] for p in sse_data(tenant.post(body).body)[:-1]]
    assert both[0] == {"role": "assistant", "content": "", "refusal": None}
    alone = {**body, "messages": [{"role": "user", "content": "calls"}]}
    first = json.loads(sse_data(tenant.post(alone).body)[0])["choices"][0]["delta"]
    assert first["content"] is None and first["tool_calls"][0]["id"] == "call_1"


def test_the_first_delta_opens_the_logprobs_of_a_text(tenant):
    """``{"content":[],"refusal":null}`` on the role's delta (``83b060ba….bin``)."""
    tenant.add({"name": "hi", "priority": 10, "reply": {"content": "Foo!"}})
    body = {"model": "gpt-4o", "messages": ASK, "stream": True, "logprobs": True}
    chunks = [json.loads(p)["choices"][0] for p in sse_data(tenant.post(body).body)[:-1]]
    assert chunks[0]["logprobs"] == {"content": [], "refusal": None}
    assert all(c["logprobs"]["refusal"] is None for c in chunks[1:-1])
    assert chunks[-1]["logprobs"] is None


@pytest.mark.parametrize(
    ("asked", "served"),
    [(None, "default"), ("auto", "default"), ("flex", "flex"), ("fast", "priority")],
)
def test_the_answer_names_the_tier_that_served_it(tenant, asked, served):
    """``fast`` is served as ``priority``, ``auto`` as ``default`` (the spec's ``service_tier``);
    the same request with another tier is not answered from the body kept for the first."""
    tier = {} if asked is None else {"service_tier": asked}
    for _ in range(3):  # kept bodies answer from the third time on
        default = tenant.post({"model": "gpt-4o", "messages": ASK}).json()
        body = tenant.post({"model": "gpt-4o", "messages": ASK, **tier}).json()
        assert (default["service_tier"], body["service_tier"]) == ("default", served)
    chunks = tenant.client().chat.completions.create(
        model="gpt-4o", messages=ASK, stream=True, **tier
    )
    assert {chunk.service_tier for chunk in chunks} == {served}
