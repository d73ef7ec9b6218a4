"""The state a server loads once at start-up and shares between requests."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from ..accounts.clock import Clock
from ..accounts.rules import AccountRules
from ..checks.profiles import ProfileRegistry
from ..config import Settings
from ..engine.choosing import ScenarioEngine
from ..wire.ids import Ids
from ..wire.pacer import Pacer
from .tenants import Tenants


@dataclass
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
    # Called with each request's Exchange once it is answered (server.request_log); None: no
    # log line, and no work for one.
    request_log: Callable[..., None] | None = None


STATE = web.AppKey("state", ServerState)
