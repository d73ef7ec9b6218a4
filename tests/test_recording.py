"""Recording: a second mock-server on its own socket plays the provider; the recording server
forwards what no scenario answers, relays it, writes scenarios; with the upstream stopped, a
server on those files answers the same requests the same way."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openai
import pytest
from conftest import made
from processes import serving

from mock_server.config import build_settings
from mock_server.engine.loading import load_paths
from mock_server.errors import ConfigError
from mock_server.testing.runner import MockServer
from mock_server.testing.tenant_handle import AdminError, TenantHandle
from mock_server.yamlio import load_yaml

pytest_plugins = ["pytester"]
CLIENT_KEY = "sk-test-recording-key"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
UPSTREAM_SCENARIOS = """
scenarios:
  - name: text
    match: {last_user_message: {equals: "Say hello"}}
    reply:
      content: "Hello from upstream! {{ not a template }}"
      verbatim: true
      usage: {prompt_tokens: 11, completion_tokens: 7, total_tokens: 18}
  - name: reasoning-stream
    profile: deepseek
    match: {last_user_message: {equals: "Think, then answer"}}
    reply:
      reasoning_content: "The user wants an answer after thought."
      content: "Forty-two, after some thought."
  - name: parallel-tools
    match: {last_user_message: {equals: "Weather in Paris and Rome?"}}
    reply:
      tool_calls:
        - {name: get_weather, arguments: {city: Paris}}
        - {name: get_weather, arguments: {city: Rome}}
  - name: loop-step-1
    match: {last_user_message: {equals: "Plan my walk in Oslo"}, last_message_role: user}
    reply:
      tool_calls: [{name: get_weather, arguments: {city: Oslo}}]
  - name: loop-step-2
    match: {last_message_role: tool, tool_result: {contains: "sunny"}}
    reply:
      tool_calls: [{name: get_time, arguments: '{"city": "Oslo"}'}]
  - name: loop-step-3
    match: {last_message_role: tool, tool_result: {contains: "10:00"}}
    reply: {content: "Walk at 10:00: it is sunny."}
  - name: filtered
    match: {last_user_message: {equals: "Say something unsafe"}}
    reply: {content: "I will not", finish_reason: content_filter}
  - name: breaks-off
    match: {last_user_message: {equals: "Break off"}}
    reply:
      content: "one two three four five"
      stream: {chunk: word, size: 1}
      fault: {type: disconnect, after_chunks: 2}
  - name: two-choices
    match: {last_user_message: {equals: "Give me two options"}}
    reply:
      choices: [{content: "Option A"}, {content: "Option B"}]
  - name: rate-limited
    match: {last_user_message: {equals: "Too fast"}}
    reply:
      status: 429
      headers: {retry-after-ms: "1500", x-ratelimit-remaining-requests: "0"}
      error: {message: "Rate limit reached for requests", code: rate_limit_exceeded}
  - name: bad-param
    match: {last_user_message: {equals: "Bad temperature"}}
    reply:
      status: 400
      error: {message: "Invalid 'temperature': too high.", param: temperature, code: invalid_value}
  - name: paced
    match: {last_user_message: {equals: "Stream slowly"}}
    reply:
      content: "one two three four five six seven eight nine ten"
      stream: {chunk: word, size: 1}
      latency: {ttft_ms: 100, chunk_interval_ms: 100}
  - name: changing
    match: {last_user_message: {equals: "What changed?"}}
    sequence:
      - content: "first answer"
      - content: "second answer"
  - name: log-in
    match: {last_user_message: {contains: "to log in"}}
    reply: {content: "Logged in."}
  - name: echo
    reply:
      content: "model={{ model }} system={{ request.messages[0].content }}"
  - name: slow
    match: {last_user_message: {equals: "Take your time"}}
    reply: {content: late, latency: {delay_ms: 3000}}
"""


@pytest.fixture
def upstream():
    with MockServer(seed=3) as server:
        server.add(UPSTREAM_SCENARIOS)
        yield server


def upstreams(server: MockServer) -> list[str]:
    return [f"{server.url}/v1", f"deepseek={server.url}/deepseek/v1"]


def client(server: MockServer, profile: str = "", **options) -> openai.OpenAI:
    options.setdefault("max_retries", 0)
    base = server.url + (f"/{profile}" if profile else "") + "/v1"
    return made(openai.OpenAI(base_url=base, api_key=options.pop("api_key", CLIENT_KEY), **options))


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def lint(*paths: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "check", *map(str, paths)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def every_kind(server: MockServer) -> dict:
    """Send each kind of exchange; what the client saw, comparable across servers."""
    openai_client, deepseek = client(server), client(server, "deepseek")
    seen: dict = {}
    text = openai_client.chat.completions.create(model="gpt-4o", messages=user("Say hello"))
    seen["text"] = (text.choices[0].message.content, text.choices[0].finish_reason, text.usage)
    chunks = list(
        deepseek.chat.completions.create(
            model="deepseek-reasoner",
            messages=user("Think, then answer"),
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    seen["stream"] = (
        "".join(getattr(d, "reasoning_content", None) or "" for d in deltas),
        "".join(d.content or "" for d in deltas),
        [c.choices[0].finish_reason for c in chunks if c.choices][-1],
        chunks[-1].usage,
    )
    tools = openai_client.chat.completions.create(
        model="gpt-4o", messages=user("Weather in Paris and Rome?"), tools=[WEATHER_TOOL]
    )
    seen["tools"] = _calls(tools)
    seen["loop"] = agent_loop(openai_client)
    options = openai_client.chat.completions.create(
        model="gpt-4o", messages=user("Give me two options"), n=2
    )
    seen["n"] = [(c.index, c.message.content, c.finish_reason) for c in options.choices]
    with pytest.raises(openai.RateLimitError) as limited:
        openai_client.chat.completions.create(model="gpt-4o", messages=user("Too fast"))
    seen["429"] = (
        limited.value.status_code,
        limited.value.code,
        limited.value.response.headers["retry-after-ms"],
        limited.value.response.headers["x-ratelimit-remaining-requests"],
    )
    with pytest.raises(openai.BadRequestError) as refused:
        openai_client.chat.completions.create(model="gpt-4o", messages=user("Bad temperature"))
    seen["400"] = (refused.value.param, refused.value.code, refused.value.message)
    return seen


def _calls(completion) -> tuple:
    message = completion.choices[0]
    return (
        message.finish_reason,
        [
            (c.id, c.function.name, json.loads(c.function.arguments))
            for c in message.message.tool_calls
        ],
    )


def agent_loop(openai_client: openai.OpenAI) -> list:
    """Tool call -> tool result -> second tool call -> tool result -> final text."""
    messages = user("Plan my walk in Oslo")
    results = {"get_weather": "sunny, 18°C", "get_time": "10:00 is the best time"}
    steps = []
    for _ in range(3):
        answer = openai_client.chat.completions.create(
            model="gpt-4o", messages=messages, tools=[WEATHER_TOOL, TIME_TOOL]
        )
        message = answer.choices[0].message
        if not message.tool_calls:
            steps.append(message.content)
            break
        steps.append(_calls(answer))
        messages = [*messages, message.model_dump(exclude_none=True)]
        for call in message.tool_calls:
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": results[call.function.name]}
            )
    return steps


def test_every_kind_of_exchange_records_and_replays_without_the_upstream(upstream, tmp_path):
    recordings = tmp_path / "recordings"
    with MockServer(record=upstreams(upstream), record_to=str(recordings)) as recorder:
        recorded = every_kind(recorder)
        entries = recorder.requests
    assert all(e["recorded"] for e in entries if e["status"] == 200)
    assert len({e["recorded"] for e in entries}) == len(entries) == 9
    upstream.stop()
    files = sorted(recordings.iterdir())
    assert [f.name for f in files] == ["deepseek.yaml", "openai.yaml"]
    lint(*files)
    # Replayed by a server that has only the files: no upstream, no recorder.
    with MockServer(scenarios=[str(recordings)], strict=True) as replayer:
        replayed = every_kind(replayer)
        assert all(e["matched"] for e in replayer.requests)
    assert replayed == recorded
    assert recorded["text"][0] == "Hello from upstream! {{ not a template }}"  # as recorded
    assert recorded["text"][2].total_tokens == 18
    assert recorded["stream"][:3] == (
        "The user wants an answer after thought.",
        "Forty-two, after some thought.",
        "stop",
    )
    assert recorded["tools"][0] == "tool_calls"
    assert [(name, args) for _, name, args in recorded["tools"][1]] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Rome"}),
    ]
    assert recorded["loop"][-1] == "Walk at 10:00: it is sunny." and len(recorded["loop"]) == 3
    assert recorded["429"] == (429, "rate_limit_exceeded", "1500", "0")
    assert recorded["400"][:2] == ("temperature", "invalid_value")


def test_recorded_file_reads_like_a_scenario_file(upstream, tmp_path):
    path = tmp_path / "rec.yaml"
    with MockServer(record=upstreams(upstream), record_to=str(path)) as recorder:
        agent_loop(client(recorder))
    text = path.read_text()
    scenarios = load_yaml(text)["scenarios"]
    assert len(scenarios) == 3
    first, second, third = scenarios
    assert first["name"].startswith("plan-my-walk-in-oslo-")
    digest = first["match"].pop("request_digest")
    assert first["match"] == {
        "model": "gpt-4o",
        "last_user_message": {"equals": "Plan my walk in Oslo"},
        "turn": 1,
        "last_message_role": "user",
        "tools": ["get_time", "get_weather"],
    }
    assert sorted(digest["parts"]) == ["last_message", "model", "tools"]
    assert all(s["on_exhausted"] == "record" for s in scenarios)
    # Each later step says which tool call its last result answers: the recorded ids.
    assert second["match"]["tool_call_id"] == first["reply"]["tool_calls"][0]["id"]
    assert third["match"]["tool_call_id"] == second["reply"]["tool_calls"][0]["id"]
    assert second["reply"]["tool_calls"][0]["arguments"] == '{"city": "Oslo"}'  # as sent
    assert f"from {upstream.url}/v1/chat/completions" in text
    assert "answered by model gpt-4o-2024-08-06, system_fingerprint fp_" in text
    for volatile in ("chatcmpl-", "created"):
        assert volatile not in text


def test_a_stream_is_relayed_as_it_arrives(upstream, tmp_path):
    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        started = time.monotonic()
        stream = client(recorder).chat.completions.create(
            model="gpt-4o", messages=user("Stream slowly"), stream=True
        )
        arrivals = [
            time.monotonic() - started
            for chunk in stream
            if chunk.choices and chunk.choices[0].delta.content
        ]
    # The upstream takes ~1.1 s (100 ms to the first word, then 100 ms a word); the client has
    # its first word long before the upstream has finished.
    assert arrivals[-1] > 0.9
    assert arrivals[0] < 0.5
    (scenario,) = load_yaml((tmp_path / "openai.yaml").read_text())["scenarios"]
    latency = scenario["reply"]["latency"]
    assert 80 <= latency["ttft_ms"] < 500  # the first chunk came after ~100 ms
    assert 5 < latency["tokens_per_second"] < 20  # ~10 words a second
    assert scenario["reply"]["stream"] == {"chunk": "token", "size": 1}
    upstream.stop()
    with MockServer(scenarios=[str(tmp_path)]) as replayer:  # paced as the upstream was
        started = time.monotonic()
        words = [
            chunk.choices[0].delta.content
            for chunk in client(replayer).chat.completions.create(
                model="gpt-4o", messages=user("Stream slowly"), stream=True
            )
            if chunk.choices and chunk.choices[0].delta.content
        ]
        assert time.monotonic() - started > 0.8 and len(words) == 10


def test_a_stream_the_upstream_breaks_off_is_broken_off_for_the_client(upstream, tmp_path):
    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        stream = client(recorder).chat.completions.create(
            model="gpt-4o", messages=user("Break off"), stream=True
        )
        words = []
        with pytest.raises(openai.APIConnectionError):
            words.extend(chunk.choices[0].delta.content for chunk in stream if chunk.choices)
        assert recorder.requests[-1]["recorded"] is None
    assert "".join(filter(None, words)) == "one"  # what came before the break
    assert not (tmp_path / "openai.yaml").exists()


def test_a_client_that_leaves_a_relayed_stream_is_journaled_so(upstream, tmp_path):
    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        connection = http.client.HTTPConnection("127.0.0.1", recorder.port, timeout=10)
        body = {"model": "gpt-4o", "messages": user("Stream slowly"), "stream": True}
        headers = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
        connection.request("POST", "/v1/chat/completions", json.dumps(body), headers)
        response = connection.getresponse()
        assert response.status == 200 and response.fp.readline()
        connection.close()  # hang up a second before the upstream's end
        deadline = time.monotonic() + 10
        while not recorder.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        (left,) = recorder.requests
    assert left["client_left"] and left["recorded"] is None
    assert not (tmp_path / "openai.yaml").exists()


def test_timing_can_be_left_out(upstream, tmp_path):
    settings = {"record": upstreams(upstream), "record_to": str(tmp_path), "record_timing": False}
    with MockServer(**settings) as recorder:
        list(
            client(recorder).chat.completions.create(
                model="gpt-4o", messages=user("Stream slowly"), stream=True
            )
        )
    (scenario,) = load_yaml((tmp_path / "openai.yaml").read_text())["scenarios"]
    assert "latency" not in scenario["reply"]


def test_a_request_answered_differently_again_records_a_sequence(upstream, tmp_path):
    def ask_twice(server: MockServer) -> list[str]:
        return [
            client(server)
            .chat.completions.create(model="gpt-4o", messages=user("What changed?"))
            .choices[0]
            .message.content
            for _ in range(2)
        ]

    settings = {"record": upstreams(upstream), "record_to": str(tmp_path), "record_mode": "all"}
    with MockServer(**settings) as recorder:
        answers = ask_twice(recorder)
    assert answers == ["first answer", "second answer"]
    text = (tmp_path / "openai.yaml").read_text()
    (scenario,) = load_yaml(text)["scenarios"]
    assert [step["content"] for step in scenario["sequence"]] == answers
    assert "  # step 2: recorded " in text and "  # step 2: answered by model gpt-4o" in text
    upstream.stop()
    with MockServer(scenarios=[str(tmp_path)]) as replayer:
        assert ask_twice(replayer) == answers


def test_an_agent_loop_recorded_afresh_keeps_one_scenario_a_step(upstream, tmp_path):
    """Mode ``all`` twice over a tool loop whose upstream names its call anew each run: the
    second run's step 2 (another ``tool_call_id``) replaces the first's, not beside it."""
    upstream.add(
        [
            {
                "name": "loop-asks",
                "match": {"last_user_message": "Loop weather", "last_message_role": "user"},
                "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
            },
            {
                "name": "loop-answers",
                "priority": 5,
                "match": {"last_user_message": "Loop weather", "last_message_role": "tool"},
                "reply": {"content": "Sunny."},
            },
        ]
    )

    def loop(server: MockServer) -> str:
        sdk = client(server)
        first = (
            sdk.chat.completions.create(
                model="gpt-4o", messages=user("Loop weather"), tools=[WEATHER_TOOL]
            )
            .choices[0]
            .message
        )
        result = {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "sunny"}
        messages = [*user("Loop weather"), first.model_dump(exclude_none=True), result]
        answer = sdk.chat.completions.create(
            model="gpt-4o", messages=messages, tools=[WEATHER_TOOL]
        )
        return answer.choices[0].message.content

    settings = {"record": upstreams(upstream), "record_to": str(tmp_path), "record_mode": "all"}
    for _ in range(2):
        with MockServer(**settings) as recorder:
            assert loop(recorder) == "Sunny."
    scenarios = load_yaml((tmp_path / "openai.yaml").read_text())["scenarios"]
    assert len(scenarios) == 2
    upstream.stop()
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        assert loop(replayer) == "Sunny."


def test_calls_sharing_a_user_message_record_apart(upstream, tmp_path):
    asks = [
        ("gpt-4o", "You are terse."),
        ("gpt-4o-mini", "You are terse."),
        ("gpt-4o", "You are verbose."),
        ("gpt-4o", None),
    ]

    def send_all(server: MockServer) -> list[str]:
        out = []
        for model, system in asks:
            messages = ([{"role": "system", "content": system}] if system else []) + user("hi")
            reply = client(server).chat.completions.create(model=model, messages=messages)
            out.append(reply.choices[0].message.content)
        return out

    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        recorded = send_all(recorder)
    assert len(set(recorded)) == 4
    assert len(load_yaml((tmp_path / "openai.yaml").read_text())["scenarios"]) == 4
    upstream.stop()
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        assert send_all(replayer) == recorded


def test_a_miss_is_forwarded_once_then_replayed(upstream, tmp_path):
    for run in range(2):  # each identical request is a step: recorded once, then replayed
        with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
            for _ in range(3):
                client(recorder).chat.completions.create(model="gpt-4o", messages=user("Say hello"))
            assert [bool(e["recorded"]) for e in recorder.requests] == [run == 0] * 3
    assert len(upstream.requests) == 3


def test_reasoning_and_cached_token_counts_are_recorded_and_replayed(upstream, tmp_path):
    """What the upstream counted that the server would not (its reasoning, its prompt cache)
    is kept, on both APIs, so a test of what a call cost reads the same figures again."""
    counted = {"reasoning_tokens": 12, "cached_tokens": 5, "prompt_tokens": 40}
    thrifty = {"last_user_message": "Count my tokens"}
    upstream.add(
        {
            "name": "thrifty",
            "priority": 100,
            "match": thrifty,
            "reply": {"content": "Counted.", "usage": counted},
        }
    )

    def figures(server: MockServer) -> list[tuple[int, int]]:
        sdk = client(server)
        chat = sdk.chat.completions.create(model="gpt-4o", messages=user("Count my tokens"))
        answer = sdk.responses.create(model="gpt-4o", input="Count my tokens")
        return [
            (
                chat.usage.completion_tokens_details.reasoning_tokens,
                chat.usage.prompt_tokens_details.cached_tokens,
            ),
            (
                answer.usage.output_tokens_details.reasoning_tokens,
                answer.usage.input_tokens_details.cached_tokens,
            ),
        ]

    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        assert figures(recorder) == [(12, 5), (12, 5)]
    upstream.stop()
    assert "reasoning_tokens: 12" in (tmp_path / "openai.yaml").read_text()
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        assert figures(replayer) == [(12, 5), (12, 5)]


def test_replay_only_mode_forwards_nothing(upstream, tmp_path):
    settings = {"record": upstreams(upstream), "record_to": str(tmp_path), "record_mode": "none"}
    with MockServer(**settings) as recorder:
        reply = client(recorder).chat.completions.create(model="gpt-4o", messages=user("Say hello"))
    assert reply.choices[0].message.content.startswith("This is a mock response")
    assert upstream.requests == [] and not (tmp_path / "openai.yaml").exists()


def test_strict_forwards_only_when_recording_is_asked_for(upstream, tmp_path):
    settings = {"record": upstreams(upstream), "record_to": str(tmp_path), "strict": True}
    with MockServer(**settings) as recorder, pytest.raises(openai.NotFoundError):
        client(recorder).chat.completions.create(model="gpt-4o", messages=user("Say hello"))
    with MockServer(**settings, record_mode="new") as recorder:
        client(recorder).chat.completions.create(model="gpt-4o", messages=user("Say hello"))
    assert len(upstream.requests) == 1


def test_a_request_refused_locally_never_reaches_the_upstream(upstream, tmp_path):
    recorder = MockServer(record=upstreams(upstream), record_to=str(tmp_path))
    with recorder, pytest.raises(openai.BadRequestError):
        client(recorder).chat.completions.create(
            model="gpt-4o", messages=user("Say hello"), temperature=7
        )
    assert upstream.requests == []


def test_with_no_recording_file_of_its_own_the_server_records_for_its_tenants(upstream, tmp_path):
    """``--record-to ''``, as for the pytest plugin's ``MOCK_SERVER_URL``: the working
    directory is the recording root, and only tenants record, each into the file it names."""
    flags = ("--record", f"{upstream.url}/v1", "--record-to", "")
    with serving(tmp_path, *flags, cwd=tmp_path) as (port, _lines):
        handle = TenantHandle(f"http://127.0.0.1:{port}", "mine")
        handle.record(tmp_path / "tests" / "mine.yaml")
        sdk = made(openai.OpenAI(base_url=handle.url(), api_key="sk-test", max_retries=0))
        sdk.chat.completions.create(model="gpt-4o", messages=user("Say hello"))
        with pytest.raises(AdminError, match="recording root"):
            handle.record(tmp_path.parent / "elsewhere.yaml")
        handle.close()
    assert "Say hello" in (tmp_path / "tests" / "mine.yaml").read_text()
    assert not (tmp_path / "recordings").exists()


def test_keys_reach_the_upstream_but_no_file_journal_log_or_error(upstream, tmp_path):
    secret = "sk-live-" + "Q7x9" * 8
    upstream_key = "sk-upstream-" + "Z" * 24
    recordings = tmp_path / "recordings"
    env = {**os.environ, "MOCK_SERVER_UPSTREAM_KEY": upstream_key}
    flags = [
        "--record",
        f"{upstream.url}/v1",
        "--record-to",
        str(recordings),
        "--log-format",
        "json",
    ]
    message = f"Use {secret} to log in"
    with serving(tmp_path, *flags, env=env) as (port, lines):
        openai_client = made(
            openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=secret, max_retries=0)
        )
        first = openai_client.chat.completions.create(model="gpt-4o", messages=user(message))
        again = openai_client.chat.completions.create(model="gpt-4o", messages=user(message))
        assert again.choices[0].message.content == first.choices[0].message.content
        errors = []
        for bad in ({"temperature": 9}, {"top_p": -1}):
            with pytest.raises(openai.BadRequestError) as refused:
                openai_client.chat.completions.create(model="gpt-4o", messages=user(message), **bad)
            errors.append(refused.value.response.text)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/__admin/requests") as answer:
            journal = answer.read().decode()
    assert len(upstream.requests) == 2  # the repeat is the recording's second step
    for received in upstream.requests:
        assert received["headers"]["authorization"].endswith("ZZZZ")  # the configured key
    written = "\n".join(p.read_text() for p in recordings.rglob("*") if p.is_file())
    assert "regex: ^Use (?:\\bsk-" in written  # a key of that shape, in the match condition
    assert json.loads(journal)["count"] == 4
    assert len([line for line in lines if line.startswith("{")]) == 4
    for where, text in {
        "recording": written, "journal": journal, "log": "\n".join(lines), "errors": "\n".join(errors)
    }.items():  # fmt: skip
        assert secret not in text and secret[8:] not in text, where
        assert upstream_key not in text, where


def test_fifty_concurrent_recordings_make_fifty_scenarios(upstream, tmp_path):
    path = tmp_path / "burst.yaml"

    async def burst(server: MockServer) -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=server.base_url, api_key=CLIENT_KEY, max_retries=0
        ) as async_client:
            replies = await asyncio.gather(
                *(
                    async_client.chat.completions.create(
                        model="gpt-4o", messages=user(f"Question number {i}")
                    )
                    for i in range(50)
                )
            )
        return [r.choices[0].message.content for r in replies]

    with MockServer(record=upstreams(upstream), record_to=str(path)) as recorder:
        recorded = asyncio.run(burst(recorder))
    assert len(load_paths([path])) == 50
    lint(path)
    upstream.stop()
    with MockServer(scenarios=[str(path)], strict=True) as replayer:
        assert asyncio.run(burst(replayer)) == recorded


def test_an_unreachable_upstream_answers_502_and_the_server_keeps_serving(tmp_path):
    with MockServer() as closed:
        dead = closed.url
    with MockServer(record=[f"{dead}/v1"], record_to=str(tmp_path)) as recorder:
        started = time.monotonic()
        with pytest.raises(openai.InternalServerError) as failed:
            client(recorder).chat.completions.create(model="gpt-4o", messages=user("anyone?"))
        assert time.monotonic() - started < 2
        assert failed.value.status_code == 502
        assert failed.value.body["message"] == "Bad gateway."
        assert "unreachable" in failed.value.response.headers["x-mock-upstream-error"]
        recorder.add({"name": "local", "reply": {"content": "still here"}})
        reply = client(recorder).chat.completions.create(model="gpt-4o", messages=user("anyone?"))
        assert reply.choices[0].message.content == "still here"


def test_a_silent_upstream_answers_504_in_the_profiles_words(upstream, tmp_path):
    settings = {"record": upstreams(upstream), "record_to": str(tmp_path), "upstream_timeout": 0.5}
    with MockServer(**settings) as recorder:
        started = time.monotonic()
        with pytest.raises(openai.APIStatusError) as openai_timeout:
            client(recorder).chat.completions.create(
                model="gpt-4o", messages=user("Take your time")
            )
        with pytest.raises(openai.APIStatusError) as deepseek_timeout:
            client(recorder, "deepseek").chat.completions.create(
                model="deepseek-chat", messages=user("Take your time")
            )
        assert time.monotonic() - started < 2.5
    assert openai_timeout.value.status_code == deepseek_timeout.value.status_code == 504
    assert openai_timeout.value.body["message"] == "Gateway timeout."
    assert "within 0.5 s" in deepseek_timeout.value.body["message"]


BACK_45 = "(b)" * 45 + r"\45"  # its 45th group again: its 105th beside 60 groups before it


def test_bad_upstream_flags_say_what_is_wrong(tmp_path):
    for flags, said in [
        (["--record", "ftp://example.com"], "must be an http:// or https:// URL"),
        (["--record", "nosuch=http://127.0.0.1:9/v1"], "no profile 'nosuch'"),
        (["--record", "http://user:pw-S3CRET@127.0.0.1:9/v1"], "without credentials"),
        (["--record", "http://127.0.0.1:9/v1?key=S3CRET"], "without credentials"),
        (["--record", "http://[::1"], "--record: Invalid 'record[0]': the upstream must be"),
        (["--record", "http://127.0.0.1:99999/v1"], "must be an http:// or https:// URL"),
        (["--record", "http://:80/v1"], "must be an http:// or https:// URL"),
        (["--record", "http://127.0.0.1:0/v1"], "must be an http:// or https:// URL"),
        (["--record", "http://127.0.0.1:9/v1?"], "without credentials, query or fragment"),
        (
            ["--record", "http://127.0.0.1:9/v1", "--redact", "(unclosed"],
            "--redact: Invalid 'redact[0]': not a regex",
        ),
        (
            ["--record", "http://127.0.0.1:9/v1", "--redact", "(?P<k>a)", "--redact", "(?P<k>b)"],
            "redact: these patterns cannot be used together: redefinition of group name 'k'",
        ),
        (
            ["--record", "http://127.0.0.1:9/v1", "--redact", "(a)" * 60, "--redact", BACK_45],
            "redact: these patterns cannot be used together: the reference \\45 would be to "
            "group 105",
        ),
        (["--record", "deepseek=http://127.0.0.1:9/v1"], "MOCK_SERVER_UPSTREAM_KEY_DEEPSEEK: not"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "mock_server", *flags, "--record-to", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "MOCK_SERVER_UPSTREAM_KEY_DEEPSEEK": "sk-a\r\nX-Injected: 1"},
        )
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert "sk-a" not in result.stderr  # the bad key is not shown either
        assert "S3CRET" not in result.stderr  # nor what a refused URL holds besides its place


def test_a_bad_upstream_in_a_config_file_is_pointed_at_there(tmp_path):
    config = tmp_path / "mock-server.yaml"
    config.write_text('record: ["http://127.0.0.1:9/v1", "http://u:S3CRET@x/v1"]\n')
    with pytest.raises(ConfigError) as caught:
        build_settings({}, str(config), environ={})
    assert str(caught.value) == (
        f"{config}:1:35: Invalid 'record[1]': give the upstream's base URL, without "
        "credentials, query or fragment (keys go in MOCK_SERVER_UPSTREAM_KEY)."
    )


def test_a_header_that_is_not_utf8_is_left_behind_and_the_rest_goes_on(upstream, tmp_path):
    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        body = json.dumps({"model": "gpt-4o", "messages": user("Say hello")}).encode()
        with socket.create_connection(("127.0.0.1", recorder.port), timeout=10) as sock:
            sock.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer sk-test-raw\r\nContent-Type: application/json\r\n"
                b"X-Note: caf\xe9 \xff\r\nX-Plain: kept\r\n"
                b"Content-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200") and b"Hello from upstream" in answer
        assert recorder.requests[0]["recorded"]
    (received,) = upstream.requests
    assert received["headers"]["x-plain"] == "kept" and "x-note" not in received["headers"]


RECORDED_SUITE = """
import openai


def ask(mock_server, text, **extra):
    client = openai.OpenAI(base_url=mock_server.base_url, api_key="sk-test-suite", max_retries=0)
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}], **extra)


def test_greeting(mock_server):
    assert ask(mock_server, PROMPT).choices[0].message.content.startswith("Hello from upstream")


def test_tools(mock_server):
    reply = ask(mock_server, "Weather in Paris and Rome?", tools=[{"type": "function", "function": {"name": "get_weather"}}])
    assert [c.function.name for c in reply.choices[0].message.tool_calls] == ["get_weather"] * 2
"""


def test_a_pytest_suite_records_then_replays_without_the_upstream(pytester, upstream):
    pytester.makeini("[pytest]\nmock_server_upstream =\n    " + f"{upstream.url}/v1\n")
    pytester.makepyfile(test_suite=RECORDED_SUITE.replace("PROMPT", '"Say hello"'))
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--mock-server-record=new")
    first.assert_outcomes(passed=2)
    files = sorted(pytester.path.joinpath("recordings", "test_suite").iterdir())
    assert [f.name for f in files] == ["test_greeting.yaml", "test_tools.yaml"]
    lint(*files)
    assert len(upstream.requests) == 2
    upstream.stop()
    second = pytester.runpytest_subprocess("-p", "no:cacheprovider")  # mode none: replay only
    second.assert_outcomes(passed=2)
    # A changed prompt no recording answers: the test fails with the near-miss report.
    pytester.makepyfile(test_suite=RECORDED_SUITE.replace("PROMPT", '"Say hello again"'))
    third = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    third.assert_outcomes(passed=1, failed=1, errors=1)
    output = third.stdout.str()
    assert "ERROR at teardown of test_greeting" in output
    assert "1 request(s) matched no scenario:" in output
    assert "closest: say-hello-" in output
    assert "wanted equals 'Say hello', request had 'Say hello again'" in output


def test_recording_in_pytest_needs_an_upstream(pytester):
    pytester.makepyfile(test_suite=RECORDED_SUITE.replace("PROMPT", '"Say hello"'))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--mock-server-record=all")
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # the run stops before any test
    assert "--mock-server-record all: recording (mode all) needs an upstream" in (
        result.stderr.str()
    )


def test_upstreams_and_patterns_from_the_environment():
    settings = build_settings(
        {},
        environ={
            "MOCK_SERVER_RECORD": "http://127.0.0.1:9/v1 deepseek=http://127.0.0.1:9/ds",
            "MOCK_SERVER_REDACT": "cust-[0-9]+\nacct,[0-9]{3}:x",
            "MOCK_SERVER_RECORD_TIMING": "off",
        },
    )
    assert settings.record == ["http://127.0.0.1:9/v1", "deepseek=http://127.0.0.1:9/ds"]
    assert settings.redact == ["cust-[0-9]+", "acct,[0-9]{3}:x"]
    assert settings.record_timing is False


def test_patterns_of_your_own_and_secret_named_fields_are_redacted(upstream, tmp_path):
    upstream.add(
        {
            "name": "secret-tool",
            "match": {"last_user_message": {"contains": "sign in"}},
            "reply": {
                "tool_calls": [
                    {
                        "name": "login",
                        "arguments": {
                            "user": "ann",
                            "api_key": "k1",
                            "accessToken": "t0k3n",  # the spellings JavaScript clients use
                            "clientSecret": "s3cr3t",
                            "privateKey": "pk9",
                        },
                    }
                ]
            },
        }
    )
    # Arguments as an upstream may space them (not compact JSON), a secret nested deeper.
    spaced = '{"user": "bob", "password": "hunter2", "credentials": {"user": "u", "pass": "p9"}}'
    upstream.add(
        {
            "name": "spaced-secret",
            "match": {"last_user_message": {"contains": "log in"}},
            "reply": {"tool_calls": [{"name": "login", "arguments": spaced}]},
        }
    )
    settings = {
        "record": upstreams(upstream),
        "record_to": str(tmp_path),
        "redact": ["cust-[0-9]+"],
    }
    with MockServer(**settings) as recorder:
        echoed = client(recorder).chat.completions.create(
            model="gpt-4o", messages=user("Order for cust-12345")
        )
        client(recorder).chat.completions.create(model="gpt-4o", messages=user("sign in please"))
        client(recorder).chat.completions.create(model="gpt-4o", messages=user("log in please"))
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        again = client(replayer).chat.completions.create(
            model="gpt-4o", messages=user("Order for cust-12345")
        )
    assert "cust-12345" in echoed.choices[0].message.content  # the client gets what came
    assert again.choices[0].message.content.endswith("[REDACTED]")  # the recording does not
    text = (tmp_path / "openai.yaml").read_text()
    assert "cust-12345" not in text and "k1" not in text
    assert "t0k3n" not in text and "s3cr3t" not in text and "pk9" not in text
    assert "regex: ^Order for (?:[\\s\\S]+?)$" in text  # not the pattern: it may be the word
    assert "api_key: '[REDACTED]'" in text and "user: ann" in text
    assert "hunter2" not in text and "p9" not in text and "user: bob" in text


def test_a_pattern_of_your_own_keeps_its_group_references_beside_others(upstream, tmp_path):
    # The patterns are tried as one union, where the second's group is the union's second.
    settings = {
        "record": upstreams(upstream),
        "record_to": str(tmp_path),
        "redact": ["(ext)-[0-9]+", r"\b(\d)\1{3}\b", r"(pin)?:(?(1)[0-9]+|never)"],
    }
    with MockServer(**settings) as recorder:
        client(recorder).chat.completions.create(
            model="gpt-4o", messages=user("Call 5555 or 1234, ext-77, pin:4321")
        )
    text = (tmp_path / "openai.yaml").read_text()
    assert "5555" not in text and "ext-77" not in text and "4321" not in text
    assert "1234" in text


def test_a_tenant_records_only_on_a_recording_server(tmp_path):
    plain = MockServer()
    with plain, plain.tenant("t") as handle, pytest.raises(AdminError, match="409: This server"):
        handle.record(tmp_path / "t.yaml")
    with MockServer(record=["http://127.0.0.1:9/v1"], record_to=str(tmp_path)) as recorder:
        with recorder.tenant("t") as handle, pytest.raises(AdminError, match=r"400: .*yaml"):
            handle.record(tmp_path / "t.txt")
        broken = "# Recorded by mock-server\nscenarios:\n  - name: x\n    reply: {contnt: 1}\n"
        (tmp_path / "broken.yaml").write_text(broken)
        with (
            recorder.tenant("t") as handle,
            pytest.raises(AdminError, match="unknown key 'contnt'"),
        ):
            handle.record(tmp_path / "broken.yaml")


def test_recording_again_in_a_later_run_replaces_and_keeps_notes(upstream, tmp_path):
    path = tmp_path / "rec.yaml"
    settings = {"record": upstreams(upstream), "record_to": str(path), "record_mode": "all"}
    with MockServer(**settings) as recorder:
        client(recorder).chat.completions.create(model="gpt-4o", messages=user("What changed?"))
        client(recorder).chat.completions.create(model="gpt-4o", messages=user("Say hello"))
    text = path.read_text()
    # A note of one's own above a scenario, and an edit to the other, survive re-recording.
    text = text.replace("  - name: say-hello", "  # checked by hand: keep\n  - name: say-hello")
    text = text.replace("prompt_tokens: 11", "prompt_tokens: 12")  # only say-hello has 11
    path.write_text(text)
    with MockServer(**settings) as recorder:  # a new run: the upstream's next answer replaces
        again = client(recorder).chat.completions.create(
            model="gpt-4o", messages=user("What changed?")
        )
    assert again.choices[0].message.content == "second answer"
    changed, hello = load_yaml(path.read_text())["scenarios"]
    assert "sequence" not in changed and changed["reply"]["content"] == "second answer"
    assert hello["reply"]["usage"]["prompt_tokens"] == 12
    assert "  # checked by hand: keep\n  - name: say-hello" in path.read_text()
    lint(path)


def test_an_upstream_answer_that_is_not_a_completion_is_relayed_not_recorded(upstream, tmp_path):
    upstream.add(
        """
scenarios:
  - name: broken-body
    match: {last_user_message: {equals: "Break the body"}}
    reply: {fault: malformed_json}
  - name: broken-stream
    match: {last_user_message: {equals: "Break the stream"}}
    reply: {content: "one two three four", fault: {type: malformed_chunk, after_chunks: 2}}
"""
    )
    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        for text, stream in (("Break the body", False), ("Break the stream", True)):
            body = {"model": "gpt-4o", "messages": user(text), "stream": stream}
            connection = http.client.HTTPConnection("127.0.0.1", recorder.port, timeout=10)
            connection.request(
                "POST",
                "/v1/chat/completions",
                json.dumps(body),
                {"Authorization": f"Bearer {CLIENT_KEY}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            relayed = response.read()
            connection.close()
            assert response.status == 200 and relayed  # what the upstream sent, as it sent it
        assert [e["recorded"] for e in recorder.requests] == [None, None]
        reply = client(recorder).chat.completions.create(model="gpt-4o", messages=user("Say hello"))
        assert reply.choices[0].message.content.startswith("Hello from upstream")
    assert len(load_yaml((tmp_path / "openai.yaml").read_text())["scenarios"]) == 1


def test_the_same_stream_recorded_twice_is_two_steps(upstream, tmp_path):
    settings = {"record": upstreams(upstream), "record_to": str(tmp_path), "record_mode": "all"}
    with MockServer(**settings) as recorder:
        for _ in range(2):  # the same answer, at a pace that differs a little each time
            list(
                client(recorder).chat.completions.create(
                    model="gpt-4o", messages=user("Say hello"), stream=True
                )
            )
    (scenario,) = load_yaml((tmp_path / "openai.yaml").read_text())["scenarios"]
    first, second = scenario["sequence"]  # each request a step, so a later run replays both
    assert first["content"] == second["content"] and "latency" in first and "latency" in second


RESPONSES_TOOLS = [
    {
        "type": "function",
        "name": tool["function"]["name"],
        "parameters": tool["function"]["parameters"],
    }
    for tool in (WEATHER_TOOL, TIME_TOOL)
]


def responses_kinds(server: MockServer) -> dict:
    """Responses API exchanges (plain, streamed, tool calls, a chain by previous_response_id,
    an error); what the client saw, comparable across servers."""
    sdk = client(server)
    seen: dict = {}
    text = sdk.responses.create(model="gpt-4o", input="Say hello")
    seen["text"] = (text.output_text, text.usage.total_tokens, text.status)
    with sdk.responses.stream(model="gpt-4o", input="Stream slowly") as stream:
        seen["stream"] = stream.get_final_response().output_text
    calls = sdk.responses.create(
        model="gpt-4o", input="Weather in Paris and Rome?", tools=RESPONSES_TOOLS
    )
    seen["tools"] = [(c.call_id, c.name, json.loads(c.arguments)) for c in calls.output]
    first = sdk.responses.create(
        model="gpt-4o", input="Plan my walk in Oslo", tools=RESPONSES_TOOLS
    )
    (call,) = first.output
    second = sdk.responses.create(
        model="gpt-4o",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 18°C"}],
        tools=RESPONSES_TOOLS,
    )
    seen["chain"] = (call.name, [(c.type, getattr(c, "name", None)) for c in second.output])
    filtered = sdk.responses.create(model="gpt-4o", input="Say something unsafe")
    seen["filtered"] = (filtered.status, filtered.incomplete_details.reason)
    with pytest.raises(openai.RateLimitError) as limited:
        sdk.responses.create(model="gpt-4o", input="Too fast")
    seen["429"] = limited.value.response.headers["retry-after-ms"]
    return seen


def test_responses_record_and_replay_plain_streamed_and_chained(upstream, tmp_path):
    recordings = tmp_path / "recordings"
    with MockServer(record=upstreams(upstream), record_to=str(recordings)) as recorder:
        recorded = responses_kinds(recorder)
        entries = recorder.requests
    assert all(e["recorded"] for e in entries if e["status"] == 200)
    assert {e["api"] for e in entries} == {"responses"}
    upstream.stop()
    lint(*recordings.iterdir())
    assert "api: responses" in (recordings / "openai.yaml").read_text()
    with MockServer(scenarios=[str(recordings)], strict=True) as replayer:
        replayed = responses_kinds(replayer)
        assert all(e["matched"] for e in replayer.requests)
    assert replayed == recorded
    assert recorded["text"] == ("Hello from upstream! {{ not a template }}", 18, "completed")
    assert recorded["stream"] == "one two three four five six seven eight nine ten"
    assert recorded["filtered"] == ("incomplete", "content_filter")
    assert [(name, args) for _, name, args in recorded["tools"]] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Rome"}),
    ]
    assert recorded["chain"] == ("get_weather", [("function_call", "get_time")])
    assert recorded["429"] == "1500"
    with MockServer(scenarios=[str(recordings)], strict=True) as replayer:
        sdk = client(replayer)
        # Not the recorded request: other settings, or the same words on chat completions.
        for other in ({"temperature": 0}, {"max_output_tokens": 16}, {"reasoning": {"summary": "auto"}}):  # fmt: skip
            with pytest.raises(openai.NotFoundError):
                sdk.responses.create(model="gpt-4o", input="Say hello", **other)
        asked = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello"}]}
        with pytest.raises(openai.NotFoundError):
            sdk.chat.completions.create(**asked)
        assert sdk.responses.create(model="gpt-4o", input="Say hello", background=True).output_text


CAT = {"type": "input_image", "image_url": "https://example.com/cat.png"}
DOG = {"type": "input_image", "image_url": "https://example.com/dog.png"}


def asked_with(image: dict, question: str = "What animal is this?") -> list[dict]:
    return [{"role": "user", "content": [{"type": "input_text", "text": question}, image]}]


def test_a_response_recorded_for_one_image_is_not_another_images(upstream, tmp_path):
    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        sdk = client(recorder)
        sdk.responses.create(model="gpt-4o", input=asked_with(CAT))
        sdk.responses.create(model="gpt-4o", input=asked_with(DOG))  # forwarded: another request
        first = sdk.responses.create(
            model="gpt-4o", input="Plan my walk in Oslo", tools=RESPONSES_TOOLS
        )
        call = next(item for item in first.output if item.type == "function_call")
        for image in (CAT, DOG):  # a tool's output holding an image, as the Agents SDK sends it
            output = [{"type": "input_text", "text": "a photo:"}, image]
            answer = {"type": "function_call_output", "call_id": call.call_id, "output": output}
            sdk.responses.create(
                model="gpt-4o", input=[answer], previous_response_id=first.id, tools=RESPONSES_TOOLS
            )
        assert sum(entry["recorded"] is not None for entry in recorder.requests) == 5
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        sdk = client(replayer)
        assert sdk.responses.create(model="gpt-4o", input=asked_with(CAT)).output_text
        with pytest.raises(openai.NotFoundError, match="last message differs"):
            bird = {"type": "input_image", "image_url": "https://example.com/owl.png"}
            sdk.responses.create(model="gpt-4o", input=asked_with(bird))


def test_an_answer_in_several_messages_is_the_one_answer_its_replay_gives(upstream, tmp_path):
    # A stateless client sends an upstream's answer back as it came: here in two message items.
    # The recording answers with their text joined, in one message, which its replay sends back.
    def turn(*answers: str) -> list[dict]:
        said = [{"role": "assistant", "content": text} for text in answers]
        return [*user("Say hello"), *said, *user("And again?")]

    with MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder:
        recorded = client(recorder).responses.create(model="gpt-4o", input=turn("Hello ", "there"))
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        sdk = client(replayer)
        assert sdk.responses.create(model="gpt-4o", input=turn("Hello there")).output_text == (
            recorded.output_text
        )
        with pytest.raises(openai.NotFoundError, match="earlier messages differ"):
            sdk.responses.create(model="gpt-4o", input=turn("Hello", "there"))


def test_a_recorded_response_stream_names_the_model_that_answered(upstream, tmp_path):
    with (
        MockServer(record=upstreams(upstream), record_to=str(tmp_path)) as recorder,
        client(recorder).responses.stream(model="gpt-4o", input="Say hello") as stream,
    ):
        stream.get_final_response()
    assert "# answered by model gpt-4o-2024-08-06" in (tmp_path / "openai.yaml").read_text()


def test_a_turn_continuing_a_replayed_response_is_relayed_not_recorded(upstream, tmp_path, caplog):
    settings = {"record": upstreams(upstream), "record_to": str(tmp_path)}
    with MockServer(**settings) as recorder:
        client(recorder).responses.create(model="gpt-4o", input="Say hello")
    with MockServer(**settings) as recorder:  # the first turn replays, with an id of ours
        sdk = client(recorder)
        first = sdk.responses.create(model="gpt-4o", input="Say hello")
        for _ in range(2):  # not recorded, so asked of the upstream each time
            with pytest.raises(openai.BadRequestError, match="Previous response with id"):
                sdk.responses.create(model="gpt-4o", input="And?", previous_response_id=first.id)
        assert [entry["recorded"] for entry in recorder.requests][1:] == [None, None]
    assert "And?" not in (tmp_path / "openai.yaml").read_text()
    assert "does not hold the response, conversation or item this request names" in caplog.text


def test_embeddings_are_relayed_not_recorded(upstream, tmp_path):
    recordings = tmp_path / "recordings"
    with MockServer(record=upstreams(upstream), record_to=str(recordings)) as recorder:
        sdk = client(recorder)
        relayed = sdk.embeddings.create(model="text-embedding-3-small", input="relay me")
        (entry,) = recorder.requests
    direct = client(upstream).embeddings.create(model="text-embedding-3-small", input="relay me")
    assert relayed.data[0].embedding == direct.data[0].embedding
    assert entry["api"] == "embeddings" and entry["recorded"] is None
    assert not recordings.exists() or not list(recordings.iterdir())


def test_a_recording_file_that_cannot_be_written_is_refused_when_named(upstream, tmp_path):
    """Where no file can be written (under a file, in a folder this process may not write), the
    server's own file stops start-up and a tenant's is a 400, both saying why: every forwarded
    request got a 500 and a traceback, its log line blaming the upstream."""
    (tmp_path / "plain.yaml").write_text("scenarios: []\n", encoding="utf-8")
    under_a_file = str(tmp_path / "plain.yaml" / "x.yaml")
    with pytest.raises(ConfigError, match="is not a folder"):
        MockServer(record=[f"{upstream.url}/v1"], record_to=under_a_file).start()
    # Only replayed, it is never written: where it lies is no matter.
    replayed = MockServer(record=[f"{upstream.url}/v1"], record_to=under_a_file, record_mode="none")
    replayed.start().stop()
    with (
        MockServer(record=[f"{upstream.url}/v1"], record_to=str(tmp_path)) as recorder,
        recorder.tenant("q") as handle,
        pytest.raises(AdminError, match=r"cannot record into .* is not a folder"),
    ):
        handle.record(tmp_path / "plain.yaml" / "x.yaml")


def test_a_link_made_after_a_recording_file_is_named_leads_nowhere_outside(
    upstream, tmp_path, caplog
):
    """The path is checked again when the file is written: a folder made a link to elsewhere
    after the tenant named its file is refused then; the upstream's answer is relayed all the
    same, and the log says it was not written."""
    root = tmp_path / "recordings"
    outside = tmp_path / "outside"
    outside.mkdir()
    with MockServer(record=[f"{upstream.url}/v1"], record_to=str(root)) as recorder:
        handle = recorder.tenant("late-link")
        handle.record(root / "later" / "x.yaml")
        root.mkdir(exist_ok=True)
        (root / "later").symlink_to(outside, target_is_directory=True)
        sdk = made(openai.OpenAI(base_url=handle.url(), api_key="sk-test", max_retries=0))
        answer = sdk.chat.completions.create(model="gpt-4o", messages=user("Say hello"))
        assert answer.choices[0].message.content
        handle.close()
    assert list(outside.iterdir()) == []
    assert "replays, but is not written" in caplog.text and "recording root" in caplog.text
