"""A client's JSON Schema and regular expressions are client data: whatever the schema, the
fallback answers 200 or a clear 400, quickly, without a traceback, and other tenants, the admin
API and SIGTERM are never kept waiting behind it. Raw HTTP against real servers throughout."""

from __future__ import annotations

import http.client
import json
import logging
import math
import re
import threading
import time
import uuid

import pytest
from conftest import API_KEY, post_json, raw_request
from jsonschema import Draft202012Validator
from processes import serving

from mock_server.engine import patterns

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three"}]}
# A gateway's profile, which passes any JSON Schema through to the fallback: the openai profile
# refuses a root that is not an object, as OpenAI does (checks/client_schema_rules.py), and these
# schemas test the fallback's bounds, roots of every type among them.
CHAT = "/gomodel/v1/chat/completions"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
CATASTROPHIC = "^(a+)+$(?!)"  # backtracks 2^n ways on n a's, and never matches


def structured(schema: object) -> dict:
    return {
        **ASK,
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }


def forced_tool(schema: object) -> dict:
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    return {**ASK, "tools": [tool], "tool_choice": "required"}


def fresh(schema: dict) -> dict:
    """``schema`` made unlike any sent before, so the server's schema cache cannot answer it."""
    return {**schema, "$comment": uuid.uuid4().hex}


def generated(response) -> object:
    message = response.json()["choices"][0]["message"]
    if message.get("tool_calls"):
        return json.loads(message["tool_calls"][0]["function"]["arguments"])
    return json.loads(message["content"])


@pytest.fixture
def quiet(caplog):
    """Fails the test if the server logged a warning or an error (a traceback among them)."""
    with caplog.at_level(logging.WARNING):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


# 1. A catastrophic regex is never run unbounded: not to build a string, not to check a value.

REGEX_ATTACKS = {
    "pattern with minLength": {
        "type": "object",
        "properties": {"p": {"type": "string", "pattern": CATASTROPHIC, "minLength": 30}},
        "required": ["p"],
    },
    "pattern over an enum member": {
        "type": "string",
        "enum": ["a" * 40 + "!"],
        "pattern": "^(a+)+$",
    },
    "patternProperties over a name": {
        "type": "object",
        "properties": {"a" * 40 + "!": {}},
        "required": ["a" * 40 + "!"],
        "patternProperties": {"^(a+)+$": {"type": "integer"}},
    },
    "pattern reached through not and $ref": {
        "x-hidden": {"type": "string", "pattern": "^(a+)+$"},
        "type": "string",
        "minLength": 40,
        "not": {"$ref": "#/x-hidden"},
    },
    "pattern in data that a $ref reaches": {
        "type": "string",
        "minLength": 40,
        "default": {"pattern": "^(a+)+$"},
        "not": {"$ref": "#/default"},
    },
    "pattern in propertyNames": {
        "type": "object",
        "properties": {"a" * 40 + "!": {}},
        "required": ["a" * 40 + "!"],
        "propertyNames": {"pattern": "^(a|a)+$"},
    },
    # Case folding joins characters across kinds: (?i:\u017f) matches s, the accent \u0345 iota.
    "alternatives that meet through case folding": {
        "type": "string",
        "allOf": [{"pattern": "^s{25}!$"}, {"pattern": "(?:(?i:\u017f)|s)*$"}],
    },
    "rounds that meet through case folding": {
        "type": "string",
        "const": "\u03b9" * 25 + "!",
        "pattern": "(?i)(\u0345\u03b9*)*$",
    },
}


@pytest.mark.parametrize("where", [structured, forced_tool], ids=["response_format", "tool"])
@pytest.mark.parametrize("schema", REGEX_ATTACKS.values(), ids=REGEX_ATTACKS.keys())
def test_a_catastrophic_pattern_is_not_run(server, quiet, where, schema):
    started = time.monotonic()
    response = post_json(server, CHAT, where(fresh(schema)))
    assert time.monotonic() - started < 1
    assert response.status == 200, response.body
    assert "pattern" in response.headers["x-mock-fallback-warning"]


@pytest.mark.parametrize(
    "pattern",
    # \w and \W test a character as it is, case ignored or not: their rounds split one way only.
    [r"^[a-z0-9]+(?:-[a-z0-9]+)*$", r"(?i)^(?:\w+\W)*\w+$"],
)
def test_a_pattern_that_runs_quickly_is_still_satisfied(server, quiet, pattern):
    schema = {"type": "string", "pattern": pattern, "minLength": 20}
    response = post_json(server, CHAT, structured(fresh(schema)))
    assert response.status == 200 and "x-mock-fallback-warning" not in response.headers
    assert not list(Draft202012Validator(schema).iter_errors(generated(response)))


DATA_LIKE_A_SCHEMA = {
    "const": {"pattern": "^(a+)+$", "minItems": 2.0, "patternProperties": {"^(a+)+$": 1}},
    "enum": [{"pattern": "^(a+)+$", "maxLength": 1.0}, "a" * 40 + "!"],
    "properties": {"pattern": {"type": "string"}, "minItems": {"type": "number"}},
}


@pytest.mark.parametrize("keyword", ["const", "enum", "properties"])
def test_data_and_property_names_are_kept_as_sent(server, quiet, keyword):
    schema = {"type": "object", keyword: DATA_LIKE_A_SCHEMA[keyword]}
    if keyword == "properties":
        schema["required"] = ["pattern", "minItems"]
    response = post_json(server, CHAT, structured(fresh(schema)))
    assert response.status == 200, response.body
    value = generated(response)
    assert not list(Draft202012Validator(schema).iter_errors(value))
    if keyword != "properties":
        sent = schema["const"] if keyword == "const" else schema["enum"][0]
        assert json.dumps(value, sort_keys=True) == json.dumps(sent, sort_keys=True)


def test_another_tenant_and_the_admin_api_answer_meanwhile(server, tenant, quiet):
    schema = REGEX_ATTACKS["pattern with minLength"]
    attacker = f"/t/{tenant.name}-attacker{CHAT}"
    statuses: list[int] = []

    def attack() -> None:
        for _ in range(20):
            statuses.append(post_json(server, attacker, structured(fresh(schema))).status)

    thread = threading.Thread(target=attack)
    thread.start()
    slowest = 0.0
    while thread.is_alive() or not slowest:
        for method, path, payload in (
            ("POST", f"/t/{tenant.name}{CHAT}", ASK),
            ("GET", "/__admin/health", None),
        ):
            started = time.monotonic()
            data = None if payload is None else json.dumps(payload).encode()
            assert raw_request(server, method, path, data, HEADERS).status == 200
            slowest = max(slowest, time.monotonic() - started)
    thread.join()
    assert statuses == [200] * 20
    assert slowest < 1


def test_sigterm_stops_a_server_that_was_sent_one(tmp_path):
    body = json.dumps(structured(fresh(REGEX_ATTACKS["pattern with minLength"]))).encode()
    with serving(tmp_path) as (port, lines):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("POST", CHAT, body, HEADERS)
        assert connection.getresponse().status == 200
        connection.request("POST", CHAT, body, HEADERS)  # still in flight
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5  # SIGTERM, and the process has exited
    connection.close()
    assert not [line for line in lines if "Traceback" in line], lines


def test_without_the_regex_parser_no_pattern_is_built_or_run(server, quiet, monkeypatch):
    monkeypatch.setattr(patterns, "regex_text", None)
    monkeypatch.setattr(patterns, "regex_cost", None)
    for schema in REGEX_ATTACKS.values():
        response = post_json(server, CHAT, structured(fresh(schema)))
        assert response.status == 200, response.body
        assert "pattern" in response.headers["x-mock-fallback-warning"]
    plain = {"type": "string", "pattern": "^[a-z]{3}$"}
    response = post_json(server, CHAT, structured(fresh(plain)))
    assert response.status == 200
    assert "could not be satisfied" in response.headers["x-mock-fallback-warning"]


# 2. Valid JSON Schemas the generator could not take: integral decimals as counts, bounds past a
# float's range, cycles through anyOf.


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "minItems": 3.0},
        {"type": "array", "maxItems": 0.0},
        {"type": "object", "minProperties": 2.0},
        {"type": "string", "minLength": 12.0},
        {"type": "string", "maxLength": 5.0},
        {"type": "string", "pattern": "^a+$", "minLength": 9.0},
        {"type": "array", "items": {"type": "string", "maxLength": 2.0}, "minItems": 2.0},
        {"type": "number", "minimum": 1e308, "maximum": 1.7e308},
        {"type": "integer", "multipleOf": 1e-300},
        {"type": "number", "exclusiveMaximum": -1e308},
        {"type": "integer", "maximum": -1.7e308},
        {"type": "number", "exclusiveMinimum": -1e308, "maximum": -1e307},
    ],
)
def test_integral_decimals_and_huge_bounds_get_a_valid_value(server, quiet, schema):
    response = post_json(server, CHAT, structured(schema))
    assert response.status == 200, response.body
    assert not list(Draft202012Validator(schema).iter_errors(generated(response)))


@pytest.mark.parametrize(
    "schema, why",
    [
        ({"type": "number", "exclusiveMinimum": 1.7e308, "multipleOf": 1e-10}, "float"),
        ({"type": "number", "minimum": 1, "multipleOf": 5e-324}, "float"),
        ({"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}, "chains"),
        ({"$defs": {"a": {"oneOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}, "chains"),
        ({"$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}, "chains"),
        ({"$ref": "#/const", "const": {"required": 5}}, "no schema"),
        ({"type": "string", "pattern": "(" * 5000 + ")" * 5000}, "past what"),
    ],
)
def test_what_the_fallback_cannot_compute_is_a_clear_400(server, quiet, schema, why):
    for body in (structured(schema), forced_tool(schema)):
        response = post_json(server, CHAT, body)
        assert response.status == 400, response.body
        error = response.json()["error"]
        assert error["code"] == "mock_fallback_unsatisfiable"
        assert why in error["message"]


def test_a_schema_too_large_to_check_quickly_is_refused(server, quiet):
    wide = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(1200)}}
    deep: dict = {"type": "string"}
    for _ in range(70):
        deep = {"type": "array", "items": deep}
    booleans = {"anyOf": [True] * 5000}  # each a subschema the meta-schema check visits
    long_pattern = {"type": "string", "pattern": "(?:ab|cd)" * 2000}
    cases = (
        (wide, "1000 objects"),
        (booleans, "1000 objects and booleans"),
        (deep, "64 levels"),
        (long_pattern, "10000 characters"),
    )
    for schema, why in cases:
        started = time.monotonic()
        response = post_json(server, CHAT, structured(schema))
        assert time.monotonic() - started < 1
        assert response.status == 400, response.body
        assert why in response.json()["error"]["message"]


def test_checking_a_value_is_bounded(server, quiet):
    # Validation tries both branches of every anyOf: 2^30 paths through ``not``.
    defs = {f"a{i}": {"anyOf": [{"$ref": f"#/$defs/a{i + 1}"}] * 2} for i in range(30)}
    schema = {"type": "string", "not": {"$ref": "#/$defs/a0"}, "$defs": defs}
    schema["$defs"]["a30"] = {"type": "integer"}
    started = time.monotonic()
    response = post_json(server, CHAT, structured(fresh(schema)))
    assert time.monotonic() - started < 2
    assert response.status == 200
    assert "was not checked" in response.headers["x-mock-fallback-warning"]


def test_unique_items_that_do_not_sort_are_not_compared_without_bound(server, quiet):
    # Items of mixed types are compared pair by pair: 12.5 million pairs.
    schema = {"type": "array", "uniqueItems": True, "const": ["s", *range(5000)]}
    started = time.monotonic()
    response = post_json(server, CHAT, structured(fresh(schema)))
    assert time.monotonic() - started < 1
    assert response.status == 200
    assert "was not checked: it takes over" in response.headers["x-mock-fallback-warning"]


def test_warnings_are_header_safe(server, quiet):
    name = "a\r\nX-Injected: 1 \u00e9"
    schema = {
        "type": "object",
        "properties": {name: {"type": "string", "pattern": "^(?=x)y$" + "z?" * 2000}},
        "required": [name],
    }
    response = post_json(server, CHAT, structured(schema))
    assert response.status == 200
    warning = response.headers["x-mock-fallback-warning"]
    assert "x-injected" not in response.headers
    assert warning.isascii() and len(warning) <= 400
    assert "a\\r\\nX-Injected: 1 \\xe9" in warning


# 3. Tool-call arguments nested deeper than a request body may nest are text to a template: too
# deep for the parser, or deeper than the 128 levels the server reads anywhere.


@pytest.mark.parametrize("arguments", ["[" * 100_000, "[ " * 500 + "]" * 500])
def test_deeply_nested_tool_call_arguments_are_text(tenant, quiet, arguments):
    tenant.add({"name": "echo", "reply": {"content": "{{ tool_calls[0].arguments | json }}"}})
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    body = {
        **ASK,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ],
    }
    response = tenant.post(body)
    assert response.status == 200, response.body
    assert response.json()["choices"][0]["message"]["content"] == json.dumps(arguments)


def test_a_scenario_regex_that_backtracks_without_bound_is_refused(tenant):
    catastrophic = {
        "name": "redos",
        "match": {"last_user_message": {"regex": "^(a+)+$"}},
        "reply": {"content": "never"},
    }
    refused = tenant.admin("POST", "/scenarios", {"scenarios": [catastrophic]})
    assert refused.status == 400
    assert "may backtrack without bound" in refused.json()["error"]["message"]
    tenant.add({**catastrophic, "match": {"last_user_message": {"regex": "^a+$"}}})
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "a" * 50_000 + "!"}]}
    assert tenant.post(body).status == 200


def test_a_scenario_regex_is_not_run_on_text_longer_than_it_can_search_quickly(tenant):
    tenant.add(
        {
            "name": "cubic",
            "match": {"last_user_message": {"regex": ".*.*.*="}},
            "reply": {"content": "matched"},
        }
    )
    short = {"model": "gpt-4o", "messages": [{"role": "user", "content": "a = b"}]}
    assert tenant.post(short).json()["choices"][0]["message"]["content"] == "matched"
    long = {"model": "gpt-4o", "messages": [{"role": "user", "content": "a" * 200_000}]}
    started = time.monotonic()
    answer = tenant.post(long)
    assert answer.status == 200 and time.monotonic() - started < 1
    (miss,) = [m for m in tenant.requests()[-1]["near_miss"] if m["scenario"] == "cubic"]
    assert "200,000 characters, more than this regex is run on" in miss["failed"][0]


@pytest.mark.parametrize(
    ("regex", "text", "longest"),
    [
        # A backreference compares what its group took: up to the whole text, each try.
        (r"(.*)\1x", "a" * 9_000, 1_000),
        # A repeat of a group goes round the engine's general loop; case ignored costs more.
        ("(?i)(A|a)+c", "a" * 12_000, 3_000),
    ],
)
def test_what_a_regex_step_costs_bounds_the_text_it_searches(tenant, regex, text, longest):
    """The slower steps count as such: these searches took 39 s and 2.2 s on these texts,
    while every other request waited."""
    assert patterns.longest_searched(regex) < longest
    tenant.add({"name": "slow", "match": {"last_user_message": {"regex": regex}}})
    started = time.monotonic()
    answer = tenant.post({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]})
    assert answer.status == 200 and time.monotonic() - started < 1


def test_what_the_weights_leave_alone():
    """A backreference to a group of one character compares one; a weight counts once for the
    whole pattern, however its parts nest."""
    assert patterns.longest_searched(r"(\w)(\w)(\w)\3\2\1") == math.inf
    nested = patterns.longest_searched("(?:(?i:ab))+c")
    assert nested == patterns.longest_searched("(?i)(?:ab)+c") > 3_000


def test_a_regex_nested_deeper_than_the_stack_is_judged_without_error(tenant):
    """The walk that sizes what compiling a pattern folds does not recurse: a pattern that
    compiles (340 groups deep) is no 500, in a client's schema or in a scenario (whose cost
    cannot be bounded that deep: a 400 saying so)."""
    deep = "(?i)" + "(a|" * 340 + "[a-z]" + ")" * 340
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": deep}}}
    format_ = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    tenant.add({"name": "any", "match": {"last_user_message": "deep"}, "reply": {"content": "{}"}})
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "deep"}]}
    assert tenant.post({**body, "response_format": format_}).status == 200
    scenario = {"name": "deep", "match": {"last_user_message": {"regex": deep}}}
    refused = tenant.admin("POST", "/scenarios", {"scenarios": [scenario]})
    assert refused.status == 400 and "may backtrack" in refused.json()["error"]["message"]


def test_a_long_literal_regex_is_taken(tenant):
    """The recorder writes a prompt holding something like a key as a regex of the whole text,
    escaped: however long, it loads."""
    text = "Use sk-your-key-here. " + "word " * 3_000
    scenario = {
        "name": "recorded",
        "match": {"last_user_message": {"regex": f"^{re.escape(text)}$"}},
    }
    tenant.add({**scenario, "reply": {"content": "taken"}})
    answer = tenant.post({"model": "gpt-4o", "messages": [{"role": "user", "content": text}]})
    assert answer.json()["choices"][0]["message"]["content"] == "taken"


def test_a_pattern_that_folds_wide_ranges_is_refused_before_it_is_compiled(tenant):
    """Compiling ``(?i)`` with a character class over all of Unicode folds each code point in
    turn (7 ms a class): the meta-schema check compiled every pattern while the server waited."""
    wide = "(?i)" + "[\x00-\U0010fffe]" * 300
    schema = {"type": "object", "properties": {"a": {"type": "string", "pattern": wide}}}
    format_ = {"type": "json_schema", "json_schema": {"name": "s", "schema": schema}}
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}
    started = time.monotonic()
    answer = tenant.post({**body, "response_format": format_})
    assert answer.status == 400 and time.monotonic() - started < 1
    assert "ignore case over character ranges" in answer.json()["error"]["message"]
    two = "(?i)" + "[\\x00-\\U0010fffe]" * 2  # 2.2 million code points
    scenario = {"name": "wide", "match": {"last_user_message": {"regex": two}}}
    refused = tenant.admin("POST", "/scenarios", {"scenarios": [scenario]})
    assert refused.status == 400 and "narrow the ranges" in refused.json()["error"]["message"]


def test_a_requests_long_texts_are_searched_within_a_bound_however_many_scenarios(tenant):
    text = "a" * 4_000_000 + "needle"  # 25 searches of it pass the bound of 100,000,000
    # The 24 scenarios searched first (their priority) find nothing; the bound stops the 25th.
    absent = [
        only_if({"last_user_message": {"contains": f"absent {n}"}}, f"absent{n}", 1)
        for n in range(24)
    ]
    found = only_if(
        {"model": "gpt-4o", "turn": 1, "last_user_message": {"contains": "needle"}}, "found"
    )  # the closest miss: two of its three conditions hold
    tenant.add({"scenarios": [*absent, found]})
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
    started = time.monotonic()
    answer = tenant.post(body)
    assert answer.status == 200 and time.monotonic() - started < 2
    assert answer.json()["choices"][0]["message"]["content"] != "found"  # not searched for
    near = tenant.requests()[-1]["near_miss"][0]
    assert near["scenario"] == "found" and near["failed"] == [
        "last_user_message: wanted contains 'needle', request had 4,000,006 characters, not "
        "searched: this request's texts had been searched for 100,000,000 characters already"
    ]
    short = {"model": "gpt-4o", "messages": [{"role": "user", "content": "a needle"}]}
    assert tenant.post(short).json()["choices"][0]["message"]["content"] == "found"


def only_if(match: dict, name: str, priority: int = 0) -> dict:
    return {"name": name, "match": match, "reply": {"content": name}, "priority": priority}
