"""``RequestView``: the facts about a request that scenarios match on and templates read.

Each fact is computed on first use and kept, so a request matched against many scenarios
derives its last user message, tool names, turn count ... once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..jsonio import nests_deeper_than
from ..lazy_property import lazy
from ..messages import content_text, last_user_text

# The fields of another API's request that its conversation is made of: the messages stand for
# them in its digest (``RequestView.digested``).
CONVERSATION_FIELDS = frozenset(("input", "instructions", "previous_response_id", "conversation"))


# A request's long texts are searched for ``contains`` conditions for at most this many
# characters in all (some tenths of a second at worst, however many scenarios are loaded); a
# shorter text is searched whatever has been searched before.
SEARCH_BUDGET = 100_000_000
LONG_TEXT = 4096


class RequestView:
    """A validated request as scenarios see it: a chat-completions body (or another API's
    request seen as one: its texts as messages), its headers, the profile it was sent to and the
    API it came on."""

    def __init__(
        self,
        body: dict[str, Any],
        headers: Mapping[str, str] | None = None,
        profile: str = "",
        api: str = "chat_completions",
        sent: dict[str, Any] | None = None,
    ) -> None:
        self.body = body
        self.headers = headers or {}
        self.profile = profile
        self.api = api
        # The body as sent, when ``body`` shows it as something else (a Responses request).
        self.sent = body if sent is None else sent
        self.searched = 0  # characters of long texts searched so far, within ``SEARCH_BUDGET``

    def holds(self, key: str, part: str) -> bool | None:
        """Whether the text ``key`` (``last_user_message`` ...) holds ``part``, or None where
        that text is long and searching it would pass ``SEARCH_BUDGET``. A long text is searched
        for a part once: the near-miss report asks again."""
        text: str = getattr(self, key)
        if len(text) <= LONG_TEXT:
            return part in text
        known = self._found.get((key, part))
        if known is None:
            if self.searched + len(text) > SEARCH_BUDGET:
                return None
            self.searched += len(text)
            known = self._found[key, part] = part in text
        return known

    @lazy
    def _found(self) -> dict[tuple[str, str], bool]:
        """Whether a long text (by its key) holds a part, for each searched so far."""
        return {}

    @lazy
    def digested(self) -> dict[str, Any]:
        """What the request digest (``engine.digest``) is taken of: a chat-completions body as
        sent; another API's request as sent, its conversation (``input``, ``instructions``, a
        continued response's items) as the messages scenarios see, and its API's name, so that
        it is never the digest of a chat request, nor of one with other settings."""
        if self.sent is self.body:
            return self.body
        fields = {k: v for k, v in self.sent.items() if k not in CONVERSATION_FIELDS}
        return {**fields, "messages": self.messages, "api": self.api}

    @lazy
    def messages(self) -> list[dict[str, Any]]:
        return [m for m in self.body.get("messages") or () if isinstance(m, dict)]

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @lazy
    def last_user_message(self) -> str:
        return last_user_text(self.messages)

    @lazy
    def system_message(self) -> str:
        return "\n".join(
            content_text(m.get("content"))
            for m in self.messages
            if m.get("role") in ("system", "developer")
        )

    @property
    def last_message_role(self) -> str:
        return self.messages[-1].get("role", "user") if self.messages else ""

    @lazy
    def tools(self) -> frozenset[str]:
        names = set()
        for tool in self.body.get("tools") or ():
            if isinstance(tool, dict):
                names.add((tool.get("function") or {}).get("name"))
        return frozenset(n for n in names if n)

    @property
    def tool_choice(self) -> str | None:
        """``none``/``auto``/``required`` (an ``allowed_tools`` choice by its mode), or the
        name of a forced function."""
        choice = self.body.get("tool_choice")
        if isinstance(choice, dict) and choice.get("type") == "allowed_tools":
            return (choice.get("allowed_tools") or {}).get("mode")
        if isinstance(choice, dict):
            return (choice.get("function") or {}).get("name")
        return choice

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def response_format(self) -> str:
        """The kind of answer asked for: ``text`` (the default), ``json_object`` or
        ``json_schema`` (chat's ``response_format``, the Responses API's ``text.format``)."""
        kind = (self.body.get("response_format") or {}).get("type")
        return kind if isinstance(kind, str) else "text"

    @lazy
    def last_tool_message(self) -> dict[str, Any]:
        """The last ``tool`` message (a tool result) of the user's latest turn, or an empty one:
        once the user has spoken again, the conversation answers no tool call. (An assistant's
        answer after it leaves it in the turn: LangGraph asks for that answer again as JSON.)"""
        for message in reversed(self.messages):
            role = message.get("role", "user")
            if role == "tool":
                return message
            if role == "user":
                return {}
        return {}

    @property
    def tool_call_id(self) -> str:
        """Which tool call the turn's last tool result answers (``last_tool_message``)."""
        return str(self.last_tool_message.get("tool_call_id") or "")

    @lazy
    def tool_name(self) -> str:
        """The function whose result the turn's last tool result is: the name of the call it
        answers, among the assistant's calls."""
        wanted = self.tool_call_id
        for message in reversed(self.messages) if wanted else ():
            for call in message.get("tool_calls") or ():
                if isinstance(call, dict) and call.get("id") == wanted:
                    return str((call.get("function") or {}).get("name") or "")
        return ""

    @lazy
    def tool_result(self) -> str:
        """The text of the turn's last tool result."""
        return content_text(self.last_tool_message.get("content"))

    @lazy
    def turn(self) -> int:
        """1-based count of user messages."""
        return sum(1 for m in self.messages if m.get("role", "user") == "user")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @lazy
    def template_context(self) -> dict[str, Any]:
        """What reply templates can read (see ``templating``)."""
        calls = []
        for message in reversed(self.messages):
            if message.get("role") == "assistant" and message.get("tool_calls"):
                for call in message["tool_calls"]:
                    function = call.get("function") or {}
                    calls.append(
                        {
                            "id": call.get("id"),
                            "name": function.get("name"),
                            "arguments": _parsed(function.get("arguments")),
                        }
                    )
                break
        return {
            "request": self.sent,
            "last_user_message": self.last_user_message,
            "model": self.model,
            "turn": self.turn,
            "tool_calls": calls,
            "tool_results": [
                content_text(m.get("content")) for m in self.messages if m.get("role") == "tool"
            ],
        }


def _parsed(arguments: Any) -> Any:
    """Tool-call arguments as JSON, or as the text they are when that is not JSON, or nests
    deeper than a request body may (``MAX_NESTING``)."""
    if not isinstance(arguments, str):
        return arguments
    try:
        parsed = json.loads(arguments)
    except (ValueError, RecursionError):
        return arguments
    return arguments if nests_deeper_than(parsed) else parsed
