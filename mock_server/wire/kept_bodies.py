"""Answer bodies kept as bytes, for the requests that come back to the same answer.

A ``chat.completion`` body is made from the request, the profile and the reply spec that answers
it. Three parts of it change from one answer to the next: ``id``, ``created``, and the ``usage``
(the prompt's token count is the request's own). So once an answer has been made, the next
request with the same API cache key (``Api.cache_key``: what else the answer depends on, e.g.
the model and token limit asked for when the reply's words are fixed, or the request's bytes when
they depend on it), answered by the same reply spec, gets the same body around those parts: from
the second time on it is kept cut around them, and each answer gets a fresh id and time and its
own usage spliced in, with nothing else rendered or encoded. An API says which bodies may be kept
(not one whose tool calls got generated ids: each answer needs new ones; none whose answer
depends on stored state).

Bounded like ``checks.request.PassedBodies``: keys holding up to ``MAX_REQUEST_BYTES`` of request,
answer bodies up to ``MAX_BODY_BYTES``, at most ``MAX_ENTRIES`` (the least recently used forgotten
first); so are the keys seen once, not yet kept.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Protocol

from ..caches import BoundedCache
from ..jsonio import JsonStyle
from .answer import Written

MAX_ENTRIES = 256
MAX_REQUEST_BYTES = 8192
MAX_BODY_BYTES = 32768


class Keepable(Written, Protocol):
    """What an API's encoder wrote of an answer its API keeps (``Api.cache_key``): the
    prompt's token count too, and the same answer for another count."""

    prompt_tokens: int

    def for_prompt(self, prompt_tokens: int) -> Keepable:
        """The same answer to a request whose prompt counts ``prompt_tokens``."""


class KeptBody:
    """An answer body cut around its id, creation time and usage, and what it answered with."""

    __slots__ = ("_id_first", "_last", "_parts", "_style", "owner", "warning", "written")

    def __init__(
        self, owner: Any, written: Keepable, data: bytes, warning: str | None, style: JsonStyle
    ):
        """``written``: what the API's encoder made of the first answer, ``data`` its body in
        ``style``; its ``id``, ``created`` and usage must each be in it once, the usage after
        the other two (the members after the usage, such as the tier and the fingerprint, are
        the same for every request of its cache key), else ValueError."""
        self.owner = owner  # the reply spec: kept alive, so its id is not reused meanwhile
        self.written = written
        self.warning = warning
        self._style = style
        quoted_id = b'"%s"' % written.id.encode()
        if data.count(quoted_id) != 1:  # a reply that quotes it: made afresh each time
            raise ValueError("the id is not in the body once")
        id_at = data.index(quoted_id) + 1
        id_end = id_at + len(quoted_id) - 2
        created_key = data.index(b'"created":')
        created = b"%d" % written.created
        created_at = data.index(created, created_key)
        if data[created_key + 10 : created_at].strip():
            raise ValueError("the creation time is not where it should be")
        created_end = created_at + len(created)
        usage = style.member(written.usage())
        if data.count(usage) != 1:
            raise ValueError("the usage is not in the body once")
        usage_at = data.index(usage)
        usage_end = usage_at + len(usage)
        # Sorted keys put "created" first.
        (first, first_end), (second, second_end) = sorted(
            ((id_at, id_end), (created_at, created_end))
        )
        if second_end > usage_at:
            raise ValueError("the usage is not after the id and creation time")
        self._id_first = first == id_at
        self._parts = (
            data[:first], data[first_end:second], data[second_end:usage_at], data[usage_end:]
        )  # fmt: skip
        self._last = (written.prompt_tokens, written, usage)

    def answer(
        self, completion_id: str, created: int, prompt_tokens: int
    ) -> tuple[Keepable, bytes]:
        """What this answer is to a request whose prompt counts ``prompt_tokens``, and its body
        with ``completion_id`` and ``created``."""
        prompt, written, usage = self._last
        if prompt != prompt_tokens:
            written = written.for_prompt(prompt_tokens)
            usage = self._style.member(written.usage())
            self._last = (prompt_tokens, written, usage)
        values = (completion_id.encode(), b"%d" % created)
        first, second = values if self._id_first else values[::-1]
        before, between, after, end = self._parts
        return written, b"".join((before, first, between, second, after, usage, end))


def _held(key: tuple[Hashable, ...]) -> int:
    """What a cache key holds of the request (its bytes and strings, in tuples of them too, such
    as the stop sequences), as the bounds count it."""
    return sum(
        len(part) if isinstance(part, bytes | str) else _held(part)
        for part in key
        if isinstance(part, bytes | str | tuple)
    )


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
        key: tuple[Hashable, ...],
        reply: Any,
        written: Keepable,
        data: bytes,
        warning: str | None,
        style: JsonStyle,
    ) -> None:
        """Keep ``data`` (written in ``style``), the answer by ``reply`` to the request of
        ``key``, the second time it is made."""
        size = _held(key)
        if size > MAX_REQUEST_BYTES or len(data) > MAX_BODY_BYTES:
            return
        key = (key, id(reply))
        if not self.seen.get(key):
            self.seen.put(key, True, size)
            return
        try:
            kept = KeptBody(reply, written, data, warning, style)
        except ValueError:  # a body of another shape: made afresh each time
            return
        self.kept.put(key, kept, size + len(data))
