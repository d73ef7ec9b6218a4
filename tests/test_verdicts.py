"""Request checks with and without the fast first verdict (``checks.verdicts``): the same
answers, word for word, whether jsonschema-rs judges first or mock-server's compiler alone."""

from __future__ import annotations

import pytest
from conftest import post_json

from mock_server.checks import verdicts
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


@pytest.mark.skipif(verdicts.fast_verdicts() is None, reason="needs the fast extra")
def test_the_compiler_alone_answers_as_with_the_fast_verdict(monkeypatch):
    with MockServer() as fast, fast.tenant() as admin:
        assert admin.admin("GET", "/health")["fast_verdicts"] == "jsonschema-rs"
        judged_first = answers(fast)
    monkeypatch.setattr(verdicts, "jsonschema_rs", None)  # as where it cannot be installed
    with MockServer() as alone, alone.tenant() as admin:
        assert admin.admin("GET", "/health")["fast_verdicts"] is None
        assert answers(alone) == judged_first
    statuses = [status for status, _ in judged_first]
    assert statuses[:2] == [200, 200] and statuses.count(400) >= len(BODIES)
