"""The connection's shortcut (``server.connection``): what it answers goes out as the bytes
aiohttp would send, and what it leaves to aiohttp is done once, in order."""

from __future__ import annotations

import json
import socket
import struct
import time

import pytest
from conftest import API_KEY

from mock_server.server.state import STATE
from mock_server.testing.runner import MockServer

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "shortcut?"}]}
# What changes from one answer to the next: left out of the comparisons.
VARYING_HEADERS = {"x-request-id", "x-ds-trace-id", "openai-processing-ms", "date"}


@pytest.fixture(autouse=True)
def _needs_the_shortcut(server):
    """These tests watch the shortcut answer; where it is off (an aiohttp it is not tested on)
    every request goes through aiohttp, which the rest of the suite covers."""
    off = server.app[STATE].shortcut.off
    if off is not None:
        pytest.skip(f"the connection shortcut is off: {off}")


def shortcut(server: MockServer):
    return server.app[STATE].shortcut


def request_bytes(path: str, body: object = BODY, **headers: str) -> tuple[bytes, bytes]:
    """A request's head and body, as a client writes them."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = {
        "Host": "127.0.0.1",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {API_KEY}",
        "Content-Length": str(len(data)),
        **headers,
    }
    lines = [f"POST {path} HTTP/1.1", *(f"{k}: {v}" for k, v in head.items() if v)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), data


def read_response(reader) -> tuple[str, list[tuple[str, str]], bytes]:
    """One HTTP response, its body sized by Content-Length or chunked: status line, headers in
    order, body."""
    status = reader.readline().decode().rstrip("\r\n")
    headers = []
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().rstrip("\r\n").partition(": ")
        headers.append((name, value))
    if ("Transfer-Encoding", "chunked") not in headers:
        length = next(int(v) for k, v in headers if k.lower() == "content-length")
        return status, headers, reader.read(length)
    chunks = []
    while size := int(reader.readline(), 16):
        chunks.append(reader.read(size))
        assert reader.read(2) == b"\r\n"
    assert reader.read(2) == b"\r\n"
    return status, headers, Chunked(chunks)


class Chunked(bytes):
    """A chunked body, which knows the sizes of its chunks."""

    def __new__(cls, chunks: list[bytes]) -> Chunked:
        body = super().__new__(cls, b"".join(chunks))
        body.sizes = [len(chunk) for chunk in chunks]
        return body


def send(server: MockServer, *writes: bytes, responses: int = 1, pause: float = 0.0):
    """Write ``writes`` on one connection (``pause`` seconds apart) and read ``responses``."""
    with socket.create_connection((server.settings.host, server.port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i, data in enumerate(writes):
            if i and pause:
                time.sleep(pause)
            sock.sendall(data)
        reader = sock.makefile("rb")
        return [read_response(reader) for _ in range(responses)]


def comparable(response: tuple[str, list[tuple[str, str]], bytes]) -> tuple:
    status, headers, body = response
    kept = [(k, v) for k, v in headers if k.lower() not in VARYING_HEADERS]
    if body.startswith(b"data: "):  # a stream: its events, ids and times left out
        events = [json.loads(line[6:]) for line in body.split(b"\n\n")[:-2]]
        for event in events:
            event.pop("id"), event.pop("created")
        return status, kept, events, body.split(b"\n\n")[-2:]
    try:
        data = json.loads(body)
    except ValueError:  # aiohttp's own plain-text answer to what it cannot parse
        return status, kept, body
    if isinstance(data, dict):
        data.pop("id", None)
        data.pop("created", None)
    return status, kept, data


def both_ways(server: MockServer, path: str, body: object = BODY, **headers: str):
    """The answer to one request sent in one write (the shortcut's) and with its body a moment
    after its head (aiohttp's), with how many of the two the shortcut answered."""
    head, data = request_bytes(path, body, **headers)
    before = shortcut(server).answered
    (direct,) = send(server, head + data)
    (through_aiohttp,) = send(server, head, data, pause=0.2)
    return direct, through_aiohttp, shortcut(server).answered - before


def test_a_reply_is_the_same_bytes_either_way(tenant):
    tenant.add(
        {"name": "hi", "match": {"last_user_message": "shortcut?"}, "reply": {"content": "Same."}}
    )
    direct, through_aiohttp, answered = both_ways(
        tenant.server, f"/t/{tenant.name}/v1/chat/completions"
    )
    assert answered == 1
    assert direct[0] == "HTTP/1.1 200 OK"
    assert [name for name, _ in direct[1]] == [name for name, _ in through_aiohttp[1]]
    assert comparable(direct) == comparable(through_aiohttp)
    assert comparable(direct)[2]["choices"][0]["message"]["content"] == "Same."


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (BODY, {"Authorization": ""}, 401),
        (b'{"model": "gpt-4o", "messages": [', {}, 400),
        ({"model": "gpt-4o"}, {}, 400),
        ({**BODY, "n": 0}, {}, 400),
        (BODY, {"X-Mock-Status": "429"}, 429),
    ],
    ids=["no-key", "broken-json", "no-messages", "bad-n", "forced-429"],
)
def test_an_error_is_the_same_bytes_either_way(server, body, headers, status):
    direct, through_aiohttp, answered = both_ways(server, "/v1/chat/completions", body, **headers)
    assert answered == 1
    assert direct[0].startswith(f"HTTP/1.1 {status} ")
    assert comparable(direct) == comparable(through_aiohttp)


@pytest.mark.parametrize(
    "path",
    [
        "/openai/v1/chat/completions",
        "/gemini/v1beta/openai/chat/completions",
        "/t/route-test/deepseek/v1/chat/completions",
        "/t/v1/chat/completions",  # the profile named "t": there is none
        "/nope/v1/chat/completions",
        "/gemini/v2/chat/completions",
        "/v1/chat/completions/",
        "//v1/chat/completions",
        "/v1/chat/completions?api-version=1",
        "/v1/chat/completion%73",
        "/__admin/v1/chat/completions",
        "/t//v1/chat/completions",
        "/v1/chat/completions#part",
        "/t/team#1/v1/chat/completions",  # a tenant's name up to a fragment
        "/\u00e4/v1/chat/completions",  # sent as UTF-8 bytes: aiohttp's parser refuses it
        "/openai/./v1/chat/completions",
        "/t/" + "long" * 80 + "/v1/chat/completions",  # too long for the route cache
    ],
)
def test_every_path_is_routed_as_aiohttp_routes_it(server, path):
    direct, through_aiohttp, _ = both_ways(server, path)
    assert comparable(direct) == comparable(through_aiohttp)


def test_a_delayed_reply_is_handed_to_aiohttp_and_begun_once(tenant):
    tenant.add(
        {
            "name": "slow-then-fast",
            "match": {"last_user_message": "shortcut?"},
            "sequence": [
                {"content": "one", "latency": {"delay_ms": 200}},
                {"content": "two"},
                {"content": "three"},
            ],
        }
    )
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions")
    before = shortcut(tenant.server).answered
    # Three requests in one write: the delayed first is handed over, the second waits behind
    # it (answers go out in order), the third too.
    responses = send(tenant.server, (head + data) * 3, responses=3)
    assert shortcut(tenant.server).answered == before
    contents = [json.loads(r[2])["choices"][0]["message"]["content"] for r in responses]
    assert contents == ["one", "two", "three"]
    assert [e["step"] for e in tenant.requests()] == [1, 2, 3]


def test_an_answer_held_for_the_round_goes_out_before_one_aiohttp_sends(tenant):
    """The shortcut's answers wait for the loop's next turn (``server.outbox``); the request
    behind one on its connection, which the same round hands to aiohttp (a query string), is
    still answered after it."""
    tenant.add({"name": "seq", "sequence": [{"content": f"step {i}"} for i in range(1, 4)]})
    path = f"/t/{tenant.name}/v1/chat/completions"
    first, second = request_bytes(path), request_bytes(path + "?via=aiohttp")
    before = shortcut(tenant.server).answered
    responses = send(tenant.server, b"".join(first + second + first), responses=3)
    assert shortcut(tenant.server).answered - before == 1  # the first; aiohttp the others
    contents = [json.loads(r[2])["choices"][0]["message"]["content"] for r in responses]
    assert contents == ["step 1", "step 2", "step 3"]


def _hang_up_after(server: MockServer, data: bytes, reset: bool) -> None:
    """Write ``data`` on a new connection and leave at once (``reset``: with a TCP reset)."""
    with socket.create_connection((server.settings.host, server.port), timeout=10) as sock:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(data)


def _journaled(tenant, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(entries := tenant.requests()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return entries


@pytest.mark.parametrize("reset", [False, True])
def test_answers_to_a_client_that_left_are_not_written(tenant, caplog, reset):
    """Twenty requests in one write, then the client leaves: each is answered and journaled,
    and no answer is written to the connection once a write has found the client gone (the
    transport then warns of every further write)."""
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions")
    _hang_up_after(tenant.server, (head + data) * 20, reset)
    assert len(_journaled(tenant, 20)) == 20
    # Another request answered: the loop has turned since, so the outbox has written.
    (answer,) = send(tenant.server, b"".join(request_bytes("/v1/chat/completions")))
    assert answer[0] == "HTTP/1.1 200 OK"
    assert "socket.send() raised exception" not in caplog.text


def test_a_request_whose_client_left_mid_body_is_journaled_as_such(tenant, caplog):
    """A request still arriving when the client leaves (the two before it answered by the
    shortcut) is a client that hung up, not an error of the server's."""
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions")
    for _ in range(5):  # when the client's leaving is seen varies: one of them finds it late
        _hang_up_after(tenant.server, (head + data) * 2 + head + data[:20], reset=False)
    entries = _journaled(tenant, 15)
    assert sorted(e["status"] for e in entries) == [0] * 5 + [200] * 10
    assert "Error handling request" not in caplog.text


def test_pipelined_requests_are_answered_in_order(tenant):
    tenant.add({"name": "seq", "sequence": [{"content": f"step {i}"} for i in range(1, 5)]})
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions")
    before = shortcut(tenant.server).answered
    responses = send(tenant.server, (head + data) * 4, responses=4)
    assert shortcut(tenant.server).answered - before == 4
    contents = [json.loads(r[2])["choices"][0]["message"]["content"] for r in responses]
    assert contents == ["step 1", "step 2", "step 3", "step 4"]
    assert len(tenant.requests()) == 4


def test_many_pipelined_requests_are_answered_in_order(tenant):
    """Reading one body lets aiohttp read on and parse the next requests from within: they
    wait their turn, in order, however many arrive at once."""
    tenant.add({"name": "count", "sequence": [{"content": f"n{i}"} for i in range(300)]})
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions")
    responses = send(tenant.server, (head + data) * 300, responses=300)
    contents = [json.loads(r[2])["choices"][0]["message"]["content"] for r in responses]
    assert contents == [f"n{i}" for i in range(300)]


def test_a_client_that_reads_nothing_is_answered_as_it_reads(tenant):
    """Forty requests in one write from a client that reads nothing yet: the shortcut answers
    until what waits for the client passes a transport's high-water mark, then aiohttp answers
    the rest, each once the client has taken the one before, so the answers do not pile up in
    the server's memory (one such connection held 1.3 GB, and the loop for seconds)."""
    tenant.add({"name": "big", "reply": {"content": "word " * 200_000}})  # a 1 MB answer
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions")
    address = (tenant.server.settings.host, tenant.server.port)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.settimeout(30)
        sock.connect(address)
        sock.sendall((head + data) * 40)
        _journaled(tenant, 1)
        # Another client answered: the loop has turned since the forty arrived together.
        (answer,) = send(tenant.server, b"".join(request_bytes("/v1/chat/completions")))
        assert answer[0] == "HTTP/1.1 200 OK"
        assert len(tenant.requests()) <= 10  # the kernel's buffers took a few
        reader = sock.makefile("rb")
        answers = [read_response(reader) for _ in range(40)]
    assert {(status, len(body)) for status, _, body in answers} == {
        ("HTTP/1.1 200 OK", len(answers[0][2]))
    }
    assert len(_journaled(tenant, 40)) == 40


@pytest.mark.parametrize("before", [31, 40, 100])
def test_nothing_after_a_request_that_closes_the_connection_is_read(tenant, before):
    """RFC 9112 section 9.6: a server processes no request after one with ``Connection:
    close``. Behind more requests than aiohttp's parser holds at once (32), that request
    was answered with aiohttp's 400 "Data after `Connection: close`" when the shortcut let
    aiohttp parse on."""
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions")
    closing, _ = request_bytes(f"/t/{tenant.name}/v1/chat/completions", Connection="close")
    server = tenant.server
    with socket.create_connection((server.settings.host, server.port), timeout=30) as sock:
        sock.sendall((head + data) * before + closing + data + head + data)
        reader = sock.makefile("rb")
        statuses = [read_response(reader)[0] for _ in range(before + 1)]
        assert reader.read() == b""  # then the server closed the connection
    assert statuses == ["HTTP/1.1 200 OK"] * (before + 1)
    assert len(tenant.requests()) == before + 1


def test_a_request_that_closes_the_connection_may_send_its_body_later(tenant):
    """The body of a request with ``Connection: close`` is still read when it comes after its
    head; then the server closes the connection."""
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions", Connection="close")
    (answer,) = send(tenant.server, head, data[:10], data[10:], pause=0.1)
    assert answer[0] == "HTTP/1.1 200 OK"
    assert ("Connection", "close") in answer[1]
    assert len(tenant.requests()) == 1


@pytest.mark.parametrize("profile", ["", "/google", "/deepseek"])
def test_a_stream_due_at_once_is_the_same_bytes_either_way(tenant, profile):
    tenant.add(
        {"name": "hi", "match": {"last_user_message": "shortcut?"}, "reply": {"content": "Same."}}
    )
    path = f"/t/{tenant.name}{profile}/v1/chat/completions"
    direct, through_aiohttp, answered = both_ways(tenant.server, path, {**BODY, "stream": True})
    assert answered == 1
    assert ("Transfer-Encoding", "chunked") in direct[1]
    assert [name for name, _ in direct[1]] == [name for name, _ in through_aiohttp[1]]
    assert comparable(direct) == comparable(through_aiohttp)
    assert comparable(direct)[3] == [b"data: [DONE]", b""]
    assert direct[2].sizes == through_aiohttp[2].sizes  # the events, then the end
    assert [e["stream"] for e in tenant.requests()] == [True, True]
    assert tenant.requests()[0]["chunk_ms"] == tenant.requests()[1]["chunk_ms"]


def test_a_paced_stream_is_sent_by_aiohttp(tenant):
    tenant.add(
        {
            "name": "paced",
            "match": {"last_user_message": "shortcut?"},
            "reply": {"content": "One two.", "latency": {"chunk_interval_ms": 1}},
        }
    )
    head, data = request_bytes(f"/t/{tenant.name}/v1/chat/completions", {**BODY, "stream": True})
    before = shortcut(tenant.server).answered
    with socket.create_connection((tenant.server.settings.host, tenant.server.port)) as sock:
        sock.sendall(head + data)
        received = b""
        while b"data: [DONE]" not in received:
            chunk = sock.recv(65536)
            assert chunk, "connection closed before the stream ended"
            received += chunk
    assert shortcut(tenant.server).answered == before
    assert b"Transfer-Encoding: chunked" in received
    assert tenant.requests()[0]["stream"] is True


def test_an_idle_connection_is_still_closed_after_a_shortcut_answer():
    with MockServer(idle_timeout=0.3) as server:
        head, data = request_bytes("/v1/chat/completions")
        with socket.create_connection((server.settings.host, server.port), timeout=10) as sock:
            sock.sendall(head + data)
            reader = sock.makefile("rb")
            assert read_response(reader)[0] == "HTTP/1.1 200 OK"
            assert shortcut(server).answered == 1
            assert reader.read() == b""  # the server closed the idle connection
