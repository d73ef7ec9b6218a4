"""The reply a scenario or the fallback gives, in no API's wire: what the assistant said.

The engine makes it (``engine.reply_specs``, ``engine.fallback``); each API's encoder writes it
in its own wire (chat completions as ``choices``, ``wire.completions``), counting its tokens as
that wire reports them. Plain data on the floor of the package, so that the engine and the
account rules import no encoder, and no encoder the engine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import orjson

MAX_WARNINGS = 5  # warnings a header carries; the rest are counted
MAX_WARNING_CHARS = 300
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


@dataclass
class ToolCall:
    """A function call of a reply: name, JSON arguments, id (empty: the encoder makes one)."""

    name: str
    arguments: str
    id: str = ""


@dataclass
class Message:
    """One assistant message: text, reasoning, refusal, tool calls and how it finished."""

    content: str | None = None
    reasoning_content: str | None = None
    refusal: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    warnings: tuple[str, ...] = ()  # what the fallback could not satisfy, for a response header

    def derived_finish_reason(self) -> str:
        return self.finish_reason or ("tool_calls" if self.tool_calls else "stop")

    @property
    def refuses(self) -> bool:
        """Whether it only refuses: a refusal, and no content or tool calls."""
        return self.refusal is not None and not self.content and not self.tool_calls

    def text_bytes(self) -> int:
        """The bytes all its texts take as JSON strings, tool calls included: UTF-8, with the
        escapes JSON writes (``\n`` two bytes, ``\u0001`` six)."""
        texts = [self.content, self.reasoning_content, self.refusal]
        texts += [text for call in self.tool_calls for text in (call.name, call.arguments)]
        return sum(_json_length(text) for text in texts if text)


def _json_length(text: str) -> int:
    """``text``'s length as a JSON string, without its quotes: encoded once, in C; a text
    holding half a surrogate pair (which orjson refuses) as Python's ``json`` writes it, every
    character that is not ASCII as a six-byte escape, which errs high."""
    try:
        return len(orjson.dumps(text)) - 2
    except TypeError:
        return len(json.dumps(text)) - 2


def for_header(warnings: list[str]) -> tuple[str, ...]:
    """The first ``MAX_WARNINGS`` warnings as a header carries them: printable ASCII, each
    cut to ``MAX_WARNING_CHARS``."""
    kept = [_UNPRINTABLE.sub(_escaped, w)[:MAX_WARNING_CHARS] for w in warnings[:MAX_WARNINGS]]
    if len(warnings) > MAX_WARNINGS:
        kept.append(f"and {len(warnings) - MAX_WARNINGS} more")
    return tuple(kept)


def _escaped(match: re.Match[str]) -> str:
    return ascii(match.group())[1:-1]
