"""What a scenario answers: reply specs compiled at load, rendered for each request.

A ``ReplySpec`` is either an answer (content, reasoning, refusal, tool calls, explicit
``choices`` for ``n > 1``, usage overrides, fixed ``embeddings`` vectors) or a scripted error
(``status`` + ``error`` + ``headers``), plus how it is delivered: ``latency``, ``stream`` shape
and ``fault``.
Templates are compiled when the scenario loads, so a broken one never reaches a request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError
from ..jsonio import compact_json
from ..lazy_property import lazy
from ..reply import Message, ToolCall
from ..wire.delivery import Latency, StreamShape
from ..wire.faults import Fault
from .request_view import RequestView
from .templating import MAX_RENDERED, Template, too_large


@dataclass(frozen=True)
class ToolCallSpec:
    """A scripted tool call, its arguments a template."""

    name: str
    arguments: Template
    id: str = ""

    def render(self, context: Callable[[], dict[str, Any]]) -> ToolCall:
        return ToolCall(self.name, self.arguments.render(context), self.id)


@dataclass(frozen=True)
class AnswerSpec:
    """One assistant message, with templates for its texts."""

    content: Template | None = None
    reasoning_content: Template | None = None
    refusal: Template | None = None
    tool_calls: tuple[ToolCallSpec, ...] = ()
    finish_reason: str | None = None

    @property
    def is_static(self) -> bool:
        """Whether it says the same whatever the request (no template fills anything in)."""
        texts = (self.content, self.reasoning_content, self.refusal)
        return all(text is None or text.is_static for text in texts) and all(
            call.arguments.is_static for call in self.tool_calls
        )

    def render(self, context: Callable[[], dict[str, Any]]) -> Message:
        return Message(
            content=self.content.render(context) if self.content is not None else None,
            reasoning_content=(
                self.reasoning_content.render(context) if self.reasoning_content else None
            ),
            refusal=self.refusal.render(context) if self.refusal is not None else None,
            tool_calls=[call.render(context) for call in self.tool_calls],
            finish_reason=self.finish_reason,
        )


@dataclass(frozen=True)
class ReplySpec:
    """A whole scripted reply: answers or an error, and how they are delivered."""

    answers: tuple[AnswerSpec, ...] = ()
    embeddings: tuple[tuple[float, ...], ...] = ()  # fixed vectors, for an embeddings request
    usage: dict[str, int] = field(default_factory=dict)
    status: int | None = None
    error: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    latency: Latency = field(default_factory=Latency)
    stream: StreamShape = field(default_factory=StreamShape)
    fault: Fault | None = None

    @lazy
    def calls_tools(self) -> bool:
        """Whether one of its answers scripts tool calls."""
        return any(answer.tool_calls for answer in self.answers)

    @lazy
    def fixed(self) -> bool:
        """Whether its answers are the same words whatever the request: scripted, without a
        template to fill in (``n`` still replicates them)."""
        return bool(self.answers) and all(answer.is_static for answer in self.answers)

    def messages(
        self, view: RequestView, fallback: Callable[[RequestView], Message]
    ) -> list[Message]:
        """The answer's messages (``fallback``'s when it scripts none); one answer is
        replicated to fill ``n``."""
        if not self.answers:  # e.g. a reply that only sets latency: the default answer
            rendered = [fallback(view)]
        else:

            def context() -> dict[str, Any]:
                return view.template_context

            rendered, size = [], 0
            # The templates of all its choices, together bounded (by their texts' JSON bytes).
            for answer in self.answers:
                message = answer.render(context)
                size += message.text_bytes()
                if size > MAX_RENDERED:
                    raise too_large()
                rendered.append(message)
        wanted = view.body.get("n") or 1
        if len(rendered) == 1 and wanted > 1:
            rendered = rendered * wanted
        return rendered

    def api_error(self) -> ApiError | None:
        """The scripted error, catalog wording filling what ``error:`` leaves out."""
        if self.status is None:
            return None
        error = self.error
        return ApiError(
            str(self.status),
            status=self.status,
            message=error.get("message"),
            type=error.get("type"),
            code=error.get("code", ...),
            param=error.get("param"),
            headers=dict(self.headers),
        )


DEFAULT_REPLY = ReplySpec()  # the fallback's: its answer, at once


def _answer(data: dict[str, Any], verbatim: bool) -> AnswerSpec:
    def template(value: Any) -> Template | None:
        return None if value is None else Template(str(value), verbatim)

    calls = []
    for call in data.get("tool_calls") or ():
        arguments = call.get("arguments", {})
        if not isinstance(arguments, str):
            arguments = compact_json(arguments)
        calls.append(ToolCallSpec(call["name"], Template(arguments, verbatim), call.get("id", "")))
    return AnswerSpec(
        content=template(data.get("content")),
        reasoning_content=template(data.get("reasoning_content")),
        refusal=template(data.get("refusal")),
        tool_calls=tuple(calls),
        finish_reason=data.get("finish_reason"),
    )


ANSWER_KEYS = ("content", "reasoning_content", "refusal", "tool_calls", "finish_reason")


# RFC 9110 section 5.6.2: a field name is a token; a value holds no control character but a tab.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")
MAX_HEADER_VALUE = 8192  # characters: what common HTTP clients read in one header line
_FRAMING = ("content-length", "transfer-encoding")  # the server's to write


def _headers(given: dict[str, Any]) -> dict[str, str]:
    """A reply's ``headers``, each one a client can read and none the server frames the
    answer with; raises ``ValueError`` naming the first that is not."""
    headers = {str(name): str(value) for name, value in given.items()}
    for name, value in headers.items():
        shown = name[:80]  # repr() shows any control character escaped
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"header name {shown!r} is not an HTTP token (RFC 9110)")
        if name.lower() in _FRAMING:
            raise ValueError(f"header {shown!r} is the server's to write: it frames the answer")
        if len(value) > MAX_HEADER_VALUE or not _HEADER_VALUE.fullmatch(value):
            raise ValueError(
                f"header {shown!r}: a value holds no control characters (a line break ends the "
                f"header) and at most {MAX_HEADER_VALUE} characters"
            )
    return headers


def build_reply(data: dict[str, Any]) -> ReplySpec:
    """A ``ReplySpec`` from a schema-checked ``reply:`` mapping; raises ``ValueError`` (with
    a ``TemplateError`` among them) for what the schema cannot catch."""
    if "status" in data and any(key in data for key in (*ANSWER_KEYS, "choices", "embeddings")):
        raise ValueError(
            "a reply is either an answer or an error: it has both 'status' and "
            "answer fields (content, tool_calls, ...)"
        )
    if "error" in data and "status" not in data:
        raise ValueError("'error' needs a 'status' (the HTTP status to answer with)")
    if "choices" in data and any(key in data for key in ANSWER_KEYS):
        raise ValueError("give either 'choices' or the fields of one answer, not both")
    fault = Fault.parse(data["fault"]) if "fault" in data else None
    verbatim = bool(data.get("verbatim"))
    if "choices" in data:
        answers: tuple[AnswerSpec, ...] = tuple(
            _answer(choice, verbatim) for choice in data["choices"]
        )
    elif any(key in data for key in ANSWER_KEYS):
        answers = (_answer(data, verbatim),)
    else:  # an error, or a reply that only says how to deliver the default answer
        answers = ()
    return ReplySpec(
        answers=answers,
        embeddings=tuple(tuple(map(float, vector)) for vector in data.get("embeddings") or ()),
        usage=dict(data.get("usage") or {}),
        status=data.get("status"),
        error=dict(data.get("error") or {}),
        headers=_headers(data.get("headers") or {}),
        latency=Latency(**(data.get("latency") or {})),
        stream=StreamShape(**(data.get("stream") or {})),
        fault=fault,
    )
