"""What running a client's regular expression may cost: a backreference compares what its group
took, so each way it is tried counts once for every character it may compare, in the check of a
scenario's reply as in the fallback's values; and compiling a client's pattern writes nothing to
the server's log. Raw HTTP against the session server."""

from __future__ import annotations

import json
import time
import uuid
import warnings

from mock_server.engine import patterns

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three"}]}
DOUBLED = r"^(.*)\1$"  # a string twice over: each way compares up to half of it


def strict_tool(properties: dict) -> dict:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
        "$comment": uuid.uuid4().hex,  # unlike any schema sent before: no cached value answers
    }
    return {"type": "function", "function": {"name": "f", "parameters": schema, "strict": True}}


def test_a_scenario_reply_is_not_searched_with_a_backreference_past_its_bound(tenant):
    """The reply echoes 20,001 characters into a strict tool's arguments: the check counted one
    way a position and searched them all (quadratic: 8 s on 240,000 characters)."""
    tenant.add(
        {
            "name": "echo",
            "match": {"last_user_message": {"contains": "aaa"}},
            "reply": {"tool_calls": [{"name": "f", "arguments": "{{ last_user_message }}"}]},
        }
    )
    prompt = json.dumps({"x": "a" * 20_000 + "!"})
    body = {
        **ASK,
        "messages": [{"role": "user", "content": prompt}],
        "tools": [strict_tool({"x": {"type": "string", "pattern": DOUBLED}})],
    }
    started = time.monotonic()
    answer = tenant.post(body)
    assert answer.status == 200, answer.body[:300]
    assert time.monotonic() - started < 2
    warning = answer.headers["x-mock-scenario-warning"]
    assert "was not checked: it could run too long on a string of 20001 characters" in warning


def test_the_fallback_does_not_search_its_long_values_with_a_backreference(tenant):
    """A short string is still built for a backreference and checked; one of 10,000 characters
    is not searched (64 of them took half a second)."""
    body = {
        **ASK,
        "tools": [
            strict_tool(
                {
                    "short": {"type": "string", "pattern": r"^(\w+)-\1$"},
                    "long": {
                        "type": "array",
                        "minItems": 64,
                        "items": {"type": "string", "pattern": DOUBLED, "minLength": 10_000},
                    },
                }
            )
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
    }
    answer = tenant.post(body)
    assert answer.status == 200, answer.body
    call = answer.json()["choices"][0]["message"]["tool_calls"][0]
    value = json.loads(call["function"]["arguments"])
    first, dash, second = value["short"].partition("-")
    assert dash and first == second
    warning = answer.headers["x-mock-fallback-warning"]
    assert "at long.0 could not be satisfied by a string the mock could check" in warning
    assert "short" not in warning


def test_a_backreference_counts_the_characters_it_compares():
    """The bound a client's pattern runs under, and a scenario condition's, charge it alike."""
    assert patterns.ways(DOUBLED, 1_000) > 1_000 * 1_000 > patterns.MAX_WAYS
    assert patterns.ways(r"^(\w)-\1$", 1_000) == patterns.ways(r"^\w-\w$", 1_000)
    assert patterns.longest_searched(r"(.*)\1x") == 668


def test_a_tool_whose_pattern_python_may_one_day_read_as_sets_is_answered(tenant):
    """The suite turns warnings into errors: a warning drawn from the validator compiling such a
    pattern in the server's thread answered the request with a 500."""
    tool = strict_tool({"x": {"type": "string", "pattern": "^[[:alpha:]]+x$"}})
    body = {**ASK, "tools": [tool], "tool_choice": "required"}
    answer = tenant.post(body)
    assert answer.status == 200, answer.body[:300]
    (call,) = answer.json()["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == {"x": "[]x"}


def test_a_pattern_python_may_one_day_read_as_set_syntax_is_compiled_quietly():
    """``[[:alpha:]]``, ``[a&&b]``, ``[a||b]`` and ``[a~~b]`` each draw a ``FutureWarning`` from
    Python's parser, printed once for every new pattern (or raised, under a test suite that
    turns warnings into errors): a client's pattern is taken as this Python reads it, and the
    server's log does not hear of it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert patterns.string_matching("^[[:alpha:]]+x$") == "[]x"
        assert patterns.string_matching("^[a&&b]$") == "a"
        assert patterns.folded("(?i)[a||b]") == 0
        assert patterns.ways("[a~~b]", 10) < patterns.MAX_WAYS
    assert [str(warning.message) for warning in caught] == []
