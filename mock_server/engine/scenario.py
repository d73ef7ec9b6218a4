"""``Scenario``: one scripted behaviour — the conditions it answers and its replies in order."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from ..lazy_property import lazy
from .conditions import Condition
from .reply_specs import ReplySpec
from .request_view import RequestView


@dataclass
class Scenario:
    """One scripted behaviour: when it applies and what it answers."""

    name: str
    conditions: list[Condition]
    replies: tuple[ReplySpec, ...]
    on_exhausted: str = "repeat_last"
    on_ruled_out: str = "answer"  # or no_match: a reply the request rules out steps aside
    priority: int = 0
    profile: str | None = None
    location: Any = ""  # str() gives file:line:column
    order: int = 0

    @property
    def source(self) -> str:
        """Where the scenario is defined, as ``file:line:column``."""
        return str(self.location)

    @lazy
    def rank(self) -> tuple[int, int, int]:
        """Sort key: higher priority, then more conditions, then earlier loaded, first."""
        return (-self.priority, -len(self.conditions), self.order)

    def matches(self, view: RequestView) -> bool:
        if self.profile is not None and self.profile != view.profile:
            return False
        for condition in self.conditions:  # noqa: SIM110 - a plain loop: this is the hot path
            if not condition.matches(view):
                return False
        return True

    def reply_at(self, step: int, recording: bool = False) -> ReplySpec | None:
        """The reply for the ``step``-th match (0-based), or None when exhausted: with
        ``no_match``, or with ``record`` (a recording's steps) while the request would be
        recorded, so that it is, as the next step."""
        count = len(self.replies)
        if step < count:
            return self.replies[step]
        if self.on_exhausted == "cycle":
            return self.replies[step % count]
        if self.on_exhausted == "no_match" or (recording and self.on_exhausted == "record"):
            return None
        return self.replies[-1]

    def served_per_step(self, served: int) -> list[int]:
        """How often each reply has been given, after ``served`` matches."""
        count = len(self.replies)
        counts = [1 if step < served else 0 for step in range(count)]
        beyond = max(0, served - count)  # never above 0 with on_exhausted: no_match
        if self.on_exhausted == "cycle":
            rounds, rest = divmod(beyond, count)
            counts = [c + rounds + (step < rest) for step, c in enumerate(counts)]
        else:
            counts[-1] += beyond
        return counts


by_rank = attrgetter("rank")  # the sort key of scenarios: best-ranked first
