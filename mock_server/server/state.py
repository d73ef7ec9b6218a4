"""The state a server loads once at start-up and shares between requests."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..accounts.clock import Clock
from ..accounts.rules import AccountRules
from ..caches import BoundedCache
from ..checks.request import PassedBodies
from ..config import Settings
from ..engine.choosing import ScenarioEngine
from ..engine.loading import bundled_scenarios_dir
from ..providers import ProfileRegistry
from ..wire.ids import Ids
from ..wire.kept_bodies import KeptBodies
from ..wire.pacer import Pacer
from .tenants import Tenants

if TYPE_CHECKING:
    from ..record.recorder import Recorder


@dataclass(eq=False)
class ShortcutStatus:
    """Whether the connection shortcut (``server.connection``) answers this server's requests:
    ``off`` says why not; ``answered`` counts the requests it answered and ``failures`` what
    failed after an answer was written."""

    off: str | None = "served by a runner other than mock-server's"
    answered: int = 0
    failures: int = 0

    def as_json(self) -> dict[str, object]:
        """As ``GET /__admin/health`` shows it."""
        return {
            "on": self.off is None,
            "off": self.off,
            "answered": self.answered,
            "failures": self.failures,
        }


@dataclass(eq=False)
class ServerState:
    """Profiles, scenarios, tenants and the emulated accounts of one server."""

    settings: Settings
    profiles: ProfileRegistry
    ids: Ids
    api_keys: tuple[bytes, ...]
    engine: ScenarioEngine
    tenants: Tenants
    rng: random.Random
    clock: Clock
    accounts: AccountRules
    pacer: Pacer
    # This server's caches by name, for GET /__admin/health (the process's: caches.SHARED).
    caches: dict[str, BoundedCache[Any, Any]] = field(default_factory=dict)
    passed_bodies: PassedBodies = field(init=False)
    kept_bodies: KeptBodies = field(init=False)
    # Called with each request's Exchange once it is answered (server.request_log); None: no
    # log line, and no work for one.
    request_log: Callable[..., None] | None = None
    # Forwards and records what no scenario answers (--record); None: nothing is forwarded.
    recorder: Recorder | None = None
    shortcut: ShortcutStatus = field(default_factory=ShortcutStatus)

    def __post_init__(self) -> None:
        self.passed_bodies = PassedBodies(registry=self.caches)
        self.kept_bodies = KeptBodies(self.caches)

    def scenario_paths(self) -> list[str | Path]:
        """Where file scenarios come from: ``--scenarios`` (else the bundled ones), and for a
        recording server its recordings instead of the bundled ones."""
        return scenario_paths(self.settings, self.recorder)


def scenario_paths(settings: Settings, recorder: Recorder | None) -> list[str | Path]:
    if recorder is not None:
        # The bundled examples would answer what a recording server should record.
        return [*(settings.scenarios or ()), *recorder.existing_files()]
    return [bundled_scenarios_dir()] if settings.scenarios is None else list(settings.scenarios)


STATE = web.AppKey("state", ServerState)
