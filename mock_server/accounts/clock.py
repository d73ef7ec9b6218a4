"""The one clock that rate limits, balances and chaos run on.

``Clock`` reads the monotonic time. ``ManualClock`` stands still until told to ``advance`` —
tests (or ``POST /__admin/clock``) move it, so rate-limit windows can be tested without sleeping.
"""

from __future__ import annotations

import time

from ..errors import ConfigError

MAX_ADVANCE = 366 * 24 * 3600  # seconds one advance may move a manual clock: a year


class Clock:
    """Real time (monotonic seconds)."""

    manual = False

    def now(self) -> float:
        return time.monotonic()

    def advance(self, seconds: float) -> None:
        raise RuntimeError("this server runs on the real clock; start it with clock: manual")


class ManualClock(Clock):
    """Time that moves only when ``advance`` is called."""

    manual = True

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``: a finite number from 0 to ``MAX_ADVANCE``."""
        if not 0 <= seconds <= MAX_ADVANCE:  # NaN fails every comparison
            raise ValueError(
                f"seconds must be a number from 0 to {MAX_ADVANCE:,} (a year), not {seconds!r}"
            )
        self._now += seconds


def make_clock(kind: str) -> Clock:
    """The clock a ``clock`` setting names: ``real`` or ``manual``."""
    if kind not in ("real", "manual"):
        raise ConfigError(f"clock must be real or manual, not {kind!r}")
    return ManualClock() if kind == "manual" else Clock()


def format_duration(seconds: float) -> str:
    """A duration as OpenAI's rate-limit headers write it: ``12ms``, ``1s``, ``1.5s``, ``6m0s``."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    secs_text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours >= 1:
        return f"{int(hours)}h{int(minutes)}m{secs_text}"
    if minutes >= 1:
        return f"{int(minutes)}m{secs_text}"
    return secs_text
