"""``server.outbox``: the shortcut's answers of one round of the event loop, written together,
in order, on real sockets."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from mock_server.server.outbox import MAX_WAITING, Outbox

Pair = tuple[asyncio.Transport, socket.socket]


@pytest.fixture
async def pairs() -> AsyncIterator[Callable[[], Awaitable[Pair]]]:
    """Makes a transport of this loop and the socket at its other end, which the test reads
    without turning the loop."""
    made: list[Pair] = []
    listener = socket.create_server(("127.0.0.1", 0))

    async def pair() -> Pair:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_connection(asyncio.Protocol, *listener.getsockname()[:2])
        peer, _ = listener.accept()
        peer.settimeout(10)
        made.append((transport, peer))
        return transport, peer

    yield pair
    for transport, peer in made:
        transport.close()
        peer.close()
    listener.close()


def nothing_arrived(peer: socket.socket) -> bool:
    peer.setblocking(False)
    try:
        peer.recv(1)
    except BlockingIOError:
        return True
    finally:
        peer.settimeout(10)
    return False


def received(peer: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += peer.recv(size - len(data))
    return data


async def test_writes_wait_for_the_end_of_the_round_and_keep_their_order(pairs):
    (transport, peer), (other, other_peer) = await pairs(), await pairs()
    outbox = Outbox()
    outbox.write(transport, b"one ")
    outbox.write(other, b"elsewhere")
    outbox.write(transport, b"two")
    assert nothing_arrived(peer) and nothing_arrived(other_peer)
    await asyncio.sleep(0)  # the loop's next round
    assert received(peer, 7) == b"one two"
    assert received(other_peer, 9) == b"elsewhere"


async def test_a_full_outbox_writes_at_once(pairs):
    transport, peer = await pairs()
    outbox = Outbox()
    writes = [b"%03d" % index for index in range(MAX_WAITING)]
    for data in writes[:-1]:
        outbox.write(transport, data)
    assert nothing_arrived(peer)
    outbox.write(transport, writes[-1])  # the one that fills it: all go out, loop or not
    assert received(peer, 3 * MAX_WAITING) == b"".join(writes)


async def test_a_transport_that_refuses_a_write_loses_only_its_own(pairs, caplog):
    (shut, _), (transport, peer) = await pairs(), await pairs()
    shut.write_eof()  # a write after this raises
    outbox = Outbox()
    outbox.write(shut, b"lost")
    outbox.write(transport, b"kept")
    outbox.flush()
    assert received(peer, 4) == b"kept"
    assert "an answer could not be written" in caplog.text
