"""Request checks with and without the fast first verdict (``checks.verdicts``): the same
answers, word for word, whether jsonschema-rs judges first or mock-server's compiler alone."""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import subprocess
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
        assert profile.check_request.verdict(ASK) is True  # the fast validator's own verdict
        refused = post_json(server, "/v1/chat/completions", {**ASK, "temperature": "hot"})
        assert refused.status == 400 and refused.json()["error"]["param"] == "temperature"


DEFERRED = """
import http.client, json, sys
from mock_server.checks.verdicts import WARM_UP
from mock_server.testing.runner import MockServer

def ask(server, number):
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"hi {number}"}]}
    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    connection.request("POST", "/v1/chat/completions", json.dumps(body),
                       {"Authorization": "Bearer sk-x", "Content-Type": "application/json"})
    assert connection.getresponse().status == 200
    connection.close()

with MockServer() as server:
    for number in range(5):
        ask(server, number)
    print("jsonschema_rs" in sys.modules)
    for number in range(5, WARM_UP):
        ask(server, number)
    print("jsonschema_rs" in sys.modules)
"""


@WITH_FAST_EXTRA
def test_a_server_loads_jsonschema_rs_only_once_a_schema_has_judged_the_warm_up():
    """In a process of its own: a test's few requests leave the library unloaded."""
    done = subprocess.run(
        [sys.executable, "-c", DEFERRED], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


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


class _BrokenInstall(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """An installed jsonschema-rs whose compiled part cannot be loaded."""

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name == "jsonschema_rs" else None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        raise ImportError("cannot open shared object file", name="jsonschema_rs.jsonschema_rs")


def warnings_said(caplog) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "mock_server" and record.levelno >= logging.WARNING
    ]


def test_an_install_that_cannot_be_imported_is_said_once_and_the_compiler_judges(
    monkeypatch, caplog
):
    monkeypatch.setattr(verdicts, "jsonschema_rs", verdicts._NOT_YET)
    monkeypatch.delitem(sys.modules, "jsonschema_rs", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_BrokenInstall(), *sys.meta_path])
    assert verdicts.fast_verdicts() == "jsonschema-rs"  # installed, as far as can be seen
    assert verdicts.meta_valid({"type": "object"}) is None
    assert verdicts.meta_valid({"type": "object"}) is None
    assert verdicts.fast_verdicts() is None
    assert warnings_said(caplog) == [
        "mock-server: jsonschema-rs cannot be imported (cannot open shared object file): "
        "request bodies are judged by mock-server's schema compiler alone"
    ]


@WITH_FAST_EXTRA
def test_a_schema_the_fast_validator_cannot_build_is_said_once_and_judged_by_the_compiler(caplog):
    schema = {"type": "string", "pattern": "(unclosed"}
    worded: list[object] = []
    check = verdicts.Verdicts({"user.json": schema}).first(schema, "user.json", worded.append)
    check.build_now()
    assert not check.built
    check("text")
    assert worded == ["text"]
    said = warnings_said(caplog)
    assert len(said) == 1 and "\n" not in said[0]
    assert said[0].startswith("mock-server: user.json: no fast validator (")
    assert said[0].endswith("); its bodies are judged by mock-server's schema compiler alone")
