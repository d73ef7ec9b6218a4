"""How large a reply will be, estimated before it is built.

A small request can ask for a large answer: ``n`` copies of an echoed prompt, 20 alternative
log probabilities for each of its tokens, a stream that wraps each token in a chunk of its own.
``estimated_size`` bounds what building the reply would cost, so the server can refuse it
(``max_response_bytes``) instead of spending the memory and the event loop on it.
"""

from __future__ import annotations

from ..errors import ApiError
from ..reply import Message
from .delivery import StreamShape

CHOICE_BYTES = 300  # a choice's envelope: index, role, finish_reason, logprobs ...
CHUNK_BYTES = 250  # a stream chunk's envelope: id, object, created, model, delta ...
LOGPROB_BYTES = 90  # one log-probability entry: token, logprob, bytes
BYTES_PER_TOKEN = 3  # fewer than English averages, so the estimate errs high


def estimated_size(
    choices: list[Message],
    top_logprobs: int | None,
    stream: StreamShape | None,
    copies: int = 1,
) -> int:
    """Roughly how many bytes the reply made of ``choices`` takes on the wire (an estimate that
    errs high; building the reply costs memory in proportion); ``copies``: how many times the
    wire carries each text whole (a Responses stream repeats it in its ``done`` events)."""
    total = 0
    sizes: dict[int, int] = {}  # ``n`` copies of one message are measured once
    for choice in choices:
        text = sizes.get(id(choice))
        if text is None:
            text = sizes[id(choice)] = choice.text_bytes()
        tokens = text // BYTES_PER_TOKEN + 1
        total += CHOICE_BYTES + text * copies
        if top_logprobs is not None:
            total += tokens * (top_logprobs + 1) * LOGPROB_BYTES
        if stream is not None:
            per_chunk = 1 if stream.chunk == "char" else BYTES_PER_TOKEN
            total += (text // (per_chunk * max(1, stream.size)) + 1) * CHUNK_BYTES
    return total


def refuse_if_too_large(size: int, limit: int, asked: list[str]) -> None:
    """Raise the 400 ``response_too_large`` for a reply of about ``size`` bytes when that is
    more than ``limit`` (``max_response_bytes``); ``asked``: what in the request makes it so."""
    if size <= limit:
        return
    raise ApiError(
        "400",
        f"This request asks for a reply of about {size:,} bytes"
        + (f" ({', '.join(asked)})" if asked else "")
        + f", more than this server's limit of {limit:,} bytes (max_response_bytes).",
        code="response_too_large",
    )
