"""The conditions of a scenario's ``match:``, as small objects built once at load.

Every condition can both ``matches(view)`` and ``explain(view)`` (what it wanted, what the
request had), which is what a near-miss report is made of.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import Any

from ..redaction import SECRET_HEADERS, redact_header_value
from .digest import differences, request_digest
from .patterns import longest_searched
from .request_view import SEARCH_BUDGET, RequestView

GLOB_CHARS = re.compile(r"[*?\[]")  # a model glob without these is plain equality


class Condition:
    """One requirement of a scenario's ``match:``."""

    key: str

    def matches(self, view: RequestView) -> bool:
        raise NotImplementedError

    def wanted(self) -> str:
        raise NotImplementedError

    def actual(self, view: RequestView) -> Any:
        raise NotImplementedError

    def failure(self, view: RequestView) -> dict[str, str]:
        """What this condition wanted and what the request had, for a near-miss table."""
        return {"condition": self.key, "wanted": self.wanted(), "actual": _short(self.actual(view))}

    def explain(self, view: RequestView) -> str:
        failure = self.failure(view)
        return f"{self.key}: wanted {failure['wanted']}, request had {failure['actual']}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value[:limit] if isinstance(value, str) and len(value) > limit else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TextCondition(Condition):
    """``contains``/``equals``/``regex``/glob on one text fact of the request."""

    def __init__(self, key: str, operator: str, operand: str) -> None:
        self.key = key
        self.operator = operator
        self.operand = operand
        if operator == "glob" and not GLOB_CHARS.search(operand):
            self.operator = operator = "literal"  # a glob without wildcards is plain equality
        if operator == "regex":
            self._pattern = re.compile(operand, re.S)
            self._longest = longest_searched(operand)
        elif operator == "glob":
            self._pattern = re.compile(fnmatch.translate(operand), re.S)

    @property
    def exact(self) -> str | None:
        """The one value this condition accepts, when there is one (for the index)."""
        return self.operand if self.operator in ("equals", "literal") else None

    def actual(self, view: RequestView) -> str:
        return getattr(view, self.key)

    def matches(self, view: RequestView) -> bool:
        if self.operator == "contains":
            return view.holds(self.key, self.operand) is True
        text = self.actual(view)
        if self.operator in ("equals", "literal"):
            return text == self.operand
        if self.operator == "glob":
            return self._pattern.fullmatch(text) is not None
        return len(text) <= self._longest and self._pattern.search(text) is not None

    def failure(self, view: RequestView) -> dict[str, str]:
        failure = super().failure(view)
        size = len(self.actual(view))
        if self.operator == "regex" and size > self._longest:
            failure["actual"] = (
                f"{size:,} characters, more than this regex is run on "
                f"({self._longest:,}: its backtracking could take too long)"
            )
        elif self.operator == "contains" and view.holds(self.key, self.operand) is None:
            failure["actual"] = (
                f"{size:,} characters, not searched: this request's texts had been searched for "
                f"{SEARCH_BUDGET:,} characters already"
            )
        return failure

    def wanted(self) -> str:
        words = {"glob": "matching", "regex": "matching regex", "literal": "equals"}
        word = words.get(self.operator, self.operator)
        if self.operator == "regex" and self.operand.isprintable():
            return f"{word} '{self.operand}'"  # as written: a repr would double its backslashes
        return f"{word} {self.operand!r}"


class ValueCondition(Condition):
    """Equality with one fact: ``api``, ``last_message_role``, ``tool_choice``, ``stream``,
    ``response_format``, ``turn``, ``tool_call_id``, ``tool_name``."""

    def __init__(self, key: str, value: Any) -> None:
        self.key = key
        self.value = value

    def actual(self, view: RequestView) -> Any:
        return getattr(view, self.key)

    def matches(self, view: RequestView) -> bool:
        return self.actual(view) == self.value

    def wanted(self) -> str:
        return repr(self.value)


class ToolsCondition(Condition):
    """The request offers (at least) these function names."""

    key = "tools"

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)

    def actual(self, view: RequestView) -> list[str]:
        return sorted(view.tools)

    def matches(self, view: RequestView) -> bool:
        return self.names <= view.tools

    def wanted(self) -> str:
        return f"tools {sorted(self.names)}"


class HeaderCondition(Condition):
    """A request header equal to a value (names are case-insensitive). Explanations of a
    header that carries a secret show it masked, the caller's and the scenario's alike."""

    def __init__(self, name: str, value: str) -> None:
        self.name = name.lower()
        self.value = value
        self.key = f"headers.{self.name}"
        self.secret = self.name in SECRET_HEADERS

    def actual(self, view: RequestView) -> str | None:
        value = view.header(self.name)
        return redact_header_value(value) if self.secret and value is not None else value

    def matches(self, view: RequestView) -> bool:
        return view.header(self.name) == self.value

    def wanted(self) -> str:
        return repr(redact_header_value(self.value) if self.secret else self.value)


class DigestCondition(Condition):
    """The request's digest (``engine.digest``) equals the recorded one: it is the request the
    scenario was recorded from, in everything that can change the answer. Given as
    ``sha256:HEX``, or as ``{sha256: HEX, parts: {...}}``, whose part hashes say what differs."""

    key = "request_digest"

    def __init__(self, spec: str | dict[str, Any]) -> None:
        if isinstance(spec, str):
            self.sha256, self.parts = spec.removeprefix("sha256:"), {}
        else:
            self.sha256, self.parts = spec["sha256"], spec.get("parts") or {}

    def actual(self, view: RequestView) -> str:
        return request_digest(view).sha256

    def matches(self, view: RequestView) -> bool:
        return request_digest(view).sha256 == self.sha256

    def wanted(self) -> str:
        return f"sha256:{self.sha256[:12]}..."

    def failure(self, view: RequestView) -> dict[str, str]:
        digest = request_digest(view)
        actual = f"sha256:{digest.sha256[:12]}..."
        differing = differences(self.parts, digest.parts) if self.parts else []
        if differing:
            actual += ": " + ", ".join(differing)
        return {"condition": self.key, "wanted": self.wanted(), "actual": actual}


VALUE_KEYS = (
    "api", "last_message_role", "tool_choice", "stream", "response_format", "turn", "tool_call_id",
    "tool_name",
)  # fmt: skip


def build_conditions(match: dict[str, Any]) -> list[Condition]:
    """Condition objects for a scenario's ``match:`` mapping (already schema-checked)."""
    conditions: list[Condition] = []
    for key in ("model", "last_user_message", "system_message", "tool_result"):
        if key in match:
            spec = match[key]
            if isinstance(spec, str):
                operator = "glob" if key == "model" else "contains"
                conditions.append(TextCondition(key, operator, spec))
            else:
                for operator, operand in spec.items():
                    conditions.append(TextCondition(key, operator, operand))
    for key in VALUE_KEYS:
        if key in match:
            conditions.append(ValueCondition(key, match[key]))
    if "tools" in match:
        conditions.append(ToolsCondition(match["tools"]))
    for name, value in (match.get("headers") or {}).items():
        conditions.append(HeaderCondition(name, value))
    if "request_digest" in match:
        conditions.append(DigestCondition(match["request_digest"]))
    # Cheap comparisons first, so a failing scenario is usually dismissed before any regex runs
    # and the digest is computed only for a request that meets every other condition.
    return sorted(conditions, key=_cost)


def _cost(condition: Condition) -> int:
    if isinstance(condition, DigestCondition):
        return 2
    return int(getattr(condition, "operator", "") in ("regex", "glob"))
