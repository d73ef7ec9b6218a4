"""The request digest: one hash of everything in a request that can change its answer.

A recording pins the request it was made from with a ``request_digest`` condition, which this
module computes the same way when recording and when matching. The canonical form it hashes is
defined in docs/recording.md: the body without the fields that cannot change the answer
(``NEUTRAL``), each message reduced to what the model reads (role, name, content as parts, tool
calls without their ids, arguments as the JSON they hold), the tools in a fixed order; encoded
by orjson with sorted keys. ``parts`` hashes each piece of that form on its own, so a near-miss
report can say which piece of a request differs from the recorded one.

A digest is computed only when asked for (a candidate scenario has the condition, or a request
is recorded), once per request.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Any

import orjson

from ..jsonio import JSONDecodeError, dumps, loads, nests_deeper_than
from ..lazy_property import lazy
from .request_view import RequestView

# Body fields that cannot change the answer: how it is delivered, who asked, what is kept.
NEUTRAL = frozenset(
    {
        "stream", "stream_options", "user", "metadata", "safety_identifier", "store",
        "service_tier", "prompt_cache_key", "prompt_cache_retention", "background",
    }
)  # fmt: skip
SYSTEM_ROLES = ("system", "developer")
PART_HEX = 8  # hex digits kept of each part's hash
# What a near-miss report says of a part that differs; another part is named by its field.
DIFFERS = {
    "system": "system prompt differs",
    "earlier_messages": "earlier messages differ",
    "last_message": "last message differs",
    "tools": "tools differ",
}


class RequestDigest:
    """The canonical form of one request body, its SHA-256 and the hashes of its parts."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.canonical = canonical_request(body)
        self.sha256 = hashlib.sha256(canonical_json(self.canonical)).hexdigest()

    @lazy
    def parts(self) -> dict[str, str]:
        """A short hash of each part: the system prompt, the earlier messages, the last
        message, and every other field of the canonical form (``model``, ``tools`` ...)."""
        messages = self.canonical.get("messages", [])
        system = [m for m in messages if m.get("role") in SYSTEM_ROLES]
        rest = [m for m in messages if m.get("role") not in SYSTEM_ROLES]
        found: dict[str, Any] = {
            "system": system,
            "earlier_messages": rest[:-1],
            "last_message": rest[-1:],
        }
        found = {name: value for name, value in found.items() if value}
        found.update((k, v) for k, v in self.canonical.items() if k != "messages")
        return {name: _short_hash(found[name]) for name in sorted(found)}


_DIGESTS: weakref.WeakKeyDictionary[RequestView, RequestDigest] = weakref.WeakKeyDictionary()


def request_digest(view: RequestView) -> RequestDigest:
    """The digest of ``view``'s body, computed on first use and kept while the view lives."""
    digest = _DIGESTS.get(view)
    if digest is None:
        digest = _DIGESTS[view] = RequestDigest(view.digested)
    return digest


def canonical_request(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` in the canonical form docs/recording.md defines."""
    canonical = {key: value for key, value in body.items() if key not in NEUTRAL}
    messages = body.get("messages")
    if isinstance(messages, list):
        canonical["messages"] = [_message(m) for m in messages if isinstance(m, dict)]
    tools = body.get("tools")
    if isinstance(tools, list):
        canonical["tools"] = sorted(tools, key=canonical_json)
    return canonical


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys, no spaces, text as UTF-8 (not ``\\u`` escapes)."""
    return dumps(value, orjson.OPT_SORT_KEYS)


def _message(message: dict[str, Any]) -> dict[str, Any]:
    """What the model reads of a message: not the ids that tie a result to its call, nor what
    a client echoes back of an answer beside its text and calls (refusal, annotations ...)."""
    out = {"role": message.get("role"), "content": _parts(message.get("content"))}
    if message.get("name") is not None:
        out["name"] = message["name"]
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        out["tool_calls"] = [_call(c) for c in calls]
    legacy = message.get("function_call")  # the deprecated single call
    if isinstance(legacy, dict):
        out["function_call"] = {**legacy, "arguments": _arguments(legacy.get("arguments"))}
    return out


def _parts(content: Any) -> list[Any]:
    """Content as a list of parts: a string is one text part, no content none."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        return [
            {"type": "text", "text": part.get("text")}
            if isinstance(part, dict) and part.get("type") == "text"
            else part
            for part in content
        ]
    return []


def _call(call: Any) -> Any:
    """A tool call without its id, its arguments as the JSON value they hold."""
    if not isinstance(call, dict):
        return call
    out = {key: value for key, value in call.items() if key not in ("id", "index")}
    function = call.get("function")
    if isinstance(function, dict) and "arguments" in function:
        out["function"] = {**function, "arguments": _arguments(function["arguments"])}
    return out


def _arguments(arguments: Any) -> Any:
    if not isinstance(arguments, str):
        return arguments
    try:
        parsed = loads(arguments)
    except JSONDecodeError:
        return arguments
    return arguments if nests_deeper_than(parsed) else parsed


def _short_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()[:PART_HEX]


def differences(recorded: dict[str, str], request: dict[str, str]) -> list[str]:
    """What differs between two requests, from the hashes of their parts: ``tools differ``,
    ``system prompt differs (only in the request)``."""
    found = []
    for name in sorted(recorded.keys() | request.keys()):
        if recorded.get(name) == request.get(name):
            continue
        where = ""
        if name not in recorded:
            where = " (only in the request)"
        elif name not in request:
            where = " (only in the recording)"
        found.append(DIFFERS.get(name, f"{name} differs") + where)
    return found
