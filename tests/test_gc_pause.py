"""Large values built from client data (a request's input items, a long scenario document) are
built with the cyclic garbage collector held off (``mock_server.gc_pause``): counted here by the
collections CPython reports while the server, in this process, does the work."""

from __future__ import annotations

import gc
import http.client
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from conftest import post_json
from processes import serving

from mock_server.gc_pause import without_gc

ITEMS = 60_000


@contextmanager
def older_collections() -> Iterator[list[int]]:
    """The number of collections of the older generations (1 and 2) started meanwhile, in a
    one-item list: each follows ten of the youngest, which a few thousand allocations start."""
    started = [0]

    def count(phase: str, info: dict) -> None:
        if phase == "start" and info["generation"] >= 1:
            started[0] += 1

    gc.callbacks.append(count)
    try:
        yield started
    finally:
        gc.callbacks.remove(count)


def test_a_request_of_many_input_items_is_answered_without_collections(server, tenant):
    items = [{"role": "user", "content": f"item {n}"} for n in range(ITEMS)]
    with older_collections() as started:
        answer = post_json(
            server, f"/t/{tenant.name}/v1/responses", {"model": "gpt-4o", "input": items}
        )
    assert answer.status == 200, answer.body[:300]
    # Built with the collector on, the items took some 40 of them (full collections among them,
    # each over everything built so far); after the work, the collector runs on as ever.
    assert started[0] <= 10


def test_a_long_scenario_document_is_added_without_collections(tenant):
    steps = "".join(f"      - content: step {n}\n" for n in range(ITEMS // 4))
    document = f"scenarios:\n  - name: long\n    sequence:\n{steps}"
    with older_collections() as started:
        tenant.add(document)
    assert started[0] <= 10  # 68 with the collector on
    assert "long" in [s["name"] for s in tenant.admin("GET", "/scenarios").json()["scenarios"]]


def test_a_server_holding_a_long_document_stops_at_once(tmp_path):
    steps = "".join(f"      - content: step {n}\n" for n in range(100_000))
    with serving(tmp_path) as (port, _):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request(
            "POST", "/__admin/scenarios", f"scenarios:\n  - name: long\n    sequence:\n{steps}"
        )
        assert connection.getresponse().status == 201
        connection.close()
        stopping = time.monotonic()
    # SIGTERM, and the process has exited: not after the interpreter's last collections, which
    # walked every object the document left (1.9 s for this one).
    assert time.monotonic() - stopping < 1.0


def test_the_collector_is_on_again_after_the_work_and_left_off_when_it_was_off():
    seen: list[bool] = []

    @without_gc
    def work(fail: bool) -> None:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("refused")

    assert gc.isenabled()
    work(False)
    with pytest.raises(ValueError):
        work(True)
    assert seen == [False, False] and gc.isenabled()
    gc.disable()
    try:
        work(False)
        assert not gc.isenabled()  # whoever turned it off turns it on
    finally:
        gc.enable()


def test_calls_from_two_threads_hold_the_collector_off_until_the_last_returns():
    inside, leave = threading.Event(), threading.Event()

    @without_gc
    def waits() -> None:
        inside.set()
        leave.wait(10)

    @without_gc
    def returns_at_once() -> bool:
        return gc.isenabled()

    other = threading.Thread(target=waits)
    other.start()
    try:
        assert inside.wait(10)
        assert returns_at_once() is False
        assert not gc.isenabled()  # the other thread's call is still running
    finally:
        leave.set()
        other.join(10)
    assert gc.isenabled()


def test_what_the_work_returns_is_returned():
    add: Callable[[int, int], int] = without_gc(lambda a, b: a + b)
    assert add(2, b=3) == 5
