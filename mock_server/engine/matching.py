"""Match requests to scenarios: condition objects, an index, and near-miss reports.

Every condition can both ``matches(view)`` and ``explain(view)`` (what it wanted, what the
request had), which is what a near-miss report is made of. ``ScenarioIndex`` keeps scenarios
ranked (priority, then specificity, then load order) and bucketed by what can be looked up
exactly — the last user message given with ``equals``, a model given without wildcards — so
the cost of finding a match does not grow with the number of scenarios that cannot match.
"""

from __future__ import annotations

import fnmatch
import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from .view import RequestView

if TYPE_CHECKING:
    from .scenario import Scenario

_GLOB_CHARS = re.compile(r"[*?\[]")
by_rank = attrgetter("rank")  # the sort key of scenarios: best-ranked first


class Condition:
    """One requirement of a scenario's ``match:``."""

    key: str

    def matches(self, view: RequestView) -> bool:
        raise NotImplementedError

    def wanted(self) -> str:
        raise NotImplementedError

    def actual(self, view: RequestView) -> Any:
        raise NotImplementedError

    def explain(self, view: RequestView) -> str:
        return f"{self.key}: wanted {self.wanted()}, request had {_short(self.actual(view))}"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class TextCondition(Condition):
    """``contains``/``equals``/``regex``/glob on one text fact of the request."""

    def __init__(self, key: str, operator: str, operand: str) -> None:
        self.key = key
        self.operator = operator
        self.operand = operand
        if operator == "glob" and not _GLOB_CHARS.search(operand):
            self.operator = operator = "literal"  # a glob without wildcards is plain equality
        if operator == "regex":
            self._pattern = re.compile(operand, re.S)
        elif operator == "glob":
            self._pattern = re.compile(fnmatch.translate(operand), re.S)

    @property
    def exact(self) -> str | None:
        """The one value this condition accepts, when there is one (for the index)."""
        return self.operand if self.operator in ("equals", "literal") else None

    def actual(self, view: RequestView) -> str:
        return getattr(view, self.key)

    def matches(self, view: RequestView) -> bool:
        text = self.actual(view)
        if self.operator == "contains":
            return self.operand in text
        if self.operator in ("equals", "literal"):
            return text == self.operand
        if self.operator == "glob":
            return self._pattern.fullmatch(text) is not None
        return self._pattern.search(text) is not None

    def wanted(self) -> str:
        words = {"glob": "matching", "regex": "matching regex", "literal": "equals"}
        word = words.get(self.operator, self.operator)
        return f"{word} {self.operand!r}"


class ValueCondition(Condition):
    """Equality with one fact: ``last_message_role``, ``tool_choice``, ``stream``, ``turn``."""

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
    """A request header equal to a value (names are case-insensitive)."""

    def __init__(self, name: str, value: str) -> None:
        self.name = name.lower()
        self.value = value
        self.key = f"headers.{self.name}"

    def actual(self, view: RequestView) -> str | None:
        return view.header(self.name)

    def matches(self, view: RequestView) -> bool:
        return self.actual(view) == self.value

    def wanted(self) -> str:
        return repr(self.value)


def build_conditions(match: dict[str, Any]) -> list[Condition]:
    """Condition objects for a scenario's ``match:`` mapping (already schema-checked)."""
    conditions: list[Condition] = []
    for key in ("model", "last_user_message", "system_message"):
        if key in match:
            spec = match[key]
            if isinstance(spec, str):
                operator = "glob" if key == "model" else "contains"
                conditions.append(TextCondition(key, operator, spec))
            else:
                for operator, operand in spec.items():
                    conditions.append(TextCondition(key, operator, operand))
    for key in ("last_message_role", "tool_choice", "stream", "turn"):
        if key in match:
            conditions.append(ValueCondition(key, match[key]))
    if "tools" in match:
        conditions.append(ToolsCondition(match["tools"]))
    for name, value in (match.get("headers") or {}).items():
        conditions.append(HeaderCondition(name, value))
    # Cheap comparisons first, so a failing scenario is usually dismissed before any regex runs.
    return sorted(conditions, key=lambda c: getattr(c, "operator", "") in ("regex", "glob"))


@dataclass
class NearMiss:
    """A scenario that did not match, and why."""

    scenario: str
    source: str
    matched: int
    failed: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"scenario": self.scenario, "source": self.source, "failed": self.failed}


class ScenarioIndex:
    """Scenarios ranked and bucketed for fast lookup; immutable once built."""

    def __init__(self, scenarios: Iterable[Scenario]) -> None:
        self.scenarios = sorted(scenarios, key=by_rank)
        self.by_name = {s.name: s for s in self.scenarios}
        self._by_text: dict[str, list[Scenario]] = {}
        self._by_model: dict[str, list[Scenario]] = {}
        self._rest: dict[str | None, list[Scenario]] = {}  # by profile; None: any profile
        self._merged: dict[str, list[Scenario]] = {}  # _rest's any-profile and one profile's
        for scenario in self.scenarios:  # already in rank order, so buckets are too
            text = _exact(scenario, "last_user_message")
            model = _exact(scenario, "model")
            if text is not None:
                self._by_text.setdefault(text, []).append(scenario)
            elif model is not None:
                self._by_model.setdefault(model, []).append(scenario)
            else:
                self._rest.setdefault(scenario.profile, []).append(scenario)

    def __len__(self) -> int:
        return len(self.scenarios)

    def candidates(self, view: RequestView) -> Iterator[Scenario]:
        """Scenarios that may match ``view``, best-ranked first."""
        lists = [self._unindexed(view.profile)]
        if self._by_text:
            lists.append(self._by_text.get(view.last_user_message, []))
        if self._by_model:
            lists.append(self._by_model.get(view.model, []))
        lists = [found for found in lists if found]
        if len(lists) == 1:
            return iter(lists[0])
        return heapq.merge(*lists, key=by_rank)

    def _unindexed(self, profile: str) -> list[Scenario]:
        """The scenarios without an index key that apply to ``profile``, merged once."""
        merged = self._merged.get(profile)
        if merged is None:
            lists = (self._rest.get(None, []), self._rest.get(profile, []))
            merged = self._merged[profile] = list(heapq.merge(*lists, key=by_rank))
        return merged


def _exact(scenario: Scenario, key: str) -> str | None:
    for condition in scenario.conditions:
        if condition.key == key and isinstance(condition, TextCondition):
            exact = condition.exact
            if exact is not None:
                return exact
    return None


def near_misses(scenarios: Iterable[Scenario], view: RequestView, limit: int = 3) -> list[NearMiss]:
    """The scenarios closest to matching ``view``: most conditions met, then fewest failed."""
    misses = []
    for scenario in scenarios:
        if scenario.profile is not None and scenario.profile != view.profile:
            failed = [f"profile: wanted {scenario.profile!r}, request had {view.profile!r}"]
            matched = -1  # another provider's scenario: the weakest kind of near miss
        else:
            failed = [c.explain(view) for c in scenario.conditions if not c.matches(view)]
            matched = len(scenario.conditions) - len(failed)
        if failed:
            misses.append(NearMiss(scenario.name, scenario.source, matched, failed))
    misses.sort(key=lambda m: (len(m.failed), -m.matched))
    return misses[:limit]


def format_near_misses(misses: list[NearMiss]) -> str:
    if not misses:
        return "No scenario is loaded for this request's tenant and profile."
    lines = ["Closest scenarios:"]
    for miss in misses:
        lines.append(f"- {miss.scenario} ({miss.source}):")
        lines.extend(f"    {reason}" for reason in miss.failed)
    return "\n".join(lines)
