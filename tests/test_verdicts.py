"""Request checks with and without the fast first verdict (``checks.verdicts``): the same
answers, word for word, whether jsonschema-rs judges first or mock-server's compiler alone."""

from __future__ import annotations

import sys

import pytest
from conftest import post_json

from mock_server.checks import verdicts
from mock_server.checks.schema import Invalid
from mock_server.server.state import STATE
from mock_server.testing.runner import MockServer

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two"}]}
BODIES = [
    ASK,
    {**ASK, "n": 2.0, "max_tokens": 3},
    {**ASK, "bogus": 1},
    {**ASK, "temperature": "hot"},
    {**ASK, "temperature": 9},
    {"messages": ASK["messages"]},
    {**ASK, "messages": [{"role": "user", "content": 5}]},
    {**ASK, "tools": [{"type": "function", "function": {"name": "bad name!"}}]},
]
PATHS = [
    "/v1/chat/completions",
    "/deepseek/v1/chat/completions",
    "/google/v1beta/openai/chat/completions",
]


def answers(server: MockServer) -> list[tuple[int, object]]:
    out = []
    for path in PATHS:
        for body in BODIES:
            response = post_json(server, path, body)
            answer = response.json()
            if response.status == 200:
                answer = answer["choices"][0]["message"]["content"]
            out.append((response.status, answer))
    return out


WITH_FAST_EXTRA = pytest.mark.skipif(
    verdicts.fast_verdicts() is None, reason="needs the fast extra"
)


@WITH_FAST_EXTRA
def test_the_compiler_alone_answers_as_with_the_fast_verdict(monkeypatch):
    monkeypatch.setattr(verdicts, "WARM_UP", 1)  # the fast validator judges from the first body
    with MockServer() as fast, fast.tenant() as admin:
        assert admin.admin("GET", "/health")["fast_verdicts"] == "jsonschema-rs"
        judged_first = answers(fast)
    monkeypatch.setattr(verdicts, "jsonschema_rs", None)  # as where it cannot be installed
    with MockServer() as alone, alone.tenant() as admin:
        assert admin.admin("GET", "/health")["fast_verdicts"] is None
        assert answers(alone) == judged_first
    statuses = [status for status, _ in judged_first]
    assert statuses[:2] == [200, 200] and statuses.count(400) >= len(BODIES)


@WITH_FAST_EXTRA
def test_the_fast_validator_is_built_once_a_schema_has_judged_the_warm_up():
    """A server answering a test's few requests never builds it; one under load does, and then
    judges with it."""
    with MockServer() as server:
        profile = server.app[STATE].profiles.default
        checks = (profile.check_request, profile.check_read_fields)
        for sent in range(1, verdicts.WARM_UP + 1):
            body = {**ASK, "user": f"user-{sent}"}  # each body new: a body seen is not checked
            assert post_json(server, "/v1/chat/completions", body).status == 200
            assert [check.built for check in checks] == [sent == verdicts.WARM_UP] * 2, sent
        refused = post_json(server, "/v1/chat/completions", {**ASK, "temperature": "hot"})
        assert refused.status == 400 and refused.json()["error"]["param"] == "temperature"


def test_until_the_fast_validator_is_built_the_compiler_judges_every_body(monkeypatch):
    monkeypatch.setattr(verdicts, "WARM_UP", 3)
    worded: list[object] = []

    def compiled(value: object) -> None:
        worded.append(value)
        if value == "bad":
            raise Invalid("invalid_value", lambda where: f"{where} is bad")

    check = verdicts.FirstVerdict(lambda: lambda value: value != "bad", compiled)
    check("a")
    check("b")
    assert worded == ["a", "b"] and not check.built
    check("c")  # the third: built, and judged by it
    assert check.built and worded == ["a", "b"]
    with pytest.raises(Invalid):
        check("bad")  # refused by the fast validator, worded by the compiler
    assert worded == ["a", "b", "bad"]


def test_a_fast_validator_that_cannot_be_built_leaves_the_compiler_to_judge(monkeypatch):
    monkeypatch.setattr(verdicts, "WARM_UP", 1)
    worded: list[object] = []
    check = verdicts.FirstVerdict(lambda: None, worded.append)
    check("a")
    check("b")
    assert worded == ["a", "b"] and not check.built


class _BrokenInstall:
    """An installed jsonschema-rs whose compiled part cannot be loaded."""

    def find_spec(self, name, path=None, target=None):
        if name == "jsonschema_rs":
            raise ImportError("cannot open shared object file", name="jsonschema_rs.jsonschema_rs")
        return None


def test_an_install_that_cannot_be_imported_is_said_once_and_the_compiler_judges(
    monkeypatch, caplog
):
    monkeypatch.setattr(verdicts, "jsonschema_rs", verdicts._NOT_YET)
    monkeypatch.delitem(sys.modules, "jsonschema_rs", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_BrokenInstall(), *sys.meta_path])
    assert verdicts.meta_valid({"type": "object"}) is None
    assert verdicts.meta_valid({"type": "object"}) is None
    assert verdicts.fast_verdicts() is None
    said = [record.getMessage() for record in caplog.records]
    assert said == [
        "mock-server: jsonschema-rs cannot be imported (cannot open shared object file): "
        "request bodies are judged by mock-server's schema compiler alone"
    ]
