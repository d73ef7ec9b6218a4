"""What identifies a recorded exchange: the ``match:`` conditions its scenario gets, and its name.

The conditions are chosen so that the steps of an agent loop and the different calls of one
application never answer for each other: the model, the last user message (``equals``), the
system prompt, the turn, the role of the last message, the tools offered and, for a turn that
answers tool calls, which call the last result answers (``tool_call_id``, or the result's text
when the call has no id). The name is a slug of the prompt and a hash of the conditions, so the
same request always lands on the same scenario.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ..engine.conditions import GLOB_CHARS
from ..engine.request_view import RequestView
from ..jsonio import dumps
from ..redaction import Scrubber

_WORDS = re.compile(r"[a-z0-9]+")
SLUG_WORDS = 6
SLUG_CHARS = 40


def match_conditions(view: RequestView, scrubber: Scrubber) -> dict[str, Any]:
    """The ``match:`` mapping that holds for this request and its like."""
    match: dict[str, Any] = {}
    model = view.model
    match["model"] = {"equals": model} if GLOB_CHARS.search(model) else model
    match["last_user_message"] = _exactly(view.last_user_message, scrubber)
    if view.system_message:
        match["system_message"] = _exactly(view.system_message, scrubber)
    match["turn"] = view.turn
    if view.last_message_role:
        match["last_message_role"] = view.last_message_role
    if view.tools:
        match["tools"] = sorted(view.tools)
    if view.last_message_role == "tool":
        if view.tool_call_id:
            match["tool_call_id"] = view.tool_call_id
        else:
            match["tool_result"] = _exactly(view.tool_result, scrubber)
    return match


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
