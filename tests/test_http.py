"""Raw HTTP: what no SDK would send gets a clear error, and the server keeps serving."""

from __future__ import annotations

import contextlib
import json
import socket

import pytest
from conftest import auth_headers, post_json, raw_request

VALID = {"model": "gpt-4o", "messages": [{"role": "user", "content": "still there?"}]}


def assert_still_serving(server):
    response = post_json(server, "/v1/chat/completions", VALID)
    assert response.status == 200
    assert response.json()["choices"][0]["message"]["content"].endswith("still there?")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "needle"),
    [
        (
            b'{"model": "gpt-4o", "messages": [',
            "application/json",
            400,
            "could not parse the JSON body",
        ),
        (b"[1, 2, 3]", "application/json", 400, "expected an object, but got an array"),
        (b'"just a string"', "application/json", 400, "expected an object, but got a string"),
        (b'{"model": "\xff\xfe"}', "application/json", 400, "could not parse the JSON body"),
        (b"", "application/json", 400, "could not parse the JSON body"),
        (json.dumps(VALID).encode(), "text/plain", 400, "Invalid Content-Type header (text/plain)"),
        (b"model=gpt-4o", "application/x-www-form-urlencoded", 400, "expected application/json"),
        (b"[" * 10_000 + b"]" * 10_000, "application/json", 400, "could not parse the JSON body"),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "application/json", 400, "could not parse"),
    ],
    ids=[
        "truncated",
        "array",
        "string",
        "bad-utf8",
        "empty",
        "text-plain",
        "form",
        "deep-array",
        "deep-object",
    ],
)
def test_malformed_bodies(server, body, content_type, status, needle):
    response = raw_request(server, "POST", "/v1/chat/completions", body, auth_headers(content_type))
    assert response.status == status
    error = response.json()["error"]
    assert needle in error["message"]
    assert error["type"] == "invalid_request_error"
    assert response.headers["x-request-id"]
    assert_still_serving(server)


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON", "application/vnd.api+json"],
)
def test_json_content_types_with_parameters_are_accepted(server, content_type):
    response = raw_request(
        server,
        "POST",
        "/v1/chat/completions",
        json.dumps(VALID).encode(),
        auth_headers(content_type),
    )
    assert response.status == 200


def test_detail_reaches_profiles_that_show_it(server):
    response = raw_request(
        server, "POST", "/gemini/v1/chat/completions", b'{"model": \xff}', auth_headers()
    )
    assert response.status == 400
    assert "not valid UTF-8" in response.json()["error"]["message"]


def test_twenty_megabyte_body_is_413(server):
    big = json.dumps({**VALID, "padding": "x" * (20 * 1024 * 1024)}).encode()
    with socket.create_connection((server.settings.host, server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: test\r\n"
            b"Content-Type: application/json\r\n"
            b"Authorization: Bearer sk-test\r\n" + f"Content-Length: {len(big)}\r\n\r\n".encode()
        )
        # The server may answer and close before reading it all.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(big)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"too large" in body
    assert_still_serving(server)


def test_unknown_route_is_json_404(server):
    response = raw_request(server, "GET", "/v1/nothing-here")
    assert response.status == 404
    assert response.json()["error"]["message"] == "Invalid URL (GET /v1/nothing-here)"


def test_wrong_method(server):
    response = raw_request(server, "GET", "/v1/chat/completions", headers=auth_headers())
    assert response.status == 404
    assert "Invalid URL (GET /v1/chat/completions)" in response.json()["error"]["message"]


def test_health(server):
    response = raw_request(server, "GET", "/__admin/health")
    assert response.status == 200
    assert response.json()["status"] == "ok"
    deepseek = next(p for p in response.json()["profiles"] if p["name"] == "deepseek")
    assert deepseek["paths"] == ["/v1", "/api/v1"] and "seed 003" in deepseek["source"]
    assert response.headers["x-request-id"]
