"""How large a reply will be, estimated before it is built.

A small request can ask for a large answer: ``n`` copies of an echoed prompt, 20 alternative
log probabilities for each of its tokens, a stream that wraps each token in a chunk of its own.
``estimated_size`` bounds what building the reply would cost from above, so the server can
refuse it (``max_response_bytes``) instead of spending the memory and the event loop on it: log
probabilities are counted token by token, each with its alternatives, the bytes of their texts
and the lines an indented body gives them.
"""

from __future__ import annotations

from ..errors import ApiError
from ..reply import Message
from ..tokens import EXACT_CHARS, count_tokens
from .delivery import StreamShape

CHOICE_BYTES = 300  # a choice's envelope: index, role, finish_reason, logprobs ...
CHOICE_LINES = 16  # lines of that envelope in an indented body, at most 4 levels deep
CHUNK_BYTES = 250  # a stream chunk's envelope: id, object, created, model, delta ...
BYTES_PER_TOKEN = 3  # fewer than English averages, so the estimate errs high
WIDEST_INDENT = 4  # the widest indentation a profile's body_format may give
# One ``logprobs.content`` entry beside its token's text and bytes: ``token``, ``logprob``,
# ``bytes`` and ``top_logprobs``, in 8 lines of an indented body (2 at the entry's level, 5,
# and 6 at its members'); and one of its ``top_logprobs``, whose token is the entry's and a
# suffix (``_19``), in 6 lines (2 at level 7, 4 at level 8). Each byte of a token is a number
# of up to 3 digits and a comma, on a line of its own at level 7 (the entry's ``bytes``) or 9
# (an alternative's).
ENTRY_BYTES = 80
ALTERNATIVE_BYTES = 60
SUFFIX_BYTES = 3
NUMBER_BYTES = 4


def estimated_size(
    choices: list[Message],
    top_logprobs: int | None,
    stream: StreamShape | None,
    copies: int = 1,
    indent: int = WIDEST_INDENT,
) -> int:
    """A bound on the bytes the reply made of ``choices`` takes on the wire (building the reply
    costs memory in proportion); ``copies``: how many times the wire carries each text whole (a
    Responses stream repeats it in its ``done`` events); ``indent``: the body's indentation (a
    stream's chunks are compact)."""
    if stream is not None:
        indent = 0
    total = 0
    sizes: dict[int, int] = {}  # ``n`` copies of one message are measured once
    for choice in choices:
        size = sizes.get(id(choice))
        if size is None:
            size = sizes[id(choice)] = _choice_size(choice, top_logprobs, stream, copies, indent)
        total += size
    return total


def _choice_size(
    choice: Message, top_logprobs: int | None, stream: StreamShape | None, copies: int, indent: int
) -> int:
    """``estimated_size`` of one choice."""
    text = choice.text_bytes()
    total = CHOICE_BYTES + CHOICE_LINES * _line(4, indent) + text * copies
    if top_logprobs is not None:
        total += _logprobs_size(choice, text, top_logprobs, indent)
    if stream is not None:
        per_chunk = 1 if stream.chunk == "char" else BYTES_PER_TOKEN
        total += (text // (per_chunk * max(1, stream.size)) + 1) * CHUNK_BYTES
    return total


def _logprobs_size(choice: Message, text: int, alternatives: int, indent: int) -> int:
    """A bound on the bytes of a choice's log probabilities: an entry for each token of its
    content or refusal (``text``: the bytes of all its texts as JSON, at least their UTF-8
    bytes), with ``alternatives`` more likely tokens each."""
    tokens = sum(_tokens(said) for said in (choice.content, choice.refusal) if said)
    entry = ENTRY_BYTES + 2 * _line(5, indent) + 6 * _line(6, indent)
    alternative = ALTERNATIVE_BYTES + SUFFIX_BYTES + 2 * _line(7, indent) + 4 * _line(8, indent)
    alternative += SUFFIX_BYTES * (NUMBER_BYTES + _line(9, indent))
    per_byte = 1 + NUMBER_BYTES + _line(7, indent)  # the token's text, and its bytes
    per_byte += alternatives * (1 + NUMBER_BYTES + _line(9, indent))
    return tokens * (entry + alternatives * alternative) + text * per_byte


def _tokens(text: str) -> int:
    """The tokens of ``text``: counted, or for a text too long to count, its characters (a
    token holds one at least)."""
    return count_tokens(text) if len(text) <= EXACT_CHARS else len(text)


def _line(level: int, indent: int) -> int:
    """The layout a line at ``level`` takes in a body indented by ``indent``: a line break and
    the spaces before it (none in a compact body)."""
    return 1 + level * indent if indent else 0


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
