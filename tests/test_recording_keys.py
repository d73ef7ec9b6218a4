"""A recording answers only the request it was made from, and each recorded answer is a step.

The upstream is a second mock-server on its own socket whose every answer is numbered
("answer 1", "answer 2" ...), so which answer a client got says which upstream call made it,
and the upstream's journal counts what was forwarded. Replays run with the upstream stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import re
from pathlib import Path

import openai
import pytest

from mock_server.cli import main
from mock_server.config import regex_problem
from mock_server.errors import ConfigError
from mock_server.redaction import Scrubber, secret_name
from mock_server.testing.runner import MockServer
from mock_server.yamlio import dump_yaml, load_yaml

pytest_plugins = ["pytester"]
KEY = "sk-test-recording-keys"
NUMBERED = {"name": "numbered", "sequence": [{"content": f"answer {i}"} for i in range(1, 100)]}


@pytest.fixture
def numbered():
    with MockServer(seed=5) as server:
        server.add(NUMBERED)
        yield server


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def function(name: str, **properties: dict) -> dict:
    parameters = {"type": "object", "properties": properties}
    return {"type": "function", "function": {"name": name, "parameters": parameters}}


WEATHER = function("get_weather", city={"type": "string"})
WEATHER_IN_UNITS = function("get_weather", city={"type": "string"}, unit={"type": "string"})
TIME = function("get_time", city={"type": "string"})
SCHEMA = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": {"type": "string"}}},
    "required": ["items"],
}
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/suitcase.png"}}
QUESTION = "What should I pack for Oslo? Answer in JSON."
BASE = {"model": "gpt-4o", "messages": user(QUESTION)}


def ask(**changes) -> dict:
    return {**BASE, **changes}


def system(text: str) -> dict:
    return ask(messages=[{"role": "system", "content": text}, *user(QUESTION)])


def after(name: str) -> dict:
    """A second turn, after an exchange in which the user gave a name."""
    earlier = [*user(f"Hi, I am {name}."), {"role": "assistant", "content": f"Hello {name}!"}]
    return ask(messages=[*earlier, *user(QUESTION)])


def tool_result(result: str) -> dict:
    call = {"id": "call_weather1", "type": "function"}
    call["function"] = {"name": "get_weather", "arguments": '{"city":"Oslo"}'}
    messages = [
        *user(QUESTION),
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_weather1", "content": result},
    ]
    return ask(messages=messages, tools=[WEATHER])


def json_schema(schema: dict) -> dict:
    return {"type": "json_schema", "json_schema": {"name": "packing", "schema": schema}}


# Two requests that differ in one thing the answer can depend on, and what the near-miss report
# says of the second when only the first was recorded.
DIFFERENCES = {
    "system prompt added": (BASE, system("Be terse."), "system prompt differs (only in the"),
    "system prompt text": (system("Be terse."), system("Be verbose."), "system prompt differs"),
    "earlier message": (after("Ann"), after("Bob"), "earlier messages differ"),
    "tools offered": (BASE, ask(tools=[WEATHER]), "tools differ (only in the request)"),
    "tool set": (ask(tools=[WEATHER]), ask(tools=[WEATHER, TIME]), "tools differ"),
    "tool definition": (ask(tools=[WEATHER]), ask(tools=[WEATHER_IN_UNITS]), "tools differ"),
    "tool_choice": (
        ask(tools=[WEATHER], tool_choice="auto"),
        ask(tools=[WEATHER], tool_choice="none"),
        "tool_choice differs",
    ),
    "response_format": (
        ask(response_format={"type": "text"}),
        ask(response_format={"type": "json_object"}),
        "response_format differs",
    ),
    "json schema": (
        ask(response_format=json_schema(SCHEMA)),
        ask(response_format=json_schema({**SCHEMA, "required": []})),
        "response_format differs",
    ),
    "n": (BASE, ask(n=2), "n differs (only in the request)"),
    "tool result": (tool_result("sunny"), tool_result("rain"), "last message differs"),
    "image part": (
        BASE,
        ask(messages=[{"role": "user", "content": [{"type": "text", "text": QUESTION}, IMAGE]}]),
        "last message differs",
    ),
    "temperature": (BASE, ask(temperature=0.2), "temperature differs (only in the request)"),
}


def answers(base_url: str, request: dict, api_key: str = KEY) -> list[str | None]:
    """The texts of every choice the server answered ``request`` with."""
    with openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0) as client:
        completion = client.chat.completions.create(**request)
    return [choice.message.content for choice in completion.choices]


def recording_server(upstream: MockServer, folder: Path, mode: str = "new") -> MockServer:
    return MockServer(record=[f"{upstream.url}/v1"], record_to=str(folder), record_mode=mode)


def checked(path: Path) -> list[dict]:
    """The scenarios of a recording file, which ``mock-server check`` passes."""
    assert main(["check", str(path)]) == 0
    return load_yaml(path.read_text())["scenarios"]


@pytest.mark.parametrize(("first", "second", "said"), DIFFERENCES.values(), ids=list(DIFFERENCES))
def test_requests_that_differ_in_what_can_change_the_answer_record_apart(
    numbered, tmp_path, first, second, said
):
    with recording_server(numbered, tmp_path) as recorder:
        recorded = [answers(recorder.base_url, first), answers(recorder.base_url, second)]
    assert len(numbered.requests) == 2  # the second was forwarded, not answered by the first
    assert recorded[0] != recorded[1]
    scenarios = checked(tmp_path / "openai.yaml")
    assert len(scenarios) == 2
    numbered.stop()
    with MockServer(scenarios=[], strict=True) as replayer:
        with replayer.tenant("both") as both:
            both.add(scenarios)
            replayed = [answers(both.base_url, second), answers(both.base_url, first)]
        with replayer.tenant("stale") as stale:  # only the first recorded: a near miss
            stale.add(scenarios[0])
            with pytest.raises(openai.NotFoundError) as missed:
                answers(stale.base_url, second)
    assert replayed == recorded[::-1]
    report = missed.value.message
    assert f"- {scenarios[0]['name']} (" in report and "request_digest: wanted sha256:" in report
    assert said in report, report


# Variants of one request that cannot change its answer: each replays the one recording.
ECHOED_CALL = {"id": "call_weather1", "type": "function"}
ECHOED_CALL["function"] = {"name": "get_weather", "arguments": '{"city": "Oslo"}'}
NEUTRAL = {
    "stream": ask(stream=True),
    "stream_options": ask(stream=True, stream_options={"include_usage": True}),
    "user": ask(user="ann"),
    "metadata": ask(metadata={"run": "7"}, store=True),
    "safety_identifier": ask(safety_identifier="user-hash-1"),
    "key order": {"messages": [{"content": QUESTION, "role": "user"}], "model": "gpt-4o"},
}


def streamed(base_url: str, request: dict) -> list[str]:
    with openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0) as client:
        chunks = list(client.chat.completions.create(**request))
    return ["".join(c.choices[0].delta.content or "" for c in chunks if c.choices)]


def raw_answer(port: int, text: str) -> list[str]:
    """What the server answers to ``text`` sent as it is (the SDK sends no other spacing)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    connection.request("POST", "/v1/chat/completions", text, headers)
    body = json.loads(connection.getresponse().read())
    connection.close()
    return [choice["message"]["content"] for choice in body["choices"]]


def test_what_cannot_change_the_answer_does_not_split_recordings(numbered, tmp_path):
    with recording_server(numbered, tmp_path) as recorder:
        recorded = answers(recorder.base_url, BASE)
    (scenario,) = checked(tmp_path / "openai.yaml")
    numbered.stop()
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        url = replayer.base_url
        for name, request in NEUTRAL.items():
            replay = streamed if request.get("stream") else answers
            assert replay(url, request) == recorded, name
        assert answers(url, BASE, api_key="sk-test-another-key") == recorded
        spaced = json.dumps({"model": "gpt-4o", "messages": user(QUESTION)}, indent=4)
        assert raw_answer(replayer.port, spaced) == recorded
        assert {e["scenario"] for e in replayer.requests} == {scenario["name"]}


def test_an_answer_echoed_back_in_another_shape_still_matches(numbered, tmp_path):
    """What SDKs add when they send an answer back (``refusal``, ``annotations``, spacing in
    the arguments, no ``content``) and the order of the tools change nothing."""
    call = {**ECHOED_CALL, "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
    plain = tool_result("sunny") | {"tools": [WEATHER, TIME]}
    plain["messages"][1] = {"role": "assistant", "tool_calls": [call]}
    echoed = tool_result("sunny") | {"tools": [TIME, WEATHER]}
    echoed["messages"][1] = {
        "role": "assistant", "content": "", "refusal": None, "annotations": [],
        "tool_calls": [ECHOED_CALL],
    }  # fmt: skip
    with recording_server(numbered, tmp_path) as recorder:
        recorded = answers(recorder.base_url, plain)
    numbered.stop()
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        assert answers(replayer.base_url, echoed) == recorded


def run(upstream: MockServer, folder: Path, mode: str, times: int) -> list[str | None]:
    """One run of a program that asks the same question ``times`` times."""
    with recording_server(upstream, folder, mode) as server:
        return [answers(server.base_url, BASE)[0] for _ in range(times)]


def test_a_repeated_request_replays_its_steps_in_order_and_records_beyond_them(numbered, tmp_path):
    assert run(numbered, tmp_path, "new", 2) == ["answer 1", "answer 2"]
    assert len(numbered.requests) == 2  # the repeat was forwarded: it is the second step
    (scenario,) = checked(tmp_path / "openai.yaml")
    assert [step["content"] for step in scenario["sequence"]] == ["answer 1", "answer 2"]
    assert scenario["on_exhausted"] == "record"
    # A later run replays the two steps and records a third.
    assert run(numbered, tmp_path, "new", 3) == ["answer 1", "answer 2", "answer 3"]
    assert len(numbered.requests) == 3
    # mode all records the request afresh from its first step.
    assert run(numbered, tmp_path, "all", 2) == ["answer 4", "answer 5"]
    assert len(numbered.requests) == 5
    (scenario,) = checked(tmp_path / "openai.yaml")
    assert [step["content"] for step in scenario["sequence"]] == ["answer 4", "answer 5"]
    numbered.stop()
    assert run(numbered, tmp_path, "none", 3) == ["answer 4", "answer 5", "answer 5"]


REPEATING_SUITE = """
import openai


def test_asks_again(mock_server):
    client = openai.OpenAI(base_url=mock_server.base_url, api_key="sk-test-suite", max_retries=0)
    asked = [
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Again?"}])
        .choices[0].message.content
        for _ in range(TIMES)
    ]
    assert asked == EXPECTED
"""


def test_the_pytest_plugin_records_steps_the_same_way(pytester, numbered):
    pytester.makeini(f"[pytest]\nmock_server_upstream =\n    {numbered.url}/v1\n")
    for mode, expected, forwarded in (
        ("new", ["answer 1", "answer 2"], 2),
        ("new", ["answer 1", "answer 2", "answer 3"], 3),
        ("all", ["answer 4", "answer 5"], 5),
        ("none", ["answer 4", "answer 5", "answer 5"], 5),
    ):
        suite = REPEATING_SUITE.replace("TIMES", str(len(expected)))
        pytester.makepyfile(test_suite=suite.replace("EXPECTED", repr(expected)))
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--mock-server-record={mode}"
        )
        result.assert_outcomes(passed=1)
        assert len(numbered.requests) == forwarded, mode
    checked(pytester.path / "recordings" / "test_suite" / "test_asks_again.yaml")


LOGIN = """
scenarios:
  - name: sign-in
    match: {last_message_role: user, turn: 1}
    reply:
      tool_calls: [{name: login, arguments: {user: ann, api_key: sk-live-0123456789abcdef}}]
  - name: signed-in
    match: {last_message_role: tool}
    reply: {content: "Welcome back, customer cust-4711."}
  - name: thanked
    match: {turn: 2}
    reply: {content: "You are welcome."}
"""


def signing_in(base_url: str) -> list[str | None]:
    """An agent loop whose answers hold what the recorder redacts, sent back each step."""
    login = function("login", user={"type": "string"}, api_key={"type": "string"})
    messages = user("Sign me in")
    said = []
    with openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0) as client:
        for follow_up in ("ok", "Thanks!", None):
            answer = (
                client.chat.completions.create(model="gpt-4o", messages=messages, tools=[login])
                .choices[0]
                .message
            )
            said.append(answer.content)
            messages = [*messages, answer.model_dump(exclude_none=True)]
            if answer.tool_calls:
                call = answer.tool_calls[0]
                messages.append({"role": "tool", "tool_call_id": call.id, "content": follow_up})
            elif follow_up:
                messages += user(follow_up)
    return said


def test_an_agent_loop_whose_answers_were_redacted_replays_step_by_step(tmp_path):
    with MockServer(seed=5) as upstream:
        upstream.add(LOGIN)
        settings = {"record": [f"{upstream.url}/v1"], "record_to": str(tmp_path)}
        with MockServer(**settings, redact=["cust-[0-9]+"]) as recorder:
            recorded = signing_in(recorder.base_url)
    assert recorded[1] == "Welcome back, customer cust-4711."
    written = (tmp_path / "openai.yaml").read_text()
    assert "sk-live" not in written and "cust-4711" not in written
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        replayed = signing_in(replayer.base_url)  # each step sends back the redacted answers
    assert replayed == [None, "Welcome back, customer [REDACTED].", "You are welcome."]


def canonical_digest(body: dict) -> str:
    """The digest computed by hand, from the definition in docs/recording.md."""
    neutral = {
        "stream", "stream_options", "user", "metadata", "safety_identifier", "store",
        "service_tier", "prompt_cache_key", "prompt_cache_retention",
    }  # fmt: skip

    def encode(value) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def parts(content):
        if isinstance(content, str):
            return [{"type": "text", "text": content}] if content else []
        return [
            {"type": "text", "text": p["text"]} if p.get("type") == "text" else p
            for p in content or []
        ]

    def call(c):
        function = dict(c["function"])
        with contextlib.suppress(ValueError):
            function["arguments"] = json.loads(function["arguments"])
        return {**{k: v for k, v in c.items() if k not in ("id", "index")}, "function": function}

    def message(m):
        out = {"role": m.get("role"), "content": parts(m.get("content"))}
        if m.get("name") is not None:
            out["name"] = m["name"]
        if m.get("tool_calls"):
            out["tool_calls"] = [call(c) for c in m["tool_calls"]]
        return out

    canonical = {k: v for k, v in body.items() if k not in neutral}
    canonical["messages"] = [message(m) for m in body["messages"]]
    if "tools" in body:
        canonical["tools"] = sorted(body["tools"], key=encode)
    return "sha256:" + hashlib.sha256(encode(canonical).encode()).hexdigest()


def test_a_digest_computed_by_hand_matches_and_names_the_request(tmp_path):
    request = tool_result("sunny") | {"tools": [WEATHER, TIME], "temperature": 0, "stream": False}
    digest = canonical_digest(request)
    path = tmp_path / "by-hand.yaml"
    path.write_text(
        dump_yaml(
            {
                "scenarios": [
                    {
                        "name": "by-hand",
                        "match": {"request_digest": digest},
                        "reply": {"content": "mine"},
                    }
                ]
            }
        )
    )
    checked(path)
    with MockServer(scenarios=[str(path)], strict=True) as server:
        assert answers(server.base_url, request) == ["mine"]
        with pytest.raises(openai.NotFoundError) as missed:
            answers(server.base_url, request | {"temperature": 1})
    assert f"request_digest: wanted {digest[:19]}..." in missed.value.message


def test_the_documented_steps_replay_in_order_then_the_last_repeats():
    text = (Path(__file__).parent.parent / "docs" / "recording.md").read_text()
    (example,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "build green" in b]
    with MockServer(scenarios=[], strict=True) as server:
        server.add(example)
        asked = [
            answers(server.base_url, {"model": "gpt-4o", "messages": user("Is the build green?")})
            for _ in range(3)
        ]
    assert asked == [
        ["Not yet, 3 jobs are running."],
        ["Yes, all jobs passed."],
        ["Yes, all jobs passed."],
    ]


def test_the_pytest_plugin_records_from_any_working_directory(pytester, numbered, monkeypatch):
    """The recording root is pytest's rootdir, not the folder pytest was started in."""
    project = pytester.mkdir("project")
    (project / "pytest.ini").write_text(
        f"[pytest]\nmock_server_upstream =\n    {numbered.url}/v1\n"
    )
    tests = project / "tests"
    tests.mkdir()
    suite = REPEATING_SUITE.replace("TIMES", "1").replace("EXPECTED", repr(["answer 1"]))
    (tests / "test_suite.py").write_text(suite)
    monkeypatch.chdir(pytester.mkdir("elsewhere"))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--mock-server-record=new", "../project/tests"
    )
    result.assert_outcomes(passed=1)
    checked(tests / "recordings" / "test_suite" / "test_asks_again.yaml")


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        *((name, True) for name in (
            "api_key", "apiKey", "X-Api-Key", "access_token", "accessToken", "TOKEN",
            "clientSecret", "client_secret", "password", "passwd", "pwd", "privateKey",
            "private_key", "AWS_SECRET_ACCESS_KEY", "auth", "Authorization", "cookie",
            "credentials",
        )),
        *((name, False) for name in (
            "max_tokens", "prompt_tokens", "token_count", "key", "author", "authority",
            "secretary", "monkey", "city",
        )),
    ],
)  # fmt: skip
def test_secret_names_in_any_spelling(name, secret):
    assert secret_name(name) is secret


@pytest.mark.parametrize(
    ("pattern", "text", "scrubbed"),
    [
        ("(?i)oslo", "Rain in OSLO today", "Rain in [REDACTED] today"),
        ("(?x) os lo  # a city, spaced out", "Rain in oslo", "Rain in [REDACTED]"),
        ("(?i)(?s)a.b", "A\nB and a-b", "[REDACTED] and [REDACTED]"),
        ("(?#a city)(?i)oslo", "Rain in OSLO", "Rain in [REDACTED]"),
        ("(?x)\n  (?i)oslo", "Rain in OSLO", "Rain in [REDACTED]"),
    ],
)
def test_a_pattern_of_ones_own_may_set_its_flags_as_python_allows(pattern, text, scrubbed):
    """Its leading flags are its own, though it is used within a union of patterns."""
    assert Scrubber([pattern]).text(text) == scrubbed


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(?i)", "matches empty text"),
        ("a*", "matches empty text"),
        ("(?a)(?u)x", "not a regex: ASCII and UNICODE flags are incompatible"),
    ],
)
def test_a_pattern_of_ones_own_that_cannot_scrub_is_refused(pattern, problem):
    assert problem in regex_problem(pattern)


def test_a_pattern_of_ones_own_that_may_backtrack_without_bound_stops_start_up():
    """It searches what clients and upstreams send: 24 'a's held the server 2.5 s."""
    with pytest.raises(ConfigError, match=r"redact: '\(a\+\)\+b' may backtrack without bound"):
        MockServer(record=["http://127.0.0.1:9/v1"], redact=["(a+)+b"]).start()
