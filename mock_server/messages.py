"""Reading chat messages: the text of a message's content, and the last thing the user said."""

from __future__ import annotations

from typing import Any


def content_text(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text") or part.get("refusal") or ""
            for part in content
            if isinstance(part, dict)
        )
    return ""


def last_user_text(messages: Any) -> str:
    """The text of the last ``user`` message (a message without a role counts as the user's)."""
    for message in reversed(messages or ()):
        if isinstance(message, dict) and message.get("role", "user") == "user":
            return content_text(message.get("content"))
    return ""
