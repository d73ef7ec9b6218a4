"""The state of emulated accounts: what each API key has left in one tenant.

A key a client chooses (any key is accepted when none are configured) opens an account on first
use; beyond ``MAX_ACCOUNTS`` of them in one tenant, the least recently used is forgotten, and
that key starts afresh when it comes back. Configured keys are never forgotten: their balance
is configuration.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..config import KeySpec, Limits
from ..redaction import redact
from .clock import format_duration

MAX_ACCOUNTS = 10_000  # accounts of keys clients chose, per tenant (about 0.6 KB each)
SHOWN_KEY = 40  # characters of a chosen key an account keeps (redacted)


@dataclass(slots=True)
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


@dataclass(slots=True)
class Account:
    """What one key has left in one tenant."""

    spec: KeySpec
    balance: int | None
    windows: dict[str, Window] = field(default_factory=dict)
    spent: int = 0

    def take(self, requested: dict[str, int], now: float) -> str | None:
        """Count ``requested`` (by window name) in this account's windows at ``now``, if every
        window has room, in one call (as a shared store would, atomically); else the name of
        the first window that has not, and nothing counted."""
        for window in self.windows.values():
            window.roll(now)
        for name, window in self.windows.items():
            if window.used + requested[name] > window.limit:
                return name
        for name, window in self.windows.items():
            window.used += requested[name]
        return None

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


def _shown(key: str) -> str:
    """A chosen key as its account keeps it: redacted, and cut when long."""
    shown = redact(key)
    return shown if len(shown) <= SHOWN_KEY else f"{shown[:SHOWN_KEY]}... ({len(key):,} characters)"


@dataclass
class TenantAccounts:
    """The accounts of one tenant, by API key, and its chaos source."""

    tenant: str
    configured: dict[str, Account] = field(default_factory=dict)  # never forgotten
    # By a digest of the key, the oldest use first: a key a client chooses may be long.
    chosen: OrderedDict[bytes, Account] = field(default_factory=OrderedDict)
    _chaos_rng: random.Random | None = None

    def account(self, spec: KeySpec, limits: Limits | None, configured: bool) -> Account:
        """The account of ``spec``'s key, opened on first use."""
        if configured:
            account = self.configured.get(spec.key)
            if account is None:
                account = self.configured[spec.key] = Account.open(spec, limits)
            return account
        chosen = self.chosen
        digest = hashlib.blake2b(spec.key.encode(), digest_size=16).digest()
        account = chosen.get(digest)
        if account is None:
            shown = replace(spec, key=_shown(spec.key))
            account = chosen[digest] = Account.open(shown, limits)
            if len(chosen) > MAX_ACCOUNTS:
                chosen.popitem(last=False)
        else:
            chosen.move_to_end(digest)
        return account

    def __iter__(self) -> Iterator[Account]:
        return itertools.chain(self.configured.values(), self.chosen.values())

    def __len__(self) -> int:
        return len(self.configured) + len(self.chosen)

    def chaos_rng(self, seed: int | None) -> random.Random:
        """This tenant's chaos source: the same seed replays the same failures."""
        if self._chaos_rng is None:
            self._chaos_rng = random.Random(f"{seed}:{self.tenant}")
        return self._chaos_rng

    def clear(self) -> None:
        self.configured.clear()
        self.chosen.clear()
        self._chaos_rng = None
