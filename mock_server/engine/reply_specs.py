"""What a scenario answers: reply specs compiled at load, rendered for each request.

A ``ReplySpec`` is either an answer (content, reasoning, refusal, tool calls, explicit
``choices`` for ``n > 1``, usage overrides, fixed ``embeddings`` vectors) or a scripted error
(``status`` + ``error`` + ``headers``), plus how it is delivered: ``latency``, ``stream`` shape
and ``fault``.
Templates are compiled when the scenario loads, so a broken one never reaches a request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError
from ..header_fields import checked_headers
from ..lazy_property import lazy
from ..reply import Message, ToolCall
from ..wire.delivery import Latency, StreamShape
from ..wire.faults import Fault
from .request_view import RequestView
from .templating import MAX_RENDERED, JsonTemplate, Template, TemplateError, too_large


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
        self, view: RequestView, fallback: Callable[[RequestView], Message] | None
    ) -> list[Message]:
        """The answer's messages (``fallback``'s when it scripts none: None only for a reply
        that scripts its answer); one answer is replicated to fill ``n``."""
        if not self.answers:  # e.g. a reply that only sets latency: the default answer
            if fallback is None:
                raise TypeError("a reply that scripts no answer is answered by the fallback")
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
        # A quota error scripted by its code is worded as the catalog's quota error (and, as
        # OpenAI sends it, without retry headers), not as the status's usual rate limit.
        quota = error.get("code") == "insufficient_quota"
        return ApiError(
            "insufficient_quota" if quota else str(self.status),
            status=self.status,
            message=error.get("message"),
            type=error.get("type"),
            code=error.get("code", ...),
            param=error.get("param"),
            headers=dict(self.headers),
        )


DEFAULT_REPLY = ReplySpec()  # the fallback's: its answer, at once


def _answer(data: dict[str, Any], verbatim: bool, at: tuple[str | int, ...] = ()) -> AnswerSpec:
    """One answer of a reply; ``at``: where in the reply it is written (a ``TemplateError``
    says where its template is)."""

    def template(value: Any, *path: str | int, kind: type = Template) -> Any:
        try:
            return None if value is None else kind(value, verbatim)
        except TemplateError as exc:
            exc.path = (*at, *path)
            raise

    calls = []
    for index, call in enumerate(data.get("tool_calls") or ()):
        arguments = call.get("arguments", {})
        # Arguments written as JSON: each text filled in, then the whole written as JSON.
        kind = Template if isinstance(arguments, str) else JsonTemplate
        arguments = template(arguments, "tool_calls", index, "arguments", kind=kind)
        calls.append(ToolCallSpec(call["name"], arguments, call.get("id", "")))
    return AnswerSpec(
        content=template(data.get("content"), "content"),
        reasoning_content=template(data.get("reasoning_content"), "reasoning_content"),
        refusal=template(data.get("refusal"), "refusal"),
        tool_calls=tuple(calls),
        finish_reason=data.get("finish_reason"),
    )


ANSWER_KEYS = ("content", "reasoning_content", "refusal", "tool_calls", "finish_reason")


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
            _answer(choice, verbatim, ("choices", index))
            for index, choice in enumerate(data["choices"])
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
        headers=checked_headers(data.get("headers") or {}),
        latency=Latency(**(data.get("latency") or {})),
        stream=StreamShape(**(data.get("stream") or {})),
        fault=fault,
    )
