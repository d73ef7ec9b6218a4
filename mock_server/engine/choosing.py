"""The scenario engine: pick the scenario that answers a request and advance its sequence.

Candidates come from a tenant's run-time scenarios (its ``ScenarioState``), then the file
scenarios (a run-time scenario shadows a file scenario of the same name), each best-ranked
first: a tenant's own scenarios come before the server's, so a test scripts its requests on a
shared server as on an empty one. The first whose conditions all hold and whose sequence is
not exhausted answers. Choosing and
advancing are one call (``ScenarioState.take``), so concurrent requests each get their own step.

A recording (``on_exhausted: record``) replays its steps in order; while the request would be
recorded (mode ``new``), one beyond its steps is no match, so it is forwarded, and the recorder
appends its answer as the next step and counts that step as served (``ScenarioState.recorded``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import chain

from .matching import NearMiss, ScenarioIndex, near_misses
from .reply_specs import ReplySpec
from .request_view import RequestView
from .scenario import Scenario
from .scripted import ruled_out

# The order scenarios are added in at run time, which settles ties among them.
_ADDED_ORDER = itertools.count()


NO_SCENARIOS = ScenarioIndex(())  # shared by every tenant that added none (an index is immutable)


@dataclass(frozen=True)
class Selection:
    """The scenario chosen for a request, the step of its sequence, and that step's reply."""

    scenario: Scenario
    step: int
    reply: ReplySpec


@dataclass
class ScenarioState:
    """One tenant's run-time scenarios and how far each sequence has gone (``served``)."""

    added: ScenarioIndex = field(default_factory=lambda: NO_SCENARIOS)
    served: dict[str, int] = field(default_factory=dict)

    def add(self, scenarios: list[Scenario]) -> None:
        """Add (or replace, by name) run-time scenarios; their sequences start afresh."""
        scenarios = [replace(s, order=next(_ADDED_ORDER)) for s in scenarios]
        for scenario in scenarios:
            self.served.pop(scenario.name, None)
        names = {s.name for s in scenarios}
        kept = [s for s in self.added.scenarios if s.name not in names]
        self.added = ScenarioIndex([*kept, *scenarios])

    def take(
        self, name: str, reply_at: Callable[[int], ReplySpec | None]
    ) -> tuple[int, ReplySpec] | None:
        """The next step of ``name``'s sequence and its reply (``reply_at(step)``), the
        position advanced in the same call: read and written with nothing between, as a shared
        store would do it in one atomic operation. None, and no advance, when there is none."""
        step = self.served.get(name, 0)
        reply = reply_at(step)
        if reply is None:
            return None
        self.served[name] = step + 1
        return step, reply

    def recorded(self, name: str, steps: int) -> None:
        """Count the ``steps`` replies of ``name`` as served: this tenant's request was just
        recorded as the last of them, so the next identical request asks for the step after."""
        self.served[name] = steps

    def remove(self, name: str) -> bool:
        if name not in self.added.by_name:
            return False
        self.added = ScenarioIndex(s for s in self.added.scenarios if s.name != name)
        self.served.pop(name, None)
        return True

    def clear(self) -> None:
        self.added = NO_SCENARIOS
        self.served.clear()


class ScenarioEngine:
    """File scenarios (replaceable as a whole, for ``--watch``) and the choosing rules."""

    def __init__(self, scenarios: list[Scenario]) -> None:
        self.files = ScenarioIndex(scenarios)

    def replace(self, scenarios: list[Scenario]) -> None:
        self.files = ScenarioIndex(scenarios)

    def add(self, scenarios: list[Scenario]) -> None:
        """Add file scenarios (a recording), replacing any of the same name."""
        names = {s.name for s in scenarios}
        self.files = ScenarioIndex(
            [*(s for s in self.files.scenarios if s.name not in names), *scenarios]
        )

    def visible(self, state: ScenarioState) -> list[Scenario]:
        """Every scenario a tenant's requests can match, in the order they are tried: its own,
        then the server's, each best-ranked first."""
        shadowed = state.added.by_name
        files = [s for s in self.files.scenarios if s.name not in shadowed]
        return [*state.added.scenarios, *files]

    def find(self, name: str, state: ScenarioState) -> Scenario | None:
        """The scenario a tenant sees under ``name``."""
        return state.added.by_name.get(name) or self.files.by_name.get(name)

    def advance(
        self,
        scenario: Scenario,
        state: ScenarioState,
        recording: bool = False,
        view: RequestView | None = None,
    ) -> Selection | None:
        """Take the next step of ``scenario``'s sequence (None when exhausted: see
        ``Scenario.reply_at``). Given the request's ``view``, a scenario with ``on_ruled_out:
        no_match`` takes no step whose reply the request rules out (None, as when exhausted)."""
        steps_aside = view is not None and scenario.on_ruled_out == "no_match"

        def reply_at(step: int) -> ReplySpec | None:
            reply = scenario.reply_at(step, recording)
            if steps_aside and reply is not None and ruled_out(view, reply):
                return None
            return reply

        taken = state.take(scenario.name, reply_at)
        return None if taken is None else Selection(scenario, *taken)

    def choose(
        self, view: RequestView, state: ScenarioState, recording: bool = False
    ) -> Selection | None:
        """The step that answers ``view``; None when no scenario does. ``recording``: a request
        no scenario answers would be recorded (so a recording's steps run out, see above)."""
        added = state.added
        shadowed = added.by_name
        files = self.files.candidates(view)
        if shadowed:
            files = (s for s in files if s.name not in shadowed)
        candidates = chain(added.candidates(view), files) if len(added) else files
        for scenario in candidates:
            if scenario.matches(view):
                selection = self.advance(scenario, state, recording, view)
                if selection is not None:  # else exhausted (no_match, or record) or ruled out
                    return selection
        return None

    def near_misses(
        self, view: RequestView, state: ScenarioState, limit: int = 3
    ) -> list[NearMiss]:
        scenarios = self.visible(state)
        misses = near_misses(scenarios, view, limit)
        aside = [
            miss
            for s in scenarios
            if s.matches(view) and (miss := _stepped_aside(s, view, state)) is not None
        ]
        return list(chain(aside, misses))[:limit]


def _stepped_aside(scenario: Scenario, view: RequestView, state: ScenarioState) -> NearMiss | None:
    """Why ``scenario``, whose conditions ``view`` meets, did not answer it: its sequence is
    exhausted (``on_exhausted: no_match``), or the request rules out its reply (``on_ruled_out:
    no_match``); None when it would answer."""
    reply = scenario.reply_at(state.served.get(scenario.name, 0))
    if reply is None:
        served = len(scenario.replies)
        failed = f"sequence exhausted after {served} replies (on_exhausted: no_match)"
        failure = {
            "condition": "sequence",
            "wanted": "a reply left",
            "actual": f"all {served} replies served (on_exhausted: no_match)",
        }
    elif scenario.on_ruled_out == "no_match" and (why := ruled_out(view, reply)):
        failed = f"reply ruled out (on_ruled_out: no_match): {why[0]}"
        failure = {"condition": "reply", "wanted": "a reply the request allows", "actual": why[0]}
    else:
        return None
    return NearMiss(scenario.name, scenario.source, len(scenario.conditions), [failed], [failure])
