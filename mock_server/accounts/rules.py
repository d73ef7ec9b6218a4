"""The rules of emulated accounts: balance, rate limits, overload and chaos.

Checked after a request is known valid, in this order — balance (402, or OpenAI's 429
``insufficient_quota``), rate limits (429 with ``retry-after``, ``retry-after-ms`` and the
``x-ratelimit-*`` headers), requests in flight (503), chaos — each answered in the profile's
wording. State is per tenant and per API key; all of it runs on one ``Clock``.

Rate limits use fixed windows (``window_seconds``, 60 by default) that open with the first
request; a request's tokens are estimated before it is served (prompt tokens, plus
``max_tokens`` times ``n`` when given), as providers count them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..config import Chaos, KeySpec, Settings
from ..errors import ApiError
from ..providers import Profile
from ..wire.faults import STREAM_FAULTS, Fault
from .account import Account, TenantAccounts
from .clock import Clock, format_duration

LIMIT_NAMES = {"requests": "requests per min (RPM)", "tokens": "tokens per min (TPM)"}


@dataclass(frozen=True, slots=True)
class Cost:
    """What a request may spend, as its API reckons it: the model it names, its prompt tokens,
    and the most it may generate (``max_tokens`` times ``n`` for chat completions)."""

    model: str
    prompt_tokens: int
    most_generated: int


class AccountRules:
    """The account rules of one server, applied to the accounts of each tenant."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.keys = {spec.key: spec for spec in settings.api_keys}
        self.in_flight = 0
        # Whether any rule can apply at all: if not, admitting a request costs nothing.
        self.active = bool(
            settings.limits
            or settings.chaos
            or settings.chaos_profiles
            or settings.max_concurrent_requests
            or any(s.balance is not None or s.limits or s.chaos for s in settings.api_keys)
        )

    def account(self, accounts: TenantAccounts, key: str | None) -> Account | None:
        """The key's account in a tenant, opened on first use (None when nothing applies)."""
        configured = self.keys.get(key or "")
        spec = configured or KeySpec(key or "")
        limits = spec.limits or self.settings.limits
        if spec.balance is None and limits is None:
            return None
        return accounts.account(spec, limits, configured is not None)

    def admit(
        self,
        accounts: TenantAccounts,
        key: str | None,
        profile: Profile,
        cost: Callable[[], Cost],
    ) -> tuple[dict[str, str], Fault | None]:
        """Check a valid request against the account (``cost`` is asked only when an account
        applies); the rate-limit headers to send and a chaos fault to inject, or ``ApiError``
        when the account refuses it."""
        if not self.active:
            return {}, None
        account = self.account(accounts, key)
        headers: dict[str, str] = {}
        if account is not None:
            spend = cost()
            if account.balance is not None and account.balance < spend.prompt_tokens:
                raise ApiError("insufficient_quota")
            requested = {"requests": 1, "tokens": spend.prompt_tokens + spend.most_generated}
            headers = self._take(account, requested, profile, spend.model)
        maximum = self.settings.max_concurrent_requests
        if maximum is not None and self.in_flight >= maximum:
            raise ApiError("503", status=503, headers=headers)
        return headers, self._chaos(accounts, key, profile, headers)

    def _take(
        self, account: Account, requested: dict[str, int], profile: Profile, model: str
    ) -> dict[str, str]:
        now = self.clock.now()
        refused = account.take(requested, now)
        if refused is not None:
            raise self._limited(account, refused, requested[refused], profile, model, now)
        return account.limit_headers(now)

    def _limited(
        self, account: Account, name: str, requested: int, profile: Profile, model: str, now: float
    ) -> ApiError:
        window = account.windows[name]
        wait = window.reset_in(now)
        headers = account.limit_headers(now)
        kinds = [f"rate_limit_{name}", "rate_limit"]
        if requested > window.limit and "request_too_large" in profile.errors:
            kinds.insert(0, "request_too_large")  # no wait lets it through
        else:
            headers["retry-after"] = str(max(1, math.ceil(wait)))
            headers["retry-after-ms"] = str(max(1, math.ceil(wait * 1000)))
        kind = next((k for k in kinds if k in profile.errors), "429")
        return ApiError(
            kind,
            status=429,
            headers=headers,
            values={
                "model": model,
                "limit_name": LIMIT_NAMES[name],
                "limit": window.limit,
                "used": window.used,
                "requested": requested,
                "retry": format_duration(wait),
            },
        )

    def charge(self, accounts: TenantAccounts, key: str | None, tokens: int) -> None:
        """Spend a served completion's usage from the key's balance."""
        if not self.active:
            return
        account = self.account(accounts, key)
        if account is not None:
            account.spent += tokens
            if account.balance is not None:
                account.balance -= tokens

    def _chaos(
        self, accounts: TenantAccounts, key: str | None, profile: Profile, headers: dict[str, str]
    ) -> Fault | None:
        spec = self.keys.get(key or "")
        chaos: Chaos | None = (
            (spec.chaos if spec else None)
            or self.settings.chaos_profiles.get(profile.name)
            or self.settings.chaos
        )
        if chaos is None or not chaos.probability:
            return None
        rng = accounts.chaos_rng(self.settings.seed)
        if rng.random() >= chaos.probability:
            return None
        outcome = rng.choice([*chaos.statuses, *chaos.faults] or [500])
        if isinstance(outcome, int):
            raise ApiError(str(outcome), status=outcome, headers=headers)
        after = rng.randint(0, 3) if outcome in STREAM_FAULTS else 0
        return Fault(outcome, after)
