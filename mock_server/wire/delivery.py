"""How an answer is delivered, in any API's wire: when its parts go out (``Latency``) and
how its texts are cut into stream events (``StreamShape``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..tokens import split_tokens

_WORD = re.compile(r"\s*\S+|\s+")


@dataclass(frozen=True)
class StreamShape:
    """How content is cut into chunks: by ``token``, ``word`` or ``char``, ``size`` at a time."""

    chunk: str = "token"
    size: int = 1

    def pieces(self, text: str) -> list[str]:
        if self.chunk == "char":
            units = list(text)
        elif self.chunk == "word":
            units = _WORD.findall(text)
        else:
            units = split_tokens(text)
        size = max(1, self.size)
        return ["".join(units[i : i + size]) for i in range(0, len(units), size)] or [""]


@dataclass(frozen=True)
class Latency:
    """When things happen: time to first token, then a pace, with seeded jitter."""

    ttft_ms: float = 0.0
    tokens_per_second: float | None = None
    chunk_interval_ms: float | None = None
    jitter: float = 0.0
    delay_ms: float = 0.0

    @property
    def all_at_once(self) -> bool:
        """Whether a stream's events are all due at once: no first-token time, no pace."""
        return not (self.ttft_ms or self.chunk_interval_ms or self.tokens_per_second)

    def interval(self, piece: str) -> float:
        """Seconds between the chunk before and one carrying ``piece``."""
        if self.chunk_interval_ms is not None:
            return self.chunk_interval_ms / 1000
        if self.tokens_per_second:
            return max(1, len(split_tokens(piece))) / self.tokens_per_second
        return 0.0
