"""The state a server loads once at start-up and shares between requests."""

from __future__ import annotations

import random
from dataclasses import dataclass

from aiohttp import web

from .clock import Clock
from .config import Settings
from .emulation import Emulation
from .engine import ScenarioEngine
from .pacer import Pacer
from .profiles import ProfileRegistry
from .replies import Ids
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
    emulation: Emulation
    pacer: Pacer


STATE = web.AppKey("state", ServerState)
