"""Property-based hostile input against a real server on a real socket (strategies in
``fuzzing.py``): no request, header, path, API key or scenario document gets a 5xx it did not ask
for, an error without a message, or a traceback in the server's log; and the fallback answers any
client schema with a valid value or a clear refusal, in time. ``benchmarks/fuzz.py`` runs the same
strategies 10,000+ times and prints the histogram."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from fuzzing import (
    API_KEY,
    DEEP_ARGUMENTS,
    LIMITS,
    VALID_BODIES,
    VALID_EMBEDDINGS_BODIES,
    VALID_RESPONSES_BODIES,
    Sender,
    any_schemas,
    broken_bodies,
    chat_paths,
    deep_argument_bodies,
    distinct_key_headers,
    encode,
    hostile_schemas,
    methods,
    odd_paths,
    odd_valid_bodies,
    problems_of,
    raw_bodies,
    request_headers,
    scenario_documents,
    schemas,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mock_server.checks.profiles import load_profiles
from mock_server.checks.schema import Invalid
from mock_server.checks.verdicts import FirstVerdict, fast_verdicts
from mock_server.config import Limits, Settings
from mock_server.engine.fallback import fallback_message
from mock_server.engine.loading import ScenarioProblems, bundled_scenarios_dir, parse_scenarios
from mock_server.errors import ApiError
from mock_server.testing.runner import MockServer

FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class _Errors(logging.Handler):
    """Warnings and errors logged on one thread: the fuzzed server's (other servers of the
    same test process log on theirs)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.thread: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(record)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[MockServer, Sender, _Errors]]:
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    settings_ = Settings(
        port=0, seed=3, scenarios=[str(bundled_scenarios_dir())], limits=Limits(**LIMITS)
    )
    try:
        with MockServer(settings_, body_timeout=2.0) as server:
            errors.thread = server._thread.ident
            sender = Sender(server.settings.host, server.port)
            yield server, sender, errors
            sender.close()
    finally:
        logging.getLogger().removeHandler(errors)
    logged = [f"{r.name}: {r.getMessage()}" for r in errors.records]
    assert not logged, "the server logged:\n" + "\n".join(logged)


def _check(outcome, headers):
    problems = problems_of(outcome, headers)
    assert not problems, problems


@given(body=broken_bodies(), path=chat_paths(), headers=request_headers())
@settings(FUZZ, max_examples=1500)
def test_broken_request_bodies(fuzzed, body, path, headers):
    _, sender, _ = fuzzed
    _check(sender.send("POST", path, encode(body), headers), headers)


@pytest.mark.parametrize(
    "valid, api_path",
    [(VALID_RESPONSES_BODIES, "/responses"), (VALID_EMBEDDINGS_BODIES, "/embeddings")],
    ids=["responses", "embeddings"],
)
def test_broken_bodies_of_the_other_apis(fuzzed, valid, api_path):
    @given(body=broken_bodies(valid), path=chat_paths(api_path), headers=request_headers())
    @settings(FUZZ, max_examples=600)
    def send(body, path, headers):
        _, sender, _ = fuzzed
        _check(sender.send("POST", path, encode(body), headers), headers)

    send()


@given(raw=raw_bodies, headers=request_headers())
@settings(FUZZ, max_examples=300)
def test_bodies_that_are_not_json_objects(fuzzed, raw, headers):
    _, sender, _ = fuzzed
    _check(sender.send("POST", "/v1/chat/completions", raw, headers), headers)


@given(method=methods, path=odd_paths)
@settings(FUZZ, max_examples=300)
def test_any_path_and_method(fuzzed, method, path):
    _, sender, _ = fuzzed
    headers = {"Authorization": f"Bearer {API_KEY}"}
    outcome = sender.send(method, path, b"{}" if method != "GET" else None, headers)
    if method == "HEAD":  # an answer to HEAD has no body to check
        assert outcome.status < 500 and not outcome.body, outcome
    else:
        _check(outcome, headers)


@given(document=scenario_documents())
@settings(FUZZ, max_examples=300)
def test_scenario_documents_through_the_admin_api(fuzzed, document):
    _, sender, _ = fuzzed
    outcome = sender.send("POST", "/t/fuzz-docs/__admin/scenarios", document.encode(), {})
    assert outcome.status in (201, 400), (outcome.status, outcome.body[:200])
    _check(outcome, {})


@given(document=scenario_documents())
@settings(FUZZ, max_examples=200)
def test_scenario_documents_are_linted_not_crashed_on(document):
    try:
        parse_scenarios(document, source="fuzz.yaml")
    except ScenarioProblems as problems:
        assert all(p.startswith("fuzz.yaml:") for p in problems.problems), problems.problems


@given(name=st.text(max_size=20), value=st.text(max_size=20))
@settings(FUZZ, max_examples=100)
def test_admin_queries(fuzzed, name, value):
    _, sender, _ = fuzzed
    from urllib.parse import quote

    outcome = sender.send("GET", f"/__admin/requests?{quote(name)}={quote(value)}", None, {})
    _check(outcome, {})


REFUSALS = {
    "invalid_json_schema",
    "invalid_function_parameters",
    "mock_fallback_unsatisfiable",
    "response_too_large",
}


def _refused(code: str | None, message: str) -> bool:
    """Whether an error is one of the refusals a valid body may get: a code of ``REFUSALS``,
    or chat's refusal of a response format's schema (code null, as the live API answers it)."""
    return code in REFUSALS or (
        code is None and message.startswith("Invalid schema for response_format ")
    )


@given(body=odd_valid_bodies())
@settings(FUZZ, max_examples=400)
def test_valid_requests_at_the_edges(fuzzed, body):
    """Valid requests are answered (or a client schema that is not one is refused in OpenAI's
    words), and what the fallback generates satisfies the client's schema."""
    from jsonschema import Draft202012Validator

    _, sender, _ = fuzzed
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    outcome = sender.send("POST", "/v1/chat/completions", encode(body), headers)
    if outcome.status == 400:
        error = json.loads(outcome.body)["error"]
        assert _refused(error["code"], error["message"]), outcome.body
        return
    assert outcome.status == 200, outcome.body[:300]
    if body.get("stream") or "x-mock-fallback-warning" in outcome.headers:
        return
    choice = json.loads(outcome.body)["choices"][0]
    message = choice["message"]
    if choice["finish_reason"] == "length":  # max_tokens cut the JSON short, as a model would
        return
    if "tools" in body:
        generated = json.loads(message["tool_calls"][0]["function"]["arguments"])
        schema = body["tools"][0]["function"]["parameters"]
    elif "response_format" in body:
        generated = json.loads(message["content"])
        schema = body["response_format"]["json_schema"]["schema"]
    else:
        return
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(generated)]
    assert not errors, (schema, generated, errors)


@given(body=deep_argument_bodies)
@settings(FUZZ, max_examples=len(DEEP_ARGUMENTS))
def test_tool_call_arguments_nested_past_any_parser(fuzzed, body):
    _, sender, _ = fuzzed
    headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    outcome = sender.send("POST", "/v1/chat/completions", encode(body), headers)
    assert outcome.status == 200, outcome.body[:300]


@given(body=st.sampled_from(VALID_BODIES), headers=distinct_key_headers)
@settings(FUZZ, max_examples=300)
def test_many_distinct_keys_under_server_wide_limits(fuzzed, body, headers):
    _, sender, _ = fuzzed
    outcome = sender.send("POST", "/v1/chat/completions", encode(body), headers)
    assert outcome.status in (200, 429), outcome.body[:300]
    _check(outcome, headers)


@given(schema=st.one_of(schemas, hostile_schemas, any_schemas))
@settings(FUZZ, max_examples=500)
def test_any_client_schema_gets_a_valid_value_or_a_refusal_in_time(schema):
    """For any schema (most pass the meta-schema), the fallback builds within a second a value
    that satisfies it, or one it sends with a warning saying what it could not satisfy or check,
    or refuses the schema with a clear 400."""
    from jsonschema import Draft202012Validator

    assume(_readable(schema))
    body = {
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}},
    }
    started = time.process_time()  # CPU time: other processes on the machine do not stretch it
    try:
        choice = fallback_message(body)
    except ApiError as error:
        choice = None
        assert error.kind == "400" and _refused(error.code, str(error)), error
    assert time.process_time() - started < 1, json.dumps(schema)[:300]
    if choice is not None and not choice.warnings:
        value = json.loads(choice.content)
        errors = [e.message for e in Draft202012Validator(schema).iter_errors(value)]
        assert not errors, (schema, value, errors)


def _readable(value: object) -> bool:
    """Whether the server could read ``value`` in a body (integers within 64 bits)."""
    import orjson

    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True


def _first_verdicts() -> dict[str, FirstVerdict]:
    """Every request schema check of every bundled profile, by profile and schema (none
    without the fast extra: mock-server's compiler decides alone)."""
    found: dict[str, FirstVerdict] = {}
    if fast_verdicts() is None:
        return found
    for profile in load_profiles():
        checks = {
            "request": profile.check_request,
            "read-fields": profile.check_read_fields,
            **{api: checks.check for api, checks in profile.api_checks.items()},
        }
        for name, check in checks.items():
            check = getattr(check, "compiled", check)
            assert isinstance(check, FirstVerdict), f"{profile.name} {name}: no fast verdict"
            check.build_now()  # not waiting for the warm-up: the fast validator judges
            assert check.built, f"{profile.name} {name}: the fast validator was not built"
            found[f"{profile.name} {name}"] = check
    return found


FIRST_VERDICTS = _first_verdicts()
BODIES_OF = {"responses": VALID_RESPONSES_BODIES, "embeddings": VALID_EMBEDDINGS_BODIES}


WITH_FAST_VERDICTS = pytest.mark.skipif(
    fast_verdicts() is None, reason="without the fast extra, our compiler decides alone"
)


@WITH_FAST_VERDICTS
@pytest.mark.parametrize("name", sorted(FIRST_VERDICTS))
def test_the_fast_verdict_and_our_compilers_agree(name):
    """A disagreement fails: a body the fast validator passes must pass our compiler (else it
    would be answered as valid), and one it refuses must be refused, with our wording."""
    check = FIRST_VERDICTS[name]
    valid = BODIES_OF.get(name.split()[-1], VALID_BODIES)

    @given(body=broken_bodies(valid))
    @settings(FUZZ, max_examples=400)
    def agree(body):
        try:
            check.worded(body)
            worded = True
        except Invalid:
            worded = False
        assert check.verdict(body) in (worded, None), body  # None: left to our compiler

    agree()


EDGES = [
    {"max_tokens": 10**30},
    {"max_tokens": 2.0},
    {"max_tokens": True},
    {"n": -(2**70)},
    {"temperature": 1e308},
    {"temperature": 5e-324},
    {"stop": ["\U0001f600" * 4]},
    {"user": "x" * 100_000},
    {"logit_bias": {"50256": -100.0}},
    {"messages": [{"role": "user", "content": ""}]},
]


@WITH_FAST_VERDICTS
@pytest.mark.parametrize("edge", EDGES, ids=[next(iter(e)) + str(i) for i, e in enumerate(EDGES)])
@pytest.mark.parametrize("name", sorted(n for n in FIRST_VERDICTS if n.endswith("request")))
def test_the_verdicts_agree_at_the_edges_of_numbers_and_strings(name, edge):
    check = FIRST_VERDICTS[name]
    body = {**VALID_BODIES[0], **edge}
    try:
        check.worded(body)
        worded = True
    except Invalid:
        worded = False
    assert check.verdict(body) in (worded, None)
