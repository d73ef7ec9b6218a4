"""A request sent again gets what it got the first time: the checks remember the bodies that
passed (``checks.request.PassedBodies``) and completion bodies are kept as bytes
(``wire.kept_bodies``), without changing a byte of any answer but its id and time; requests a
fixed reply answers share a kept body, each with its own usage."""

from __future__ import annotations

import json
import time

import pytest
from conftest import TenantHandle

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "again?"}]}


def without_id_and_time(raw: bytes) -> tuple[bytes, dict]:
    data = json.loads(raw)
    return raw.replace(data["id"].encode(), b"<id>").replace(
        b"%d" % data["created"], b"<created>"
    ), data


@pytest.mark.parametrize("profile", [None, "google", "deepseek", "gomodel"])
def test_a_repeated_request_gets_the_same_body_with_its_own_id_and_time(tenant, profile):
    tenant.add(
        {"name": "again", "match": {"last_user_message": "again?"}, "reply": {"content": "Yes."}}
    )
    first, second, third = (tenant.post(BODY, profile) for _ in range(3))
    shapes = [without_id_and_time(r.body) for r in (first, second, third)]
    assert shapes[0][0] == shapes[1][0] == shapes[2][0]
    ids = {data["id"] for _, data in shapes}
    assert len(ids) == 3
    assert all(abs(data["created"] - time.time()) < 60 for _, data in shapes)
    assert shapes[2][1]["choices"][0]["message"]["content"] == "Yes."
    assert [r.headers["content-length"] for r in (first, second, third)] == [
        str(len(r.body)) for r in (first, second, third)
    ]


def test_generated_tool_call_ids_are_new_each_time(tenant):
    tenant.add(
        {
            "name": "tool",
            "match": {"last_user_message": "again?"},
            "reply": {"tool_calls": [{"name": "lookup", "arguments": {"q": "x"}}]},
        }
    )
    calls = [
        tenant.post(BODY).json()["choices"][0]["message"]["tool_calls"][0]["id"] for _ in range(3)
    ]
    assert len(set(calls)) == 3


def test_a_replaced_scenario_answers_at_once(tenant):
    tenant.add(
        {"name": "swap", "match": {"last_user_message": "again?"}, "reply": {"content": "old"}}
    )
    assert tenant.post(BODY).json()["choices"][0]["message"]["content"] == "old"
    tenant.add(
        {"name": "swap", "match": {"last_user_message": "again?"}, "reply": {"content": "new"}}
    )
    assert tenant.post(BODY).json()["choices"][0]["message"]["content"] == "new"


def test_each_step_of_a_sequence_is_its_own_body(tenant):
    tenant.add({"name": "seq", "sequence": [{"content": "one"}, {"content": "two"}]})
    said = [tenant.post(BODY).json()["choices"][0]["message"]["content"] for _ in range(4)]
    assert said == ["one", "two", "two", "two"]


def test_a_refused_body_is_refused_every_time(tenant):
    bad = {**BODY, "temperature": 9}
    answers = [tenant.post(bad) for _ in range(3)]
    assert {a.status for a in answers} == {400}
    assert len({a.json()["error"]["message"] for a in answers}) == 1
    assert answers[0].json()["error"]["param"] == "temperature"


def test_a_passed_body_still_has_its_integers_made_integers(tenant):
    for _ in range(2):
        choices = tenant.post({**BODY, "n": 2.0}).json()["choices"]
        assert [c["index"] for c in choices] == [0, 1]


def test_a_fallback_warning_comes_with_the_kept_body_too(tenant):
    body = {
        **BODY,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": {"type": "object", "not": {}}},
        },
    }
    answers = [tenant.post(body) for _ in range(2)]
    assert answers[0].status == answers[1].status == 200
    warnings = [a.headers.get("x-mock-fallback-warning") for a in answers]
    assert warnings[0] and warnings[0] == warnings[1]


@pytest.mark.parametrize(
    ("profile", "asked"),
    [
        (None, {}),
        (None, {"n": 2, "max_tokens": 1}),
        (None, {"logprobs": True, "top_logprobs": 2}),
        ("google", {}),
        ("deepseek", {}),
        ("gomodel", {"provider": "openai"}),
    ],
)
def test_requests_a_fixed_reply_answers_get_what_a_fresh_answer_would_be(tenant, profile, asked):
    """Bodies that differ (a counter in the system prompt) get the kept body of their reply,
    with their own id, time and prompt count: byte for byte what the reply makes afresh."""
    scenario = {
        "name": "fixed",
        "match": {"last_user_message": "again?"},
        "reply": {"content": "Yes, again."},
    }

    def body(number: int) -> dict:
        system = {"role": "system", "content": "Be brief. " * number}
        return {**BODY, **asked, "messages": [system, *BODY["messages"]]}

    tenant.add(scenario)
    answers = [tenant.post(body(number), profile) for number in range(1, 6)]
    fresh = TenantHandle(tenant.server, tenant.name + "-fresh")
    fresh.add(scenario)  # a reply spec of its own: nothing kept for it yet
    expected = [fresh.post(body(number), profile) for number in (5,)]
    assert [a.status for a in answers] == [200] * 5
    assert without_id_and_time(answers[-1].body)[0] == without_id_and_time(expected[0].body)[0]
    prompts = [a.json()["usage"]["prompt_tokens"] for a in answers]
    assert prompts == sorted(set(prompts))  # each its own count, growing with the prompt
    assert len({a.json()["id"] for a in answers}) == 5
