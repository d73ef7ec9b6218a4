"""Ids as providers write them, from one seeded source, so a seeded server repeats its ids."""

from __future__ import annotations

import random
import string

_ALPHANUMERIC = string.ascii_letters + string.digits
# Maps every byte to an alphanumeric character, so random bytes become an id in one call.
_TO_ALPHANUMERIC = bytes((_ALPHANUMERIC * 5)[:256], "ascii")


class Ids:
    """Deterministic ids from a seeded source: ``chatcmpl-`` + 29 alphanumerics and friends."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def _token(self, length: int) -> str:
        return self._random.randbytes(length).translate(_TO_ALPHANUMERIC).decode()

    def completion(self) -> str:
        return "chatcmpl-" + self._token(29)

    def tool_call(self) -> str:
        return "call_" + self._token(24)

    def request(self) -> str:
        return "req_" + f"{self._random.getrandbits(128):032x}"
