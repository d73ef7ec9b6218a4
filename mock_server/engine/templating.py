"""A sandboxed template language for reply text: ``{{ path | filter }}`` and nothing else.

A path starts at a variable (``request``, ``last_user_message``, ``model``, ``turn``,
``tool_calls``, ``tool_results``) and walks the request's JSON with ``.key`` and ``[index]``
(negative indexes count from the end). Filters: ``upper``, ``lower``, ``title``, ``trim``,
``length``, ``json``, ``first``, ``last`` take no argument; ``join(', ')`` takes an optional
quoted text, ``default('text')`` a quoted text or an integer.

There is no expression evaluation, no attribute access on Python objects and no statements: a
template can only read JSON data. Anything else (``{% ... %}``, ``__class__``, calls, unknown
variables or filters, a filter given an argument it does not take) is refused when the scenario
is loaded, with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError
from ..jsonio import compact_json

MAX_RENDERED = 16 * 1024 * 1024  # characters one template may render to
VARIABLES = ("request", "last_user_message", "model", "turn", "tool_calls", "tool_results")
_QUOTED = r"'[^']*'|\"[^\"]*\""  # a quoted argument, which may hold '|' and braces
# ``{{ ... }}``, a quoted argument inside it holding braces of its own (``default('}}')``).
_EXPRESSION = re.compile(rf"""\{{\{{((?:{_QUOTED}|[^'"}}]|\}}(?!\}}))*)\}}\}}""")
_PATH_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(-?\d+)\]|\[(['\"])(.*?)\3\]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# One part of an expression between the '|' that separate its filters: a quoted argument may
# hold a '|' (``join(' | ')``).
_PIPE_PART = re.compile(rf"""(?:{_QUOTED}|[^|'"])*""")
_FILTER = re.compile(r"([A-Za-z_]+)\s*(?:\(\s*(?:'([^']*)'|\"([^\"]*)\"|(-?\d+))\s*\))?\s*$")


class TemplateError(ValueError):
    """A template that cannot be used; the message says what is wrong, ``path`` where in the
    reply it is written (``("tool_calls", 0, "arguments")``), when known."""

    path: tuple[str | int, ...] = ()


# ``json.dumps(value, ensure_ascii=False)``, its encoder made once: ``join`` writes each item.
_json = json.JSONEncoder(ensure_ascii=False).encode


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _json(value)


@dataclass(frozen=True)
class Filter:
    """A filter: what it does to a value, and the types its one optional argument may have
    (none: it takes no argument)."""

    apply: Callable[..., Any]
    argument: tuple[type, ...] = ()
    bounded: bool = False  # ``apply`` takes ``room``: the characters it may make, else refuses

    def check(self, name: str, args: tuple[Any, ...]) -> None:
        """Raise ``TemplateError`` unless ``args`` fit this filter."""
        if args and not self.argument:
            raise TemplateError(f"filter {name!r} takes no argument")
        if args and not isinstance(args[0], self.argument):
            wanted = " or ".join(_TYPE_NAMES[kind] for kind in self.argument)
            raise TemplateError(f"filter {name!r} takes {wanted}, not {args[0]!r}")


_TYPE_NAMES = {str: "a quoted text", int: "an integer"}
FILTERS: dict[str, Filter] = {
    "upper": Filter(lambda v: _text(v).upper()),
    "lower": Filter(lambda v: _text(v).lower()),
    "title": Filter(lambda v: _text(v).title()),
    "trim": Filter(lambda v: _text(v).strip()),
    "length": Filter(lambda v: len(v) if isinstance(v, (str, list, dict)) else 0),
    "json": Filter(_json),
    "first": Filter(lambda v: v[0] if isinstance(v, (list, str)) and v else None),
    "last": Filter(lambda v: v[-1] if isinstance(v, (list, str)) and v else None),
    "default": Filter(
        lambda v, fallback="": v if v not in (None, "", [], {}) else fallback, (str, int)
    ),
    "join": Filter(lambda v, sep=", ", *, room: _join(v, sep, room), (str,), bounded=True),
}


def _join(value: Any, separator: str, room: int) -> str:
    """A list's items as text, ``separator`` between them: sized as it is made, and refused
    as soon as it passes ``room`` characters (a long separator between many items would build
    gigabytes; each item is written as JSON, which takes time in proportion)."""
    if not isinstance(value, list):
        return _text(value)
    texts, size = [], -len(separator)
    for item in value:
        texts.append(_text(item))
        size += len(separator) + len(texts[-1])
        if size > room:
            raise too_large()
    return separator.join(texts)


def too_large() -> ApiError:
    """The refusal of a reply whose templates render more than ``MAX_RENDERED`` characters."""
    return ApiError(
        "400",
        f"A reply template renders to more than {MAX_RENDERED:,} characters for this request.",
        code="response_too_large",
    )


def _within(value: Any, room: int) -> Any:
    """``value``, unless it is text of more than ``room`` characters (any other value is a part
    of the request, or a number: the request's own size bounds it)."""
    if isinstance(value, str) and len(value) > room:
        raise too_large()
    return value


@dataclass(frozen=True)
class _Lookup:
    """A compiled ``{{ variable.steps | filters }}`` expression."""

    variable: str
    steps: tuple[str | int, ...]
    filters: tuple[tuple[str, tuple[Any, ...]], ...]

    def evaluate(self, context: dict[str, Any], room: int) -> Any:
        """The value, filtered; text past ``room`` characters is refused as soon as a step makes
        it, so no filter starts on it (each ``json`` about doubles a text's escapes: thirty of
        them would build gigabytes)."""
        value = context.get(self.variable)
        for step in self.steps:
            if isinstance(step, int) and isinstance(value, (list, str)):
                value = value[step] if -len(value) <= step < len(value) else None
            elif isinstance(step, str) and isinstance(value, dict):
                value = value.get(step)
            else:
                value = None
        for name, args in self.filters:
            _within(value, room)
            used = FILTERS[name]
            value = (
                used.apply(value, *args, room=room) if used.bounded else used.apply(value, *args)
            )
        return _within(value, room)


class Template:
    """A compiled template; ``render(context)`` fills it in."""

    def __init__(self, source: str, verbatim: bool = False) -> None:
        """Compile ``source``; ``verbatim`` text is sent as written, braces and all."""
        if verbatim:
            self.source, self._parts, self.is_static = source, [source], True
            return
        if "{%" in source or "{#" in source:
            raise TemplateError("only {{ ... }} expressions are supported, not {% %} or {# #}")
        self.source = source
        self._parts: list[str | _Lookup] = []
        position = 0
        while (start := source.find("{{", position)) >= 0:  # one pass, each '{{' read once
            found = _EXPRESSION.match(source, start)
            if found is None:
                raise TemplateError(
                    "an opening '{{' has no closing '}}' (or a quote in it is not closed)"
                )
            self._parts.append(source[position:start])
            self._parts.append(_compile_expression(found.group(1).strip()))
            position = found.end()
        self._parts.append(source[position:])
        self.is_static = len(self._parts) == 1

    def render(self, context: Callable[[], dict[str, Any]], room: int = MAX_RENDERED) -> str:
        """Fill in the template, to at most ``room`` characters; ``context`` is called only if
        there is something to fill."""
        if self.is_static:
            return self.source
        context = context()
        pieces, size = [], 0
        for part in self._parts:
            piece = part if isinstance(part, str) else _text(part.evaluate(context, room - size))
            size += len(piece)
            if size > room:  # e.g. {{ request | json }} many times over a large body
                raise too_large()
            pieces.append(piece)
        return "".join(pieces)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


class JsonTemplate:
    """A JSON value whose texts are templates (a tool call's ``arguments`` written as a
    mapping): each text filled in as a value of its own, then the whole written as compact
    JSON, so that what a template brings (a quote, a line break) is escaped where it lands."""

    def __init__(self, value: Any, verbatim: bool = False) -> None:
        self.source = compact_json(value)
        templates: list[Template] = []

        def compiled(text: str) -> Template:
            templates.append(Template(text, verbatim))
            return templates[-1]

        self._value = _mapped(value, str, compiled)
        self.is_static = all(template.is_static for template in templates)

    def render(self, context: Callable[[], dict[str, Any]]) -> str:
        """The value, its texts filled in, as compact JSON."""
        if self.is_static:
            return self.source
        given: list[dict[str, Any]] = []  # the context, made once, when first asked

        def once() -> dict[str, Any]:
            if not given:
                given.append(context())
            return given[0]

        size = 0

        def filled(leaf: Template) -> str:  # bounded as it goes: each in the room the others left
            nonlocal size
            text = leaf.render(once, MAX_RENDERED - size)
            size += len(text)
            return text

        rendered = compact_json(_mapped(self._value, Template, filled))
        if len(rendered) > MAX_RENDERED:  # escapes may lengthen what was within bounds
            raise too_large()
        return rendered

    def __repr__(self) -> str:
        return f"JsonTemplate({self.source!r})"


def _mapped(value: Any, kind: type, change: Callable[[Any], Any]) -> Any:
    """``value`` (JSON) with each leaf of type ``kind`` in it replaced by ``change(leaf)``."""
    if isinstance(value, kind):
        return change(value)
    if isinstance(value, dict):
        return {key: _mapped(item, kind, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_mapped(item, kind, change) for item in value]
    return value


def _pipe_parts(expression: str) -> list[str]:
    """``expression`` cut at each '|' outside quotes, each part stripped."""
    parts, position = [], 0
    while True:  # an expression's quotes are closed (``_EXPRESSION``): a part ends at a '|'
        part = _PIPE_PART.match(expression, position)
        assert part is not None  # the pattern matches the empty string
        parts.append(part.group(0).strip())
        if part.end() == len(expression):
            return parts
        position = part.end() + 1


def _compile_expression(expression: str) -> _Lookup:
    path, *filter_texts = _pipe_parts(expression)
    name = _NAME.match(path)
    if not name:
        raise TemplateError(f"{{{{ {expression} }}}}: expected a variable name")
    variable = name.group(0)
    if variable not in VARIABLES:
        raise TemplateError(
            f"{{{{ {expression} }}}}: unknown variable {variable!r}; "
            f"available: {', '.join(VARIABLES)}"
        )
    steps: list[str | int] = []
    position = name.end()
    while position < len(path):
        step = _PATH_STEP.match(path, position)
        if not step:
            raise TemplateError(f"{{{{ {expression} }}}}: cannot read {path[position:]!r}")
        key = step.group(1) or step.group(4)
        if key is not None and key.startswith("_"):
            raise TemplateError(f"{{{{ {expression} }}}}: names starting with '_' are not allowed")
        steps.append(int(step.group(2)) if step.group(2) is not None else key)
        position = step.end()
    filters = []
    for text in filter_texts:
        found = _FILTER.match(text)
        if not found or found.group(1) not in FILTERS:
            raise TemplateError(
                f"{{{{ {expression} }}}}: unknown filter {text!r}; available: {', '.join(FILTERS)}"
            )
        name = found.group(1)
        args = tuple(a for a in found.group(2, 3) if a is not None)
        if found.group(4) is not None:
            args += (int(found.group(4)),)
        try:
            FILTERS[name].check(name, args)
        except TemplateError as exc:
            raise TemplateError(f"{{{{ {expression} }}}}: {exc}") from None
        filters.append((name, args))
    return _Lookup(variable, tuple(steps), tuple(filters))
