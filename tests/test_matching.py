"""Every match condition, the tie-break rules, and strict mode's near-miss report."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import post_json

from mock_server.config import Settings
from mock_server.errors import ConfigError
from mock_server.server.app import create_app

BASE = {"model": "gpt-4o", "messages": [{"role": "user", "content": "What is the time?"}]}
TOOL = {"type": "function", "function": {"name": "clock", "parameters": {"type": "object"}}}
JSON_MODE = {
    **BASE,
    "messages": [{"role": "user", "content": "What is the time, in JSON?"}],
    "response_format": {"type": "json_object"},
}


def content(response) -> str:
    assert response.status == 200, response.body
    return response.json()["choices"][0]["message"]["content"]


def only(match: dict, name: str = "it") -> dict:
    return {"name": name, "match": match, "reply": {"content": "matched"}}


def answered(function: str) -> list[dict]:
    """An assistant's call to ``function`` and its result, as a conversation holds them."""
    call = {"id": "call_1", "type": "function", "function": {"name": function, "arguments": "{}"}}
    return [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "12:00"},
    ]


CONDITIONS = [
    # (match, a body that matches, a body that does not)
    ({"model": "gpt-4o*"}, BASE, {**BASE, "model": "o3-mini"}),
    ({"model": {"regex": "^gpt-4\\.1"}}, {**BASE, "model": "gpt-4.1-mini"}, BASE),
    ({"model": "gpt-4o"}, BASE, {**BASE, "model": "gpt-4o-mini"}),
    (
        {"last_user_message": {"contains": "time"}},
        BASE,
        {**BASE, "messages": [{"role": "user", "content": "date?"}]},
    ),
    (
        {"last_user_message": {"equals": "What is the time?"}},
        BASE,
        {**BASE, "messages": [{"role": "user", "content": "What is the time"}]},
    ),
    (
        {"last_user_message": {"regex": "(?i)^what"}},
        BASE,
        {**BASE, "messages": [{"role": "user", "content": "so what"}]},
    ),
    (
        {"system_message": {"contains": "pirate"}},
        {
            **BASE,
            "messages": [{"role": "system", "content": "Talk like a pirate."}, *BASE["messages"]],
        },
        BASE,
    ),
    (
        {"last_message_role": "assistant"},
        {**BASE, "messages": [*BASE["messages"], {"role": "assistant", "content": "Noon."}]},
        BASE,
    ),
    ({"tools": ["clock"]}, {**BASE, "tools": [TOOL]}, BASE),
    (
        {"tool_choice": "required"},
        {**BASE, "tools": [TOOL], "tool_choice": "required"},
        {**BASE, "tools": [TOOL], "tool_choice": "auto"},
    ),
    (
        {"tool_choice": "clock"},
        {
            **BASE,
            "tools": [TOOL],
            "tool_choice": {"type": "function", "function": {"name": "clock"}},
        },
        {**BASE, "tools": [TOOL]},
    ),
    ({"stream": False}, BASE, {**BASE, "stream": True}),
    ({"response_format": "text"}, {**BASE, "response_format": {"type": "text"}}, JSON_MODE),
    ({"response_format": "json_object"}, JSON_MODE, BASE),
    (
        {"response_format": "json_schema"},
        {**BASE, "response_format": {"type": "json_schema", "json_schema": {"name": "t"}}},
        JSON_MODE,
    ),
    (
        {"tool_name": "clock"},
        {**BASE, "tools": [TOOL], "messages": [*BASE["messages"], *answered("clock")]},
        {**BASE, "tools": [TOOL], "messages": [*BASE["messages"], *answered("calendar")]},
    ),
    (
        {"turn": 2},
        {
            **BASE,
            "messages": [
                *BASE["messages"],
                {"role": "assistant", "content": "Noon."},
                {"role": "user", "content": "Sure?"},
            ],
        },
        BASE,
    ),
]


@pytest.mark.parametrize(
    ("match", "hit", "miss"),
    CONDITIONS,
    ids=[f"{index}-{next(iter(match))}" for index, (match, _, _) in enumerate(CONDITIONS)],
)
def test_condition(tenant, match, hit, miss):
    tenant.add(only(match))
    assert content(tenant.post(hit)) == "matched"
    if miss.get("stream"):
        assert tenant.post(miss).body.count(b"matched") == 0
    else:
        assert content(tenant.post(miss)) != "matched"


def test_header_condition_is_case_insensitive(tenant):
    tenant.add(only({"headers": {"X-Feature": "beta"}}))
    assert content(tenant.post(BASE, headers={"x-feature": "beta"})) == "matched"
    assert content(tenant.post(BASE, headers={"x-feature": "alpha"})) != "matched"


def test_profile_restriction(tenant):
    tenant.add({"name": "ds", "profile": "deepseek", "reply": {"content": "deepseek only"}})
    assert content(tenant.post(BASE, profile="deepseek")) == "deepseek only"
    assert content(tenant.post(BASE)) != "deepseek only"


def test_a_profile_the_server_does_not_have_is_refused(tenant, tmp_path):
    """Such a scenario could never match: added, it is a 400; in a file, the server will not
    start."""
    refused = tenant.admin("POST", "/scenarios", {"name": "ds", "profile": "deepsek", "reply": {}})
    assert refused.status == 400
    assert refused.json()["error"]["message"] == (
        "<admin>:1:1: scenario 'ds': unknown profile 'deepsek'; did you mean 'deepseek'?"
    )
    path = tmp_path / "s.yaml"
    path.write_text("- name: ds\n  profile: deepsek\n  reply: {content: x}\n")
    with pytest.raises(ConfigError) as caught:
        create_app(Settings(scenarios=[str(path)]))
    assert str(caught.value) == (
        f"{path}:1:3: scenario 'ds': unknown profile 'deepsek'; did you mean 'deepseek'?"
    )


def test_all_conditions_must_hold(tenant):
    tenant.add(only({"model": "gpt-4o", "last_user_message": {"contains": "weather"}}))
    assert content(tenant.post(BASE)) != "matched"


def test_no_conditions_matches_anything(tenant):
    tenant.add({"name": "catch-all", "reply": {"content": "anything"}})
    assert content(tenant.post({**BASE, "model": "whatever"})) == "anything"


def test_priority_wins_over_specificity(tenant):
    tenant.add(
        [
            {
                "name": "specific",
                "match": {"model": "gpt-4o", "turn": 1},
                "reply": {"content": "specific"},
            },
            {"name": "urgent", "priority": 5, "reply": {"content": "urgent"}},
        ]
    )
    assert content(tenant.post(BASE)) == "urgent"


def test_specificity_breaks_priority_ties(tenant):
    tenant.add(
        [
            {"name": "broad", "match": {"model": "gpt-4o"}, "reply": {"content": "broad"}},
            {
                "name": "narrow",
                "match": {"model": "gpt-4o", "turn": 1},
                "reply": {"content": "narrow"},
            },
        ]
    )
    assert content(tenant.post(BASE)) == "narrow"


def test_order_breaks_remaining_ties(tenant):
    tenant.add(
        [
            {"name": "first", "match": {"model": "gpt-4o"}, "reply": {"content": "first"}},
            {"name": "second", "match": {"model": "gpt-4o"}, "reply": {"content": "second"}},
        ]
    )
    assert content(tenant.post(BASE)) == "first"


def test_added_scenario_can_shadow_a_file_scenario(tenant):
    hello = {**BASE, "messages": [{"role": "user", "content": "Hello"}]}
    assert content(tenant.post(hello)) == "Hello! How can I help you today?"  # bundled
    tenant.add({"name": "greeting", "reply": {"content": "shadowed"}})
    assert content(tenant.post(hello)) == "shadowed"


def test_a_tenants_scenarios_come_before_the_servers(tenant, server):
    """A test's catch-all answers its requests on a server with scenarios of its own (the
    bundled, more specific and of higher priority ``greeting`` here), as on an empty server;
    another tenant still gets the server's."""
    hello = {**BASE, "messages": [{"role": "user", "content": "Hello"}]}
    tenant.add({"name": "anything", "priority": -5, "reply": {"content": "mine"}})
    assert content(tenant.post(hello)) == "mine"
    path = "/t/other-tenant-of-the-server/v1/chat/completions"
    assert post_json(server, path, hello).json()["choices"][0]["message"]["content"] == (
        "Hello! How can I help you today?"
    )


def test_indexed_and_unindexed_scenarios_keep_rank_order(tenant):
    tenant.add(
        [
            {
                "name": "by-text",
                "match": {"last_user_message": {"equals": "What is the time?"}},
                "reply": {"content": "text"},
            },
            {
                "name": "by-model",
                "priority": 1,
                "match": {"model": "gpt-4o"},
                "reply": {"content": "model"},
            },
            {
                "name": "general",
                "priority": 2,
                "match": {"turn": 1},
                "reply": {"content": "general"},
            },
        ]
    )
    assert content(tenant.post(BASE)) == "general"
    tenant.admin("DELETE", "/scenarios/general")
    assert content(tenant.post(BASE)) == "model"
    tenant.admin("DELETE", "/scenarios/by-model")
    assert content(tenant.post(BASE)) == "text"


def test_strict_near_miss_report_matches_golden_file(tenant):
    tenant.admin("POST", "/settings", {"strict": True})
    tenant.add(
        [
            {
                "name": "weather",
                "match": {"model": "gpt-4o", "last_user_message": {"contains": "weather"}},
            },
            {"name": "claude", "match": {"model": "claude-*", "stream": True}},
        ]
    )
    body = {**BASE, "messages": [{"role": "user", "content": "Good evening, friend"}]}
    response = tenant.post(body)
    assert response.status == 404
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("mock_no_match", "mock_no_match")
    golden = Path(__file__).parent / "golden" / "near_miss.txt"
    assert error["message"] + "\n" == golden.read_text()
    journal = tenant.requests(unmatched="true")
    assert journal[-1]["near_miss"][1]["scenario"] == "weather"


def test_tool_name_reads_a_responses_conversation(tenant):
    tenant.add(only({"tool_name": "clock"}))
    call = {"type": "function_call", "call_id": "call_9", "name": "clock", "arguments": "{}"}
    result = {"type": "function_call_output", "call_id": "call_9", "output": "12:00"}
    asked = {"role": "user", "content": "What is the time?"}
    answer = tenant.client().responses.create(model="gpt-4o", input=[asked, call, result])
    assert answer.output_text == "matched"
    other = tenant.client().responses.create(
        model="gpt-4o", input=[asked, {**call, "name": "calendar"}, result]
    )
    assert other.output_text != "matched"
