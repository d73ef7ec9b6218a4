"""One timer for every paced stream of a server.

A thousand streams at 20 ms a chunk ask for 50,000 writes a second. Waking a task per chunk
(a timer, a future, a task step, an awaited write) costs more than one core has; the pacer
instead keeps every stream's next due time in one heap, wakes once for whatever is due, and
writes each stream's due chunks straight to its connection — framed as the response's
chunked transfer encoding, after aiohttp has sent the headers. The handler only awaits the end
of its stream.

A connection whose send buffer is full (a client not reading) is skipped until it drains, so a
slow reader holds no more than the buffer; it is tried again after ``RETRY_SECONDS``, then half
as often each time it is still full, down to every ``MAX_RETRY_SECONDS``, so that streams
nobody reads cost next to nothing. A closed connection ends its stream; so does a stream that
fails (logged, and its connection cut), and the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging

from aiohttp import web

log = logging.getLogger("mock_server")
HIGH_WATER = 256 * 1024  # bytes queued on a connection before its stream waits
RETRY_SECONDS = 0.005  # how soon a waiting stream is first tried again
MAX_RETRY_SECONDS = 0.1  # and how seldom at most


class _Stream:
    __slots__ = ("chunked", "data", "done", "retry", "schedule", "sent", "transport")

    def __init__(self, data, schedule, sent, transport, chunked, done) -> None:
        self.data: list[bytes] = data
        self.schedule: list[float] = schedule
        self.sent: int = sent
        self.transport: asyncio.Transport = transport
        self.chunked: bool = chunked
        self.done: asyncio.Future = done
        self.retry: float = RETRY_SECONDS  # how long it waits if its buffer is still full


class Pacer:
    """Sends the chunks of many streams on their schedules from a single task."""

    def __init__(self) -> None:
        # (due, tie-breaker, stream): plain tuples compare fast, in C.
        self._heap: list[tuple[float, int, _Stream]] = []
        self._order = itertools.count()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    async def send(
        self,
        request: web.Request,
        response: web.StreamResponse,
        data: list[bytes],
        schedule: list[float],
        start: int,
    ) -> int:
        """Send ``data[start:]`` at the loop times in ``schedule``; the number of items sent
        (short of ``len(data)`` when the client left). The response's headers must already be
        on the wire (one awaited ``response.write`` does that)."""
        transport = request.transport
        if start >= len(data) or transport is None:
            return start
        loop = asyncio.get_running_loop()
        chunked = response.headers.get("Transfer-Encoding") == "chunked"
        stream = _Stream(data, schedule, start, transport, chunked, loop.create_future())
        heapq.heappush(self._heap, (schedule[start], next(self._order), stream))
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        elif self._heap[0][2] is stream:
            self._wake.set()  # it is due before what the pacer sleeps for
        return await stream.done

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        heap = self._heap
        while heap:
            delay = heap[0][0] - loop.time()
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            now = loop.time()
            while heap and heap[0][0] <= now:
                _, order, stream = heapq.heappop(heap)
                try:
                    due = self._step(stream, now)
                except Exception:
                    log.exception("a paced stream failed; its connection is cut")
                    _cut(stream)
                    continue
                if due is not None:
                    heapq.heappush(heap, (due, order, stream))

    @staticmethod
    def _step(stream: _Stream, now: float) -> float | None:
        """Write what is due; when the stream is due next (None: it is over)."""
        transport = stream.transport
        if stream.done.done():  # its handler was cancelled
            return None
        if transport.is_closing():
            stream.done.set_result(stream.sent)
            return None
        if transport.get_write_buffer_size() > HIGH_WATER:
            wait = stream.retry
            stream.retry = min(wait * 2, MAX_RETRY_SECONDS)
            return now + wait
        stream.retry = RETRY_SECONDS
        last = stream.sent + 1
        total = len(stream.data)
        while last < total and stream.schedule[last] <= now:
            last += 1
        payload = b"".join(stream.data[stream.sent : last])
        if stream.chunked:
            payload = b"%x\r\n%s\r\n" % (len(payload), payload)
        transport.write(payload)
        stream.sent = last
        if last >= total:
            stream.done.set_result(last)
            return None
        return stream.schedule[last]


def _cut(stream: _Stream) -> None:
    """End a stream that failed: its connection closed, its handler told what was sent."""
    with contextlib.suppress(Exception):
        stream.transport.abort()
    if not stream.done.done():
        stream.done.set_result(stream.sent)
