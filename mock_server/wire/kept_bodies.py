"""Answer bodies kept as bytes, for the request bodies that come back.

A ``chat.completion`` body is made from the request body, the profile and the reply spec that
answers it, except for two fields: ``id`` and ``created``. So once a request has been answered,
the same bytes of request, to the same profile and API (the API's ``cache_key``), answered by the
same reply spec, get the same body again: from the second time on, it is kept as the bytes around
those two fields, and the next such request gets a fresh id and time spliced in, with nothing
rendered or encoded. An API says which bodies may be kept (not one whose tool calls got
generated ids: each answer needs new ones; none whose answer depends on stored state).

Bounded like ``checks.request.PassedBodies``: request bodies up to ``MAX_REQUEST_BYTES``,
completion bodies up to ``MAX_BODY_BYTES``, at most ``MAX_ENTRIES`` (the least recently used
forgotten first); so are the requests seen once, not yet kept.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from ..caches import BoundedCache
from .answer import Written

MAX_ENTRIES = 256
MAX_REQUEST_BYTES = 8192
MAX_BODY_BYTES = 32768


class KeptBody:
    """An answer body cut around its id and creation time, and what it answered with."""

    __slots__ = ("_id_first", "_parts", "owner", "warning", "written")

    def __init__(self, owner: Any, written: Written, data: bytes, warning: str | None):
        """``written``: what the API's encoder made of the first answer (its ``id`` and
        ``created`` are in ``data``, else ValueError; its usage is every answer's)."""
        self.owner = owner  # the reply spec: kept alive, so its id is not reused meanwhile
        self.written = written
        self.warning = warning
        quoted_id = b'"%s"' % written.id.encode()
        id_at = data.index(quoted_id) + 1
        id_end = id_at + len(quoted_id) - 2
        created_key = data.index(b'"created":')
        created = b"%d" % written.created
        created_at = data.index(created, created_key)
        if data[created_key + 10 : created_at].strip():
            raise ValueError("the creation time is not where it should be")
        created_end = created_at + len(created)
        # Sorted keys put "created" first.
        (first, first_end), (second, second_end) = sorted(
            ((id_at, id_end), (created_at, created_end))
        )
        self._id_first = first == id_at
        self._parts = (data[:first], data[first_end:second], data[second_end:])

    def body(self, completion_id: str, created: int) -> bytes:
        values = (completion_id.encode(), b"%d" % created)
        first, second = values if self._id_first else values[::-1]
        before, between, after = self._parts
        return b"".join((before, first, between, second, after))


Key = tuple[Hashable, int]  # the API's cache key (request body, profile ...), reply spec's id


class KeptBodies:
    """The kept bodies of one server, by the API's cache key and reply spec. A body is kept
    the second time it is made: traffic in which nothing repeats pays for no cutting.
    ``registry`` lists the caches as ``kept_bodies`` and ``seen_bodies``."""

    def __init__(self, registry: dict[str, BoundedCache[Any, Any]] | None = None) -> None:
        self.kept: BoundedCache[Key, KeptBody] = BoundedCache(
            "kept_bodies",
            MAX_ENTRIES,
            max_bytes=MAX_ENTRIES * (MAX_REQUEST_BYTES + MAX_BODY_BYTES),
            registry=registry,
        )
        self.seen: BoundedCache[Key, bool] = BoundedCache(
            "seen_bodies", MAX_ENTRIES, max_bytes=MAX_ENTRIES * MAX_REQUEST_BYTES, registry=registry
        )

    def get(self, key: Hashable, reply: Any) -> KeptBody | None:
        kept = self.kept.get((key, id(reply)))
        return kept if kept is not None and kept.owner is reply else None

    def keep(
        self,
        key: Hashable,
        size: int,
        reply: Any,
        written: Written,
        data: bytes,
        warning: str | None,
    ) -> None:
        """Keep ``data``, the answer by ``reply`` to the request of ``key`` (which holds the
        request's ``size`` bytes), the second time it is made."""
        if size > MAX_REQUEST_BYTES or len(data) > MAX_BODY_BYTES:
            return
        key = (key, id(reply))
        if not self.seen.get(key):
            self.seen.put(key, True, size)
            return
        try:
            kept = KeptBody(reply, written, data, warning)
        except ValueError:  # a body of another shape: made afresh each time
            return
        self.kept.put(key, kept, size + len(data))
