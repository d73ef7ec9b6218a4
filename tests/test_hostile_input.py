"""One regression test (or a few) per class of hostile input: integral decimals, counts that size
a reply, pass-through fields, client schemas, nesting, header bytes, body reading, empty
messages, routing, scenario documents, secrets in near-miss reports, and memory bounds. Raw HTTP
throughout, since an SDK would send none of this."""

from __future__ import annotations

import gzip
import json
import logging
import socket
import subprocess
import sys
import threading
import time

import aiohttp
import openai
import pytest
from conftest import API_KEY, auth_headers, post_json, raw_request

from mock_server.redaction import redact
from mock_server.server.connection import release
from mock_server.server.state import STATE
from mock_server.testing.runner import MockServer

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three"}]}
SEARCH = [{"type": "function", "function": {"name": "googleSearch"}}]


def ask(profile: str, **extra) -> dict:
    """A valid request for ``profile`` (gemini-tools documents ``tools`` as required)."""
    tools = {"tools": SEARCH} if profile == "gemini-tools" else {}
    return {**ASK, **tools, **extra}


def send_raw(server: MockServer, data: bytes, timeout: float = 5.0) -> bytes:
    """Bytes written to a fresh socket, and everything read back until the server closes."""
    with socket.create_connection((server.settings.host, server.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


def error_of(response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.body
    error = response.json()["error"]
    assert error["message"], response.body
    return error


# 1. Integral decimals count as integers, as OpenAI takes them.


@pytest.mark.parametrize(
    "extra, choices",
    [({"n": 2.0}, 2), ({"max_tokens": 3.0}, 1), ({"logprobs": True, "top_logprobs": 2.0}, 1)],
)
def test_integral_decimals_are_integers(server, extra, choices):
    response = post_json(server, "/v1/chat/completions", {**ASK, **extra})
    assert response.status == 200, response.body
    body = response.json()
    assert len(body["choices"]) == choices
    if "top_logprobs" in extra:
        assert len(body["choices"][0]["logprobs"]["content"][0]["top_logprobs"]) == 2


@pytest.mark.parametrize("number", ["1e20", "18446744073709551616"])
def test_an_integer_past_64_bits_is_echoed_not_a_500(server, tenant, number):
    """orjson writes no integer past 64 bits: a Responses body echoes ``max_output_tokens``
    and ``max_tool_calls`` (streamed too), and a scenario's usage may hold one."""
    for fields in (f'"max_output_tokens":{number}', f'"max_tool_calls":{number},"stream":true'):
        body = f'{{"model":"gpt-4o","input":"x",{fields}}}'.encode()
        response = raw_request(server, "POST", "/v1/responses", body, auth_headers())
        assert response.status == 200, response.body
    huge = int(float(number))
    assert str(huge).encode() in response.body
    tenant.add({"name": "big", "reply": {"content": "x", "usage": {"prompt_tokens": huge}}})
    chat = post_json(server, f"/t/{tenant.name}/v1/chat/completions", ASK)
    assert chat.status == 200 and chat.json()["usage"]["prompt_tokens"] == huge, chat.body
    assert tenant.requests()[0]["status"] == 200


# 2. Every count that sizes a reply is bounded.


@pytest.mark.parametrize(
    "profile, extra, status, param",
    [
        ("deepseek", {"n": 9223372036854775807}, 422, "n"),
        ("gemini", {"n": 100000}, 400, "n"),
        ("gemini-tools", {"n": 129}, 400, "n"),
        ("gomodel", {"logprobs": True, "top_logprobs": 5000}, 400, "top_logprobs"),
        ("gemini-tools", {"logprobs": True, "top_logprobs": 100000}, 400, "top_logprobs"),
    ],
)
def test_counts_that_size_a_reply_are_bounded(server, profile, extra, status, param):
    response = post_json(server, f"/{profile}/v1/chat/completions", ask(profile, **extra))
    assert response.status == status, response.body
    assert error_of(response)["param"] == param


@pytest.mark.parametrize("word", ["word ", "word\n"])  # the second escaped in JSON
def test_a_reply_far_larger_than_the_request_is_refused(server, word):
    prompt = word * 200_000  # 1 MB, echoed by the fallback 128 times, with log probabilities
    body = {**ASK, "messages": [{"role": "user", "content": prompt}], "n": 128}
    started = time.process_time()  # CPU time: other processes on the machine do not stretch it
    response = post_json(server, "/v1/chat/completions", {**body, "logprobs": True})
    assert response.status == 400
    error = error_of(response)
    assert error["code"] == "response_too_large"
    assert "max_response_bytes" in error["message"] and "n=128" in error["message"]
    assert time.process_time() - started < 2


def test_a_reply_of_characters_json_escapes_is_sized_escaped():
    """A control character takes six bytes in a JSON string (``\u0001``): a reply echoing
    200,000 of them is some 1.2 MB on the wire, past a 1 MB limit, though its text is 200 KB."""
    echoed = {**ASK, "messages": [{"role": "user", "content": "\u0001" * 200_000}]}
    with MockServer(max_response_bytes=1_000_000) as limited:
        response = post_json(limited, "/v1/chat/completions", echoed)
        assert response.status == 400, len(response.body)
        assert error_of(response)["code"] == "response_too_large"
        plain = {**ASK, "messages": [{"role": "user", "content": "x" * 200_000}]}
        assert post_json(limited, "/v1/chat/completions", plain).status == 200


def test_a_template_cannot_amplify_a_large_body(tenant):
    tenant.add({"name": "echo", "reply": {"content": "{{ request | json }}" * 200}})
    big = {**ASK, "messages": [{"role": "user", "content": "x" * 200_000}]}
    started = time.process_time()
    response = tenant.post(big)
    assert response.status == 400
    assert error_of(response)["code"] == "response_too_large"
    assert time.process_time() - started < 2


@pytest.mark.parametrize(
    "reply, messages",
    [
        # A long separator between many items: sized before it is joined (it built 3 GB).
        ({"content": "{{ request.messages | join('%s') }}" % ("-" * 1_000_000)}, 3_000),
        # Many choices, each under the bound: together they are bounded too.
        ({"choices": [{"content": "{{ request | json }}"}] * 1_000}, 100),
    ],
)
def test_templates_are_sized_before_they_are_built(tenant, reply, messages):
    tenant.add({"name": "amplify", "reply": reply})
    long = [{"role": "user", "content": "x" * 1_000}] * messages
    started = time.process_time()
    response = tenant.post({**ASK, "messages": long})
    assert response.status == 400, response.body
    error = error_of(response)
    assert error["code"] == "response_too_large"
    assert error["message"].startswith("A reply template renders to more than"), error
    assert time.process_time() - started < 2


# 3. A field a profile passes through is checked before it is used.


@pytest.mark.parametrize(
    "profile, extra, param",
    [
        ("gomodel", {"response_format": "json"}, "response_format"),
        ("gomodel", {"max_completion_tokens": "5"}, "max_completion_tokens"),
        ("gomodel", {"n": "5"}, "n"),
        ("gemini-tools", {"stream_options": "yes", "stream": True}, "stream_options"),
        ("gomodel", {"tools": [{"type": "function", "function": "f"}]}, "tools[0].function"),
    ],
)
def test_pass_through_fields_are_checked_before_use(server, profile, extra, param):
    response = post_json(server, f"/{profile}/v1/chat/completions", ask(profile, **extra))
    assert response.status == 400, response.body
    assert error_of(response)["param"] == param


def test_a_function_tool_without_a_function_is_not_called(server):
    body = {**ASK, "tools": [{"type": "function"}], "tool_choice": "required"}
    response = post_json(server, "/gemini-tools/v1/chat/completions", body)
    assert response.status == 200, response.body
    assert response.json()["choices"][0]["message"]["content"]


# 4. A client's JSON Schema is checked before anything is generated from it.


def within(schema: dict) -> dict:
    """``schema`` as the one property of an object: the root OpenAI asks of a client's schema."""
    return {"type": "object", "properties": {"v": schema}, "required": ["v"]}


@pytest.mark.parametrize(
    "schema, sentence",
    [
        (within({"type": "array", "items": {}, "minItems": "2"}), "'2' is not of type 'integer'."),
        ({"type": "object", "properties": "x"}, "'x' is not of type 'object'."),
        (within({"enum": {}}), "{} is not of type 'array'."),
        ({"type": "object", "required": None}, "None is not of type 'array'."),
    ],
)
def test_client_schemas_are_checked_as_openai_checks_them(server, schema, sentence):
    # The validator's sentence without a path, as users quote the live API (2024-2026).
    body = {
        **ASK,
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }
    error = error_of(post_json(server, "/v1/chat/completions", body))
    assert (error["code"], error["param"]) == (None, "response_format")
    assert error["message"] == f"Invalid schema for response_format 'x': {sentence}"
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    body = {**ASK, "tools": [tool], "tool_choice": "required"}
    error = error_of(post_json(server, "/v1/chat/completions", body))
    assert (error["code"], error["param"]) == (
        "invalid_function_parameters",
        "tools[0].function.parameters",
    )
    assert error["message"] == f"Invalid schema for function 'f': {sentence}"


def test_a_client_schema_that_is_no_schema_is_refused_whatever_answers(tenant):
    # A scenario answers in words, so nothing is built from the schema: it is refused anyway,
    # as the API refuses it before any model reads it.
    tenant.add({"name": "words", "reply": {"content": "In words."}})
    bad = {"type": "object", "required": None}
    tool = {"type": "function", "function": {"name": "f", "parameters": bad}}
    with pytest.raises(openai.BadRequestError) as chat:
        tenant.client().chat.completions.create(**ASK, tools=[tool])
    assert (
        chat.value.body["message"]
        == "Invalid schema for function 'f': None is not of type 'array'."
    )
    text = {"format": {"type": "json_schema", "name": "x", "schema": bad}}
    with pytest.raises(openai.BadRequestError) as responses:
        tenant.client().responses.create(model="gpt-4o", input="Hi", text=text)
    assert (responses.value.body["param"], responses.value.body["code"]) == (
        "text.format.schema",
        "invalid_json_schema",
    )
    # Past the bound, jsonschema does not read it: some 0.3 ms a subschema.
    wide = {"type": "object", "required": None, "properties": {f"p{i}": {} for i in range(300)}}
    tool = {"type": "function", "function": {"name": "f", "parameters": wide}}
    assert tenant.client().chat.completions.create(**ASK, tools=[tool]).choices


def test_a_client_schema_naming_its_own_meta_schema_is_judged_here(tenant):
    # A $schema is data to the check, never a document to fetch (a URL a client chooses).
    tenant.add({"name": "words", "reply": {"content": "In words."}})
    client = tenant.client()
    for named in ("http://127.0.0.1:9/meta", "http://json-schema.org/draft-07/schema#"):
        parameters = {"$schema": named, "type": "object", "properties": {"a": {"type": "string"}}}
        tool = {"type": "function", "function": {"name": "f", "parameters": parameters}}
        assert client.chat.completions.create(**ASK, tools=[tool]).choices
        tool["function"]["parameters"] = {**parameters, "required": None}
        with pytest.raises(openai.BadRequestError, match="None is not of type 'array'"):
            client.chat.completions.create(**ASK, tools=[tool])


def test_a_long_client_schema_that_is_no_schema_is_answered_at_once(tenant):
    # The meta-schema's check reads a bounded part of a request's schemas, and what it says of
    # a client's value is cut: 400,000 values in one list are not read, a long name is cut.
    tenant.add({"name": "words", "reply": {"content": "In words."}})
    client = tenant.client(timeout=30)
    long_type = {"type": "object", "properties": {"a": {"type": ["string", 1] * 200_000}}}
    named = {"type": "object", "properties": {"a": {"type": "x" * 50_000}}}
    started = time.monotonic()
    tool = {"type": "function", "function": {"name": "f", "parameters": long_type}}
    assert client.chat.completions.create(**ASK, tools=[tool]).choices
    tool = {"type": "function", "function": {"name": "f", "parameters": named}}
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(**ASK, tools=[tool])
    assert time.monotonic() - started < 3
    said = refused.value.body["message"]
    assert said.startswith("Invalid schema for function 'f': 'xxx") and len(said) < 300


@pytest.mark.parametrize(
    "schema",
    [
        within({"type": "array", "items": {}, "minItems": 10**9}),
        within({"type": "string", "minLength": 10**9}),
        within({"type": "integer", "minimum": 5, "maximum": 1}),
    ],
)
def test_generation_is_bounded(server, schema):
    body = {
        **ASK,
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    }
    started = time.monotonic()
    error = error_of(post_json(server, "/v1/chat/completions", body))
    assert error["code"] == "mock_fallback_unsatisfiable"
    assert time.monotonic() - started < 1


# 5. One nesting limit, at parse time.


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("depth", [129, 300, 990, 5000])
@pytest.mark.parametrize("profile", ["", "/gomodel"])
def test_nesting_beyond_the_limit_is_refused_at_parse_time(server, profile, depth):
    raw = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "tools": %s}'
    response = raw_request(
        server,
        "POST",
        f"{profile}/v1/chat/completions",
        raw % nested(depth).encode(),
        auth_headers(),
    )
    assert response.status == 400
    message = error_of(response)["message"]
    if profile:  # gomodel shows the detail; OpenAI's wording for a body it cannot parse does not
        assert "128 levels" in message, message


def test_a_journal_holding_a_deep_request_still_answers(server, tenant):
    raw = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "x": %s}'
    for depth in (120, 300):
        path = f"/t/{tenant.name}/gomodel/v1/chat/completions"
        raw_request(server, "POST", path, raw % nested(depth).encode(), auth_headers())
    listing = tenant.admin("GET", "/requests")
    assert listing.status == 200
    assert listing.json()["count"] == 2


# 6. Header values with any bytes.


@pytest.mark.parametrize(
    "name, value",
    [
        ("X-Mock-Status", "²"),
        ("X-Mock-Status", "4\xff9"),
        ("X-Mock-Scenario", "no-such-\xff"),
        ("X-Mock-Fault", "disconnect:\xff"),
        ("X-Mock-Fault", "stall:"),
        ("Content-Type", "application/\xff"),
    ],
)
def test_bad_header_values_get_a_clear_400(server, name, value):
    response = post_json(server, "/v1/chat/completions", ASK, {name: value})
    assert response.status == 400, response.body
    error_of(response)


@pytest.fixture(scope="module")
def keyed_server():
    with MockServer(api_keys=[API_KEY], admin_token="admin-secret") as running:
        yield running


def test_a_key_that_is_not_utf8_is_a_401(keyed_server):
    headers = {"Authorization": "Bearer sk-\xff\xfe-not-utf8", "Content-Type": "application/json"}
    response = raw_request(
        keyed_server, "POST", "/v1/chat/completions", json.dumps(ASK).encode(), headers
    )
    assert response.status == 401
    assert "\ufffd" in error_of(response)["message"] or "*" in error_of(response)["message"]


def test_an_admin_token_that_is_not_utf8_is_a_401(keyed_server):
    response = raw_request(keyed_server, "GET", "/__admin/health", None, {"X-Admin-Token": "\xff"})
    assert response.status == 401


def test_admin_limit_with_a_unicode_digit(server):
    """``²`` is a digit to ``str.isdigit`` but no number to ``int``: refused, not a 500."""
    response = raw_request(server, "GET", "/__admin/requests?limit=%C2%B2")
    assert response.status == 400
    assert response.json()["error"]["message"] == (
        "?limit= must be a number of entries, not '\\xb2'"
    )


# 7. Reading the body.


def test_a_body_that_is_not_gzip_under_content_encoding_gzip(server):
    headers = {**auth_headers(), "Content-Encoding": "gzip"}
    response = raw_request(
        server, "POST", "/v1/chat/completions", json.dumps(ASK).encode(), headers
    )
    assert response.status == 400
    assert error_of(response)["code"] == "invalid_body_encoding"
    assert response.headers.get("connection") == "close"
    assert post_json(server, "/v1/chat/completions", ASK).status == 200


def test_a_gzip_body_is_read_and_a_gzip_bomb_is_not(server):
    headers = {**auth_headers(), "Content-Encoding": "gzip"}
    good = gzip.compress(json.dumps(ASK).encode())
    assert raw_request(server, "POST", "/v1/chat/completions", good, headers).status == 200
    bomb = gzip.compress(b" " * (64 * 1024 * 1024))  # 64 MB of spaces in 64 KB
    response = raw_request(server, "POST", "/v1/chat/completions", bomb, headers)
    assert response.status == 413
    unsupported = {**auth_headers(), "Content-Encoding": "br"}
    response = raw_request(server, "POST", "/v1/chat/completions", b"x", unsupported)
    assert error_of(response)["code"] == "unsupported_content_encoding"


def test_clients_that_hang_up_are_not_logged(server, caplog):
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    )
    with caplog.at_level(logging.WARNING):
        with socket.create_connection((server.settings.host, server.port)) as sock:
            sock.sendall(request % 1000 + b'{"model": "gpt-4o", ')  # then hangs up mid-body
        stream = json.dumps({**ASK, "stream": True}).encode()
        with socket.create_connection((server.settings.host, server.port)) as sock:
            sock.sendall(request % len(stream) + stream)  # hangs up before the first byte
        time.sleep(0.3)
        assert post_json(server, "/v1/chat/completions", ASK).status == 200
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


# 8. Every error has a message.


@pytest.mark.parametrize("status", ["400", "418", "451", "599"])
def test_forced_statuses_have_a_message(server, status):
    response = post_json(server, "/v1/chat/completions", ASK, {"X-Mock-Status": status})
    assert response.status == int(status)
    error_of(response)


@pytest.mark.parametrize(
    "status, named",
    [
        ("429", "Rate limit reached for gpt-4o in organization"),
        ("404", "The model `gpt-4o` does not exist"),
        ("401", f"Incorrect API key provided: {redact(API_KEY)}."),
    ],
)
def test_a_forced_error_names_the_request_model_and_key(server, tenant, status, named):
    """The catalog's wording names the model asked for and the key (redacted), as the
    provider's own errors do, whether a header forces the status or a scenario scripts it."""
    forced = post_json(server, "/v1/chat/completions", ASK, {"X-Mock-Status": status})
    tenant.add({"name": f"scripted-{status}", "reply": {"status": int(status)}})
    for response in (forced, tenant.post(ASK)):
        assert response.status == int(status)
        assert error_of(response)["message"].startswith(named)


def test_a_scripted_status_without_words_has_a_message(tenant):
    tenant.add({"name": "bare-400", "reply": {"status": 400}})
    response = tenant.post(ASK)
    assert response.status == 400
    assert error_of(response)["message"] == "Bad Request"


# 9. Every path and method that reaches the app gets the OpenAI-shaped error.


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/nope%0Apath"), ("POST", "/%FF"), ("PATCH", "/v1/chat/completions"), ("GET", "/")],
)
def test_odd_paths_get_json_errors(server, method, path):
    response = raw_request(server, method, path, b"{}", auth_headers())
    assert response.status == 404
    assert error_of(response)["message"].startswith("Invalid URL")


# 10. Scenario documents: JSON-compatible YAML only, bounded, problems located.

TOOL_REPLY = "scenarios:\n  - name: s\n    reply:\n      tool_calls:\n        - name: f\n          arguments: {when: %s}\n"
# A reply's headers go out as written: each must be one a client can read, and none may frame
# the answer (a line break in a value ended the connection without an answer; Content-Length
# cut the body).
HEADERS_REPLY = "scenarios:\n  - name: s\n    reply:\n      content: x\n      headers: %s\n"
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "\n".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(9)
)


@pytest.mark.parametrize(
    "document, needle",
    [
        (TOOL_REPLY % "2024-01-01", "date or time"),
        (TOOL_REPLY % "!!set {a, b}", "set"),
        (TOOL_REPLY % "!!binary aGVsbG8=", "binary"),
        (TOOL_REPLY % ("9" * 5000), "5000 digits"),
        (TOOL_REPLY % ".nan", "finite number"),
        (HEADERS_REPLY % '{x-a: "b\\r\\nSet-Cookie: x"}', "no control characters"),
        (HEADERS_REPLY % '{"bad name": x}', "not an HTTP token"),
        (HEADERS_REPLY % "{Content-Length: '5'}", "frames the answer"),
        # It went out beside the server's own: two Content-Types.
        (HEADERS_REPLY % "{content-type: text/plain}", "says what the body is"),
        (
            json.dumps({"scenarios": [{"name": "d", "reply": {"content": "x"}}]})[:-1]
            + ', "x": '
            + nested(5000)
            + "}",
            "128 levels",
        ),
        (BOMB, "aliases expand"),
    ],
)
def test_scenario_documents_are_refused_with_their_place(tenant, tmp_path, document, needle):
    started = time.monotonic()
    response = tenant.admin("POST", "/scenarios", document)
    assert response.status == 400, response.body
    message = error_of(response)["message"]
    assert needle in message and message.startswith("<admin>:"), message
    assert time.monotonic() - started < 2
    path = tmp_path / "hostile.yaml"
    path.write_text(document)
    checked = subprocess.run(
        [sys.executable, "-m", "mock_server", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 1
    assert needle in checked.stderr and "Traceback" not in checked.stderr, checked.stderr


# 11. Secrets stay out of near-miss reports.


def test_a_header_condition_on_authorization_does_not_leak_the_key():
    secret = "sk-live-abcdefghijklmnopqrstuvwxyz0123"
    scenario = {"name": "auth", "match": {"headers": {"authorization": "Bearer sk-other-key-0000"}}}
    with MockServer(strict=True, scenarios=[]) as strict:
        strict.add(scenario)
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        response = raw_request(
            strict, "POST", "/v1/chat/completions", json.dumps(ASK).encode(), headers
        )
        assert response.status == 404
        journal = raw_request(strict, "GET", "/__admin/requests").body.decode()
        for text in (response.body.decode(), journal):
            assert secret not in text and "abcdefghijklmnopqrstuvwxyz" not in text
            assert "sk-other-key-0000" not in text
        assert "headers.authorization" in response.body.decode()


def _latency_while(server, work) -> tuple[int, float, float]:
    """How many requests of another tenant were answered while ``work`` ran in a thread, the
    slowest of them, and how long ``work`` took (seconds)."""
    done = {}

    def timed() -> None:
        started = time.monotonic()
        done["result"] = work()
        done["took"] = time.monotonic() - started

    running = threading.Thread(target=timed)
    running.start()
    answered_meanwhile, slowest = 0, 0.0
    while running.is_alive():
        started = time.monotonic()
        assert post_json(server, "/t/someone-else/v1/chat/completions", ASK).status == 200
        slowest = max(slowest, time.monotonic() - started)
        answered_meanwhile += running.is_alive()
    running.join()
    return answered_meanwhile, slowest, done


def test_a_large_scenario_document_does_not_hold_other_tenants(server, tenant):
    """A document of 200,000 sequence steps takes seconds to check and build: it is built
    beside the event loop, and other tenants' requests are answered meanwhile (each waited for
    all of it before)."""
    document = {"scenarios": [{"name": "long", "sequence": [{"content": "x"}] * 200_000}]}
    meanwhile, slowest, done = _latency_while(
        server, lambda: tenant.admin("POST", "/scenarios", document)
    )
    assert done["result"].status == 201, done["result"].body
    assert meanwhile > 1 and slowest < done["took"] / 2, (meanwhile, slowest)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/requests"), ("POST", "/reset?report=unmatched")]
)
def test_a_large_journal_is_read_back_beside_the_event_loop(server, tenant, method, path):
    """Unmatched requests of 6,500 messages each: reading them back, near-miss reports and
    all, takes seconds (the pytest plugin's teardown asks for that report); other tenants'
    requests are answered meanwhile."""
    tenant.add({"name": "far", "match": {"last_user_message": "nothing like it"}})
    many = {**ASK, "messages": [{"role": "user", "content": "word"}] * 6_500}
    for _ in range(60):
        assert tenant.post(many).status == 200
    meanwhile, slowest, done = _latency_while(server, lambda: tenant.admin(method, path))
    assert done["result"].status == 200, done["result"].body
    reported = done["result"].json()
    assert len(reported["requests" if method == "GET" else "unmatched"]) == 60
    assert meanwhile > 1 and slowest < done["took"] / 2, (meanwhile, slowest)


# 12. Memory bounds: tenants, journal bytes, stored bodies, slow clients.


def test_idle_tenants_are_evicted_and_held_ones_kept():
    with MockServer(max_tenants=5) as bounded:
        held = bounded.tenant("held")
        held.add({"name": "mine", "reply": {"content": "still here"}})
        for index in range(30):
            post_json(bounded, f"/t/idle-{index}/v1/chat/completions", ASK)
        tenants = bounded.app[STATE].tenants
        assert bounded.call(len, tenants) <= 5
        reply = post_json(bounded, "/t/held/v1/chat/completions", ASK)
        assert reply.json()["choices"][0]["message"]["content"] == "still here"
        held.close()


def test_journal_bytes_and_large_bodies_are_bounded():
    with MockServer(journal_bytes=64 * 1024) as bounded:
        for _ in range(200):
            post_json(bounded, "/v1/chat/completions", ASK)
        entries = raw_request(bounded, "GET", "/__admin/requests").json()["requests"]
        assert 0 < len(entries) < 200  # the oldest were dropped to stay within 64 KiB
        echo = {**ASK, "messages": [{"role": "user", "content": "x" * 300_000}]}
        post_json(bounded, "/v1/chat/completions", echo)
        last = raw_request(bounded, "GET", "/__admin/requests?limit=1").json()["requests"][0]
        assert last["body"] == {"truncated": True, "bytes": last["body_bytes"]}
        assert last["response"]["truncated"] is True


def test_slow_clients_do_not_hold_a_connection():
    with MockServer(idle_timeout=0.5, body_timeout=0.5) as bounded:
        # Before aiohttp 3.14.4 a connection whose headers never end is left to the client.
        if release(aiohttp.__version__) >= (3, 14, 4):
            started = time.monotonic()
            head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            assert send_raw(bounded, head) == b""
            assert time.monotonic() - started < 3  # closed after idle_timeout
        partial = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"
        )
        answer = send_raw(bounded, partial)
        assert answer.startswith(b"HTTP/1.1 400") and b"request_timeout" in answer


def test_the_server_wide_journal_budget_trims_the_largest_journals():
    from mock_server.server.budget import SharedBudget
    from mock_server.server.journal_store import Journal

    budget = SharedBudget(limit=10_000)
    big, small = Journal(budget, 1000, 10**9), Journal(budget, 1000, 10**9)
    for _ in range(8):
        big.append(("big",), 1000)
    small.append(("small",), 1000)
    big.append(("big",), 1000)
    big.append(("big",), 1000)  # 11,000 > 10,000: trimmed to 9,000, from the largest
    assert budget.used <= 9000 and budget.used == big.bytes + small.bytes
    assert len(small) == 1 and len(big) == 8
