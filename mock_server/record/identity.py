"""What identifies a recorded exchange: the ``match:`` conditions its scenario gets, and its name.

A recording answers only the request it was made from. Its readable conditions are the model,
the last user message (``equals``), the system prompt, the turn, the role of the last message,
the tools offered and, for a turn that answers tool calls, which call the last result answers
(``tool_call_id``, or the result's text when the call has no id); ``request_digest`` pins the
rest — every message, tool definition, ``tool_choice``, ``response_format``, ``n``, sampling
parameter — with the hash of each part beside it, for near-miss reports (``engine.digest``).

What redaction hides of the model's name is a pattern in its condition, as of a prompt, and a
tool's name it hides is not among the tools named (the digest, a hash, pins them all). The
digest is of the request as its replay will send it: the assistant messages in it are
answers the client sends back, and a replay sends back the recorded answers, whose text and
tool-call arguments were redacted (``record.capture``); so they are redacted here the same way,
and the next step of an agent loop matches on replay. The name is a slug of the prompt and a
hash of the conditions, so the same request always lands on the same scenario.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ..engine.conditions import GLOB_CHARS
from ..engine.digest import RequestDigest, digested
from ..engine.request_view import RequestView
from ..jsonio import dumps
from ..redaction import Scrubber
from .capture import recorded_arguments

_WORDS = re.compile(r"[a-z0-9]+")
SLUG_WORDS = 6
SLUG_CHARS = 40


def match_conditions(
    view: RequestView, scrubber: Scrubber, replayed: bool = True
) -> dict[str, Any]:
    """The ``match:`` mapping that holds for this request and its like; its digest is of the
    request as a replay of a recording sends it (``replayed``, see the module doc), or as it
    was sent (for a request saved from the journal, whose client sends its own answers back)."""
    match: dict[str, Any] = {}
    if view.api != "chat_completions":
        match["api"] = view.api  # its answer is recorded in that API's terms
    model = view.model
    hidden = scrubber.pattern(model)
    if hidden is not None:
        match["model"] = {"regex": hidden}
    else:
        match["model"] = {"equals": model} if GLOB_CHARS.search(model) else model
    match["last_user_message"] = _exactly(view.last_user_message, scrubber)
    if view.system_message:
        match["system_message"] = _exactly(view.system_message, scrubber)
    if view.turn:  # a request without a user message: a turn of 0 is no condition to write
        match["turn"] = view.turn
    if view.last_message_role:
        match["last_message_role"] = view.last_message_role
    # The tools offered by name, but for a name redaction hides (the digest pins every tool).
    shown = sorted(name for name in view.tools if scrubber.text(name) == name)
    if shown:
        match["tools"] = shown
    if view.last_message_role == "tool":
        if view.tool_call_id:
            match["tool_call_id"] = view.tool_call_id
        else:
            match["tool_result"] = _exactly(view.tool_result, scrubber)
    body = digested(view)
    digest = RequestDigest(as_replayed(body, scrubber) if replayed else body)
    match["request_digest"] = {"sha256": digest.sha256, "parts": digest.parts}
    return match


def as_replayed(body: dict[str, Any], scrubber: Scrubber) -> dict[str, Any]:
    """``body`` with its assistant messages redacted as recorded answers are (see the module
    doc); the body itself when it has none."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not any(_is_answer(m) for m in messages):
        return body
    replayed = [_replayed(m, scrubber) if _is_answer(m) else m for m in messages]
    return {**body, "messages": replayed}


def _is_answer(message: Any) -> bool:
    return isinstance(message, dict) and message.get("role") == "assistant"


def _replayed(message: dict[str, Any], scrubber: Scrubber) -> dict[str, Any]:
    out = dict(message)
    content = message.get("content")
    if isinstance(content, str):
        out["content"] = scrubber.text(content)
    elif isinstance(content, list):
        out["content"] = [
            {**part, "text": scrubber.text(part["text"])}
            if isinstance(part, dict) and isinstance(part.get("text"), str)
            else part
            for part in content
        ]
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        out["tool_calls"] = [_replayed_call(call, scrubber) for call in calls]
    return out


def _replayed_call(call: Any, scrubber: Scrubber) -> Any:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("arguments"), str):
        return call
    arguments = recorded_arguments(function["arguments"], scrubber)
    return {**call, "function": {**function, "arguments": arguments}}


def _exactly(text: str, scrubber: Scrubber) -> dict[str, str]:
    """``equals`` the text; a regex that stands for any credential in it by its shape."""
    pattern = scrubber.pattern(text)
    return {"equals": text} if pattern is None else {"regex": pattern}


def scenario_name(
    profile: str, match: dict[str, Any], view: RequestView, scrubber: Scrubber
) -> str:
    """``<slug of the prompt>-<8 hex digits of the conditions>``."""
    words = _WORDS.findall(scrubber.text(view.last_user_message).lower())[:SLUG_WORDS]
    slug = "-".join(words)[:SLUG_CHARS].strip("-") or "request"
    digest = hashlib.sha256(dumps({"profile": profile, "match": match})).hexdigest()[:8]
    return f"{slug}-{digest}"
