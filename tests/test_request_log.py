"""The request log of ``mock-server serve``: a line per request on stdout, as text or JSON lines,
none with ``--quiet``; read from a real server process."""

from __future__ import annotations

import http.client
import io
import json

import pytest
from conftest import API_KEY
from processes import serving


def post(port: int, body: dict, path: str = "/v1/chat/completions", **headers: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            path,
            json.dumps(body),
            {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json", **headers},
        )
        connection.getresponse().read()
    except (http.client.HTTPException, OSError):
        pass  # a fault the request asked for
    finally:
        connection.close()


def ask(text: str, **extra) -> dict:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}], **extra}


def send_every_kind(port: int) -> None:
    post(port, ask("hi"))
    post(port, ask("something else"))
    post(port, ask("hi", stream=True), "/t/team-a/v1/chat/completions")
    post(port, ask("hi"), **{"X-Mock-Fault": "reset"})
    post(port, {"model": "gpt-4o"})
    tool = {"type": "function", "function": {"name": "get_weather"}}
    post(port, ask("hi", tools=[tool], tool_choice="required"))  # a reply it rules out


def test_text_lines(tmp_path):
    with serving(tmp_path) as (port, lines):
        send_every_kind(port)
    matched, fallback, stream, fault, refused, warned = lines
    assert " POST /v1/chat/completions openai gpt-4o 200 hi#1 " in matched
    assert "\033[" not in matched  # stdout is a pipe: no colour
    assert " 200 fallback " in fallback
    # A tenant has its own sequence positions: its first match is step 1 again.
    assert "tenant=team-a" in stream and " hi#1 " in stream and " chunks " in stream
    assert " --- hi#2 fault: reset " in fault
    assert " openai gpt-4o 400 error: missing_required_parameter " in refused  # the model sent
    assert " warning: the reply calls no tool, but the request's tool_choice is 'required' " in (
        warned
    )
    assert all(line.endswith(" ms") for line in lines)


def test_json_lines(tmp_path):
    with serving(tmp_path, "--log-format", "json") as (port, lines):
        send_every_kind(port)
    entries = [json.loads(line) for line in lines]
    assert [e["outcome"] for e in entries] == [
        "hi#1",
        "fallback",
        "hi#1",
        "hi#2 fault: reset",
        "error: missing_required_parameter",
        "hi#3",
    ]
    assert entries[-1]["warnings"] == [
        "the reply calls no tool, but the request's tool_choice is 'required'"
    ]
    assert entries[2]["tenant"] == "team-a" and entries[2]["chunks"] > 3
    assert entries[0]["scenario"] == "hi" and entries[0]["step"] == 1
    assert {"time", "method", "path", "profile", "model", "status", "duration_ms"} <= set(
        entries[0]
    )


def test_a_client_cannot_write_lines_of_its_own(tmp_path):
    """A line break in a tenant's name or a model's, or a terminal's escape, is written as an
    escape: one request, one line."""
    forged = "/t/x%0A12:00:00%20POST%20fake%20200/v1/chat/completions"
    with serving(tmp_path) as (port, lines):
        post(port, ask("hi"), forged)
        post(port, {**ask("hi"), "model": "gpt\n12:00:00 FAKE\x1b[31m"})
    first, second = lines
    assert "tenant=x\\n12:00:00 POST fake 200 " in first
    assert " gpt\\n12:00:00 FAKE\\x1b[31m " in second


def test_a_key_sent_as_the_model_is_not_logged(tmp_path):
    secret = "sk-live-" + "Q7x9" * 8
    with serving(tmp_path) as (port, lines):
        post(port, {"model": secret})  # refused: no messages
    (line,) = lines
    assert secret not in line and " openai [REDACTED] 400 " in line


def test_a_stored_response_read_is_answered_not_an_error(tmp_path):
    with serving(tmp_path) as (port, lines):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        connection.request(
            "POST", "/v1/responses", json.dumps({"model": "gpt-4o", "input": "hi"}), headers
        )
        stored = json.loads(connection.getresponse().read())
        connection.request("GET", f"/v1/responses/{stored['id']}", headers=headers)
        assert connection.getresponse().read()
        connection.close()
    assert f" GET /v1/responses/{stored['id']} openai " in lines[-1]
    assert " 200 answered " in lines[-1]


def test_strict_no_match_names_the_closest_scenario(tmp_path):
    with serving(tmp_path, "--strict") as (port, lines):
        post(port, ask("hello"))
    (line,) = lines
    assert (
        " 404 no match (closest: hi: last_user_message: wanted equals 'hi', request had 'hello') "
        in line
    )


def test_quiet_prints_no_request_lines(tmp_path):
    with serving(tmp_path, "--quiet") as (port, lines):
        send_every_kind(port)
    assert lines == []


def test_colour_on_a_terminal():
    from mock_server.server.request_log import RequestLog

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert RequestLog("text", Terminal()).colour
    assert not RequestLog("json", Terminal()).colour
    assert not RequestLog("text", io.StringIO()).colour


SLOW = """scenarios:
  - name: slow
    reply:
      content: one two three four five six seven eight nine ten
      stream: {chunk: word, size: 1}
      latency: {chunk_interval_ms: 500}
"""


def test_stopping_cuts_off_what_is_under_way(tmp_path):
    """SIGTERM stops the server at once: a stream under way is cut off, not waited for, and
    nothing is logged of it but its request."""
    with serving(tmp_path, scenarios=SLOW) as (port, lines):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = json.dumps(ask("hi", stream=True))
        headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        connection.request("POST", "/v1/chat/completions", body, headers)
        response = connection.getresponse()
        assert response.status == 200 and response.fp.readline()  # the stream is under way
    with pytest.raises(http.client.IncompleteRead):
        response.read()  # 10 words 0.5 s apart: cut off long before its end
    connection.close()
    assert lines == [] or "POST /v1/chat/completions" in lines[-1]  # no traceback
