"""The state of emulated accounts: what each API key has left in one tenant."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ..config import KeySpec, Limits
from ..redaction import redact
from .clock import format_duration


@dataclass
class Window:
    """A fixed rate-limit window: ``used`` of ``limit`` since ``start``."""

    limit: int
    seconds: float
    start: float | None = None
    used: int = 0

    def roll(self, now: float) -> None:
        if self.start is None or now >= self.start + self.seconds:
            self.start, self.used = now, 0

    def reset_in(self, now: float) -> float:
        return 0.0 if self.start is None else max(0.0, self.start + self.seconds - now)


@dataclass
class Account:
    """What one key has left in one tenant."""

    spec: KeySpec
    balance: int | None
    windows: dict[str, Window] = field(default_factory=dict)
    spent: int = 0

    @classmethod
    def open(cls, spec: KeySpec, limits: Limits | None) -> Account:
        windows = {}
        if limits is not None:
            if limits.requests_per_minute:
                windows["requests"] = Window(limits.requests_per_minute, limits.window_seconds)
            if limits.tokens_per_minute:
                windows["tokens"] = Window(limits.tokens_per_minute, limits.window_seconds)
        return cls(spec, spec.balance, windows)

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "key": redact(self.spec.key),
            "balance": self.balance,
            "spent": self.spent,
            **{
                name: {
                    "limit": w.limit,
                    "remaining": w.limit - w.used,
                    "reset": format_duration(w.reset_in(now)),
                }
                for name, w in self.windows.items()
            },
        }

    def limit_headers(self, now: float) -> dict[str, str]:
        """The ``x-ratelimit-*`` headers of this account's windows."""
        headers = {}
        for name, window in self.windows.items():
            headers[f"x-ratelimit-limit-{name}"] = str(window.limit)
            headers[f"x-ratelimit-remaining-{name}"] = str(max(0, window.limit - window.used))
            headers[f"x-ratelimit-reset-{name}"] = format_duration(window.reset_in(now))
        return headers


@dataclass
class TenantAccounts:
    """The accounts of one tenant, by API key, and its chaos source."""

    tenant: str
    by_key: dict[str, Account] = field(default_factory=dict)
    _chaos_rng: random.Random | None = None

    def chaos_rng(self, seed: int | None) -> random.Random:
        """This tenant's chaos source: the same seed replays the same failures."""
        if self._chaos_rng is None:
            self._chaos_rng = random.Random(f"{seed}:{self.tenant}")
        return self._chaos_rng

    def clear(self) -> None:
        self.by_key.clear()
        self._chaos_rng = None
