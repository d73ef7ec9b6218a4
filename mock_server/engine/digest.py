"""The request digest: one hash of everything in a request that can change its answer.

A recording pins the request it was made from with a ``request_digest`` condition, which this
module computes the same way when recording and when matching. The canonical form it hashes is
defined in docs/recording.md: the body without the fields that cannot change the answer
(``NEUTRAL``), each message reduced to what the model reads (role, name, content as parts, tool
calls without their ids, arguments as the JSON they hold), the tools in a fixed order; encoded
by orjson with sorted keys. An assistant message is taken as a recording keeps it, a credential
in its text or arguments replaced by ``[REDACTED]``: a recorded request whose answers (its own
few-shot examples, or the upstream's sent back) held one is the same request when sent again. A
Responses request adds what its messages do not show (``digested``). ``parts`` hashes each
piece of that form on its own, so a near-miss report can say which piece of a request differs
from the recorded one.

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
from ..redaction import Scrubber
from .request_view import RequestView

# Body fields that cannot change the answer: how it is delivered, who asked, what is kept.
NEUTRAL = frozenset(
    {
        "stream", "stream_options", "user", "metadata", "safety_identifier", "store",
        "service_tier", "prompt_cache_key", "prompt_cache_retention", "background",
    }
)  # fmt: skip
SYSTEM_ROLES = ("system", "developer")
# Responses input items the messages show (``message``, ``function_call``,
# ``function_call_output``), and those that do not count: a reasoning item's content is the
# upstream's or a replay's own, a reference stands for items the messages show.
SHOWN_ITEMS = frozenset({"message", "function_call", "function_call_output"})
UNCOUNTED_ITEMS = frozenset({"reasoning", "item_reference"})
# What the client or the server invents of an item, beside its ``*_id`` fields.
INVENTED = frozenset({"id", "status"})
# The built-in credential patterns, which the text of answers is taken through.
_ANSWERS = Scrubber()
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
        digest = _DIGESTS[view] = RequestDigest(digested(view))
    return digest


def digested(view: RequestView) -> dict[str, Any]:
    """What the digest of ``view`` is taken of: ``view.digested`` and, for a Responses request,
    what its messages do not show: ``conversation: true`` when it goes on in one (the id is the
    server's own, new each run), and ``input_items``: its own input items of other kinds (a
    custom tool's output, an MCP call), and its messages other than answers sent in several
    parts, each without its ids and status."""
    body = view.digested
    if view.api != "responses":
        return body
    extra: dict[str, Any] = {}
    if view.sent.get("conversation") is not None:
        extra["conversation"] = True
    given = view.sent.get("input")
    items = [_item(item) for item in given if _unshown(item)] if isinstance(given, list) else []
    if items:
        extra["input_items"] = items
    return {**body, **extra} if extra else body


def _unshown(item: Any) -> bool:
    """Whether an input item holds what the messages scenarios see do not."""
    if not isinstance(item, dict):
        return False
    kind = item.get("type", "message")
    if kind == "message":
        content = item.get("content")
        return item.get("role") != "assistant" and isinstance(content, list) and len(content) > 1
    return kind not in SHOWN_ITEMS and kind not in UNCOUNTED_ITEMS


def _item(item: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value for key, value in item.items() if key not in INVENTED and not key.endswith("_id")
    }


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
    answer = message.get("role") == "assistant"
    out = {"role": message.get("role"), "content": _parts(message.get("content"), answer)}
    if message.get("name") is not None:
        out["name"] = message["name"]
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        out["tool_calls"] = [_call(c, answer) for c in calls]
    legacy = message.get("function_call")  # the deprecated single call
    if isinstance(legacy, dict):
        arguments = _arguments(legacy.get("arguments"), answer)
        out["function_call"] = {**legacy, "arguments": arguments}
    return out


def _parts(content: Any, answer: bool) -> list[Any]:
    """Content as a list of parts: a string is one text part, no content none; an answer's
    texts with their credentials redacted."""
    if isinstance(content, str):
        return [{"type": "text", "text": _text(content, answer)}] if content else []
    if isinstance(content, list):
        return [
            {"type": "text", "text": _text(part.get("text"), answer)}
            if isinstance(part, dict) and part.get("type") == "text"
            else part
            for part in content
        ]
    return []


def _text(text: Any, answer: bool) -> Any:
    return _ANSWERS.text(text) if answer and isinstance(text, str) else text


def _call(call: Any, answer: bool) -> Any:
    """A tool call without its id, its arguments as the JSON value they hold."""
    if not isinstance(call, dict):
        return call
    out = {key: value for key, value in call.items() if key not in ("id", "index")}
    function = call.get("function")
    if isinstance(function, dict) and "arguments" in function:
        out["function"] = {**function, "arguments": _arguments(function["arguments"], answer)}
    return out


def _arguments(arguments: Any, answer: bool) -> Any:
    """Arguments as the JSON value they hold (the text when they hold none, or one nested too
    deep); an answer's redacted as a recording keeps them, secret-named fields included."""
    if not isinstance(arguments, str):
        return _ANSWERS.value(arguments) if answer else arguments
    try:
        parsed = loads(arguments)
    except JSONDecodeError:
        return _text(arguments, answer)
    if nests_deeper_than(parsed):
        return _text(arguments, answer)
    return _ANSWERS.value(parsed) if answer else parsed


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
