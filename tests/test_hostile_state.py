"""State a client can make the server keep, and what one bad stream, clock call, recording path,
template or profile can do to the rest: the accounts of keys clients choose, configured tenants
and their scenarios, the pacer, the manual clock, recording files, template filters, DeepSeek's
error code. Through a real server throughout."""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import logging
import socket
import time
import tracemalloc
from types import SimpleNamespace

import pytest
from aiohttp import web
from conftest import API_KEY, TenantHandle, post_json, raw_request, wait_for

from mock_server.accounts.account import MAX_ACCOUNTS
from mock_server.config import Limits
from mock_server.server.state import STATE
from mock_server.testing.runner import MockServer

pytest_plugins = ["pytester"]
ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three"}]}


def error_of(response) -> dict:
    assert response.headers["content-type"].startswith("application/json"), response.body
    return response.json()["error"]


# 1. What clients choose is kept within bounds: accounts by key, fingerprints by model name,
# configured tenants and their scenarios.


def test_accounts_of_keys_clients_choose_are_bounded():
    body = json.dumps(ASK).encode()
    with MockServer(limits=Limits(requests_per_minute=2)) as limited:
        connection = http.client.HTTPConnection(limited.settings.host, limited.port, timeout=30)

        def remaining(key: str) -> str:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            connection.request("POST", "/v1/chat/completions", body, headers)
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            return response.getheader("x-ratelimit-remaining-requests")

        assert [remaining("sk-first"), remaining("sk-first")] == ["1", "0"]
        for index in range(2 * MAX_ACCOUNTS):  # one keep-alive connection, a key a request
            remaining(f"sk-key-{index:06d}")
        tenants = limited.app[STATE].tenants
        assert limited.call(lambda: len(tenants.get(None).accounts)) == MAX_ACCOUNTS
        assert remaining(f"sk-key-{2 * MAX_ACCOUNTS - 1:06d}") == "0"  # the recent are kept
        assert remaining("sk-first") == "1"  # forgotten, so it starts afresh
        connection.close()


def test_long_model_names_are_not_remembered():
    with MockServer(journal_bytes=64 * 1024) as bounded:
        assert post_json(bounded, "/v1/chat/completions", ASK).status == 200
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for index in range(20):  # each model name a megabyte, as a client may choose
                body = {**ASK, "model": f"{index:02d}" + "m" * 1_000_000}
                assert post_json(bounded, "/v1/chat/completions", body).status == 200

            def little_is_kept() -> bool:
                """the journal's last entry is kept, not twenty model names"""
                gc.collect()
                return tracemalloc.get_traced_memory()[0] - before < 5_000_000

            # The server's thread lets go of its last request (aiohttp's handler of the closed
            # connection holds it) a moment after the answer: wait for that, up to a deadline.
            wait_for(little_is_kept)
        finally:
            tracemalloc.stop()


def test_configured_tenants_and_their_scenarios_are_bounded():
    with MockServer(max_tenants=2) as bounded:
        first, second, third = (TenantHandle(bounded, name) for name in ("a", "b", "c"))
        first.add({"name": "x", "reply": {"content": "a"}})
        assert second.admin("POST", "/settings", {"strict": True}).status == 200
        refused = third.admin("POST", "/scenarios", {"name": "x", "reply": {"content": "c"}})
        assert refused.status == 409
        assert "max_tenants (2)" in error_of(refused)["message"]
        assert third.post(ASK).status == 200  # an idle tenant is still served
        assert first.admin("POST", "/reset").status == 200
        third.add({"name": "x", "reply": {"content": "c"}})  # room again
        many = [{"name": f"s{index}", "reply": {"content": "x"}} for index in range(10_001)]
        refused = second.admin("POST", "/scenarios", {"scenarios": many})
        assert refused.status == 409
        assert "at most 10,000 added scenarios" in error_of(refused)["message"]


# 2. One failing stream cannot stop the pacer; streams nobody reads cost little.

FLOOD = {  # about 900 KB a stream: more than a connection buffers, for a client that never reads
    "name": "flood",
    "reply": {
        "content": "x" * 3000,
        "stream": {"chunk": "char", "size": 1},
        "latency": {"chunk_interval_ms": 1},
    },
}


def stream_request() -> bytes:
    body = json.dumps({**ASK, "stream": True}).encode()
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (API_KEY.encode(), len(body), body)
    )


def silent_client(server: MockServer) -> socket.socket:
    """A connection that sends a stream request and never reads, with small segments and a
    small receive buffer, so the server's side fills after a few hundred KB."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.connect((server.settings.host, server.port))
    sock.sendall(stream_request())
    return sock


def cpu_share(seconds: float = 0.5) -> float:
    """This process's CPU time over ``seconds`` of wall time, as a share of one core."""
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(seconds)
    return (time.process_time() - cpu) / (time.monotonic() - wall)


def read_to_the_end(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while not data.endswith(b"\r\n0\r\n\r\n"):
        chunk = sock.recv(1 << 20)
        assert chunk, data[-200:]
        data += chunk
    return data


def test_paced_streams_nobody_reads_cost_little():
    with MockServer() as paced:
        paced.add(FLOOD)
        assert post_json(paced, "/v1/chat/completions", ASK).status == 200  # warmed up
        clients = [silent_client(paced) for _ in range(200)]
        try:
            # Rendering and sending the first few hundred KB of each stream takes a moment;
            # then every stream waits on its full connection, and that costs next to nothing.
            wait_for(lambda: cpu_share() < 0.15, seconds=20, every=0)
            started = time.monotonic()
            assert post_json(paced, "/v1/chat/completions", ASK).status == 200
            assert time.monotonic() - started < 1  # a loaded CI machine included
            assert read_to_the_end(clients[0]).endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")
        finally:
            for client in clients:
                client.close()


class BrokenTransport:
    """A connection whose writes fail: what a transport broken in some new way looks like."""

    def __init__(self) -> None:
        self.aborted = False

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def write(self, data: bytes) -> None:
        raise RuntimeError("this transport is broken")

    def abort(self) -> None:
        self.aborted = True


def test_a_failing_stream_does_not_stop_the_others(caplog):
    with MockServer() as paced:
        paced.add({**FLOOD, "reply": {**FLOOD["reply"], "content": "y" * 400}})
        pacer, transport = paced.app[STATE].pacer, BrokenTransport()

        def send_broken():
            now = asyncio.get_running_loop().time()
            request = SimpleNamespace(transport=transport)
            data, schedule = [b"a", b"b"], [now, now + 0.01]
            return asyncio.ensure_future(
                pacer.send(request, web.StreamResponse(), data, schedule, 0)
            )

        with socket.create_connection((paced.settings.host, paced.port)) as sock:
            sock.sendall(stream_request())
            sock.settimeout(10)
            assert sock.recv(1 << 16)  # the stream has begun, its chunks paced
            with caplog.at_level(logging.ERROR, logger="mock_server"):
                broken = paced.call(send_broken)
                wait_for(broken.done, seconds=5)
                assert broken.result() == 0 and transport.aborted
                assert read_to_the_end(sock).endswith(b"data: [DONE]\n\n\r\n0\r\n\r\n")
        failures = [r for r in caplog.records if "paced stream failed" in r.getMessage()]
        assert len(failures) == 1, caplog.text


# 3. The manual clock takes finite numbers only, so rate-limit windows keep rolling.


@pytest.mark.parametrize(
    "body, rule",
    [
        (b'{"seconds": NaN}', "the body is not JSON"),
        (b'{"seconds": Infinity}', "the body is not JSON"),
        (b'{"seconds": 1e400}', "the body is not JSON (number is infinity"),
        (b'{"seconds": "5"}', "seconds must be a number"),
        (b'{"seconds": true}', "seconds must be a number"),
        (b'{"seconds": 5, "minutes": 1}', "'minutes' is not a key this call takes"),
        (b'{"seconds": -1}', "from 0 to 31,622,400 (a year)"),
        (b'{"seconds": 1e12}', "from 0 to 31,622,400 (a year)"),
    ],
)
def test_the_manual_clock_takes_finite_numbers_only(body, rule):
    limits = Limits(requests_per_minute=1, window_seconds=10)
    with MockServer(clock="manual", limits=limits) as timed:
        assert post_json(timed, "/v1/chat/completions", ASK).status == 200
        assert post_json(timed, "/v1/chat/completions", ASK).status == 429
        refused = raw_request(timed, "POST", "/__admin/clock", body)
        assert refused.status == 400
        assert rule in error_of(refused)["message"] and error_of(refused)["type"] == "invalid_clock"
        moved = raw_request(timed, "POST", "/__admin/clock", b'{"seconds": 10}')
        assert moved.json()["now"] == 10
        assert post_json(timed, "/v1/chat/completions", ASK).status == 200  # the window rolled


@pytest.mark.parametrize(
    "body", [b'{"strict": "no"}', b'{"strict": 1}', b"[true]", b'{"strict": NaN}']
)
def test_tenant_settings_take_booleans_only(tenant, body):
    refused = tenant.admin("POST", "/settings", body)
    assert refused.status == 400 and error_of(refused)["type"] == "invalid_settings"
    assert tenant.admin("POST", "/settings", b"{}").json() == {"strict": None}


@pytest.mark.parametrize(
    "path, body, problem",
    [
        (
            "/settings",
            b'{"strikt": true}',
            "'strikt' is not a key this call takes; did you mean 'strict'?",
        ),
        ("/settings", b'{"strict": "yes"}', 'strict must be true, false or null, not "yes"'),
        ("/settings", b"[true]", "the body is an array, not an object"),
        ("/settings", b"{", "the body is not JSON (unexpected end of data"),
        ("/clock", b"{}", "seconds is missing"),
        ("/clock", b'{"second": 5}', "did you mean 'seconds'?"),
        ("/clock", b'{"seconds": ' + b"[" * 1000 + b"]" * 1000 + b"}", "not an array"),
    ],
)
def test_an_admin_body_refused_says_what_is_wrong_with_it(tenant, path, body, problem):
    refused = tenant.admin("POST", path, body)
    assert refused.status == 400 and problem in error_of(refused)["message"]


# 4. Recording files stay inside the recording root.


@pytest.fixture
def recording_root(tmp_path):
    root = tmp_path / "recordings"
    with MockServer(record=["http://127.0.0.1:9/v1"], record_to=str(root)) as recorder:
        (root / "sub").mkdir(parents=True)
        (tmp_path / "elsewhere").mkdir()
        (root / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
        (root / "sub" / "escape.yaml").symlink_to(tmp_path / "elsewhere" / "victim.yaml")
        yield recorder, root


@pytest.mark.parametrize(
    "relative, rule",
    [
        ("recordings/../outside.yaml", "may not contain '..'"),
        ("recordings/sub/../../outside.yaml", "may not contain '..'"),
        ("outside.yaml", "must lie inside the recording root"),
        ("recordings/link/through-a-link.yaml", "must lie inside the recording root"),
        ("recordings/sub/escape.yaml", "must lie inside the recording root"),
    ],
)
def test_recording_files_outside_the_root_are_refused(recording_root, relative, rule):
    recorder, root = recording_root
    spec = {"file": str(root.parent / relative), "mode": "new"}
    refused = TenantHandle(recorder, "rec").admin("PUT", "/recording", spec)
    assert refused.status == 400
    error = error_of(refused)
    assert rule in error["message"] and error["type"] == "invalid_recording"
    assert not list((root.parent / "elsewhere").iterdir())
    assert not (root.parent / "outside.yaml").exists()


@pytest.mark.parametrize(
    "body, problem",
    [
        (b'{"mode": "new"}', "file is missing"),
        (b'{"file": "a.yaml", "fresh": "no"}', 'fresh must be true or false, not "no"'),
        (b'{"file": "a.yaml", "mood": "new"}', "did you mean 'mode'?"),
    ],
)
def test_a_recording_body_refused_says_what_is_wrong_with_it(recording_root, body, problem):
    refused = TenantHandle(recording_root[0], "rec").admin("PUT", "/recording", body)
    error = error_of(refused)
    assert refused.status == 400 and error["type"] == "invalid_recording"
    assert problem in error["message"]


def test_a_recording_file_inside_the_root_is_taken(recording_root):
    recorder, root = recording_root
    spec = {"file": str(root / "sub" / "mine.yaml"), "mode": "new"}
    answer = TenantHandle(recorder, "rec").admin("PUT", "/recording", spec)
    assert answer.status == 200 and answer.json()["loaded"] == 0


@pytest.mark.parametrize("fresh", [False, True])
def test_a_file_that_holds_no_scenarios_is_not_recorded_over(recording_root, fresh):
    """Inside the root, a file of something else (a CI workflow, say) stays as it is, even
    when the tenant asks to record afresh (mode ``all``)."""
    recorder, root = recording_root
    workflow = root / "sub" / "ci.yml"
    workflow.write_text("on: push\njobs: {}\n")
    spec = {"file": str(workflow), "mode": "all", "fresh": fresh}
    refused = TenantHandle(recorder, "rec").admin("PUT", "/recording", spec)
    assert refused.status == 400
    assert "cannot record into it: no 'scenarios:' list" in error_of(refused)["message"]
    assert workflow.read_text() == "on: push\njobs: {}\n"


def test_the_plugin_keeps_recordings_in_the_tests_folder(pytester):
    pytester.makeini("[pytest]\nmock_server_recordings = ../shared-recordings\n")
    pytester.makepyfile("def test_it(mock_server):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*inside each test's own folder (not absolute, no '..')*"])


# 5. A template filter given an argument it does not take is refused when the scenario loads.


@pytest.mark.parametrize(
    "template, rule",
    [
        ("{{ request.model | upper(3) }}", "filter 'upper' takes no argument"),
        ("{{ request.messages | length(2) }}", "filter 'length' takes no argument"),
        ("{{ request.messages | join(3) }}", "filter 'join' takes a quoted text, not 3"),
    ],
)
def test_filters_with_arguments_they_do_not_take_are_refused_at_load(tenant, template, rule):
    refused = tenant.admin("POST", "/scenarios", {"name": "bad", "reply": {"content": template}})
    assert refused.status == 400 and rule in error_of(refused)["message"]
    assert tenant.post(ASK).status == 200  # nothing was added: the fallback answers


def test_filters_with_the_arguments_they_take_render(tenant):
    template = "{{ request.seed | default(0) }} {{ request.messages | length }} {{ model | upper }}"
    tenant.add({"name": "ok", "reply": {"content": template}})
    answer = tenant.post(ASK)
    assert answer.json()["choices"][0]["message"]["content"] == "0 1 GPT-4O"


# 6. DeepSeek answers every error with code invalid_request_error.


@pytest.mark.parametrize(
    "extra, status",
    [({"temperature": "hot"}, 400), ({"temperature": 3}, 422), ({"messages": []}, 422)],
)
def test_deepseek_keeps_its_error_code_on_validation_errors(server, extra, status):
    body = {**ASK, "model": "deepseek-chat", **extra}
    deepseek = post_json(server, "/deepseek/v1/chat/completions", body)
    assert deepseek.status == status
    assert error_of(deepseek)["code"] == "invalid_request_error"
    openai = post_json(server, "/v1/chat/completions", {**ASK, **extra})
    assert error_of(openai)["code"] not in (None, "invalid_request_error")  # the rule's name
