"""Reading messages: the text of a message's content, and the last thing the user said.

Both read any JSON safely, since the journal applies them to requests that failed validation.
"""

from __future__ import annotations

from typing import Any


def content_text(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a part list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_part_text(part) for part in content)
    return ""


def _part_text(part: Any) -> str:
    if not isinstance(part, dict):
        return ""
    text = part.get("text") or part.get("refusal") or ""
    return text if isinstance(text, str) else ""


def mention_json(messages: Any) -> bool:
    """Whether the text of some message says ``json``, in any case (what OpenAI's JSON mode
    asks of a request's messages)."""
    return isinstance(messages, list) and any(
        "json" in content_text(message.get("content")).lower()
        for message in messages
        if isinstance(message, dict)
    )


def last_user_text(messages: Any) -> str:
    """The text of the last ``user`` message (a message without a role counts as the user's)."""
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role", "user") == "user":
            return content_text(message.get("content"))
    return ""


def token_text(tokens: list[Any]) -> str:
    """A token array as the text it is matched and embedded as: its numbers (no tokenizer's
    vocabulary is at hand to read them as words)."""
    return " ".join(map(str, tokens))


def last_user_said(body: Any) -> str:
    """The last thing the user said in a request body of any API: chat's ``messages``, the
    Responses API's ``input`` (a string, or items, of which only messages speak), or the last
    of the texts embeddings' ``input`` lists."""
    if not isinstance(body, dict):
        return ""
    given = body.get("input")
    if isinstance(given, str):
        return given
    if given and isinstance(given, list):
        last = given[-1]
        if isinstance(last, str):
            return last
        if isinstance(last, int):  # one token array
            return token_text(given)
        if isinstance(last, list):  # token arrays
            return token_text(last)
    if "messages" not in body and isinstance(given, list):
        spoken = (i for i in given if isinstance(i, dict) and i.get("type", "message") == "message")
        return last_user_text(list(spoken))
    return last_user_text(body.get("messages"))
