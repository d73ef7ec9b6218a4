"""Ids as providers write them, from one seeded source, so a seeded server repeats its ids.

Styles: ``openai`` (``chatcmpl-`` + 29 alphanumerics, ``call_`` + 24), ``uuid`` (DeepSeek's
completion ids), ``google`` (23 URL-safe characters; ``function-call-`` + 17 digits). The
Responses API's objects: a prefix (``resp_``, ``msg_``, ``fc_``, ``fco_``, ``rs_``) and 48 hex
digits, as OpenAI writes them.
"""

from __future__ import annotations

import random
import string
import uuid

_ALPHANUMERIC = string.ascii_letters + string.digits
# Maps every byte to an alphanumeric character, so random bytes become an id in one call.
_TO_ALPHANUMERIC = bytes((_ALPHANUMERIC * 5)[:256], "ascii")
_TO_URL_SAFE = bytes(((_ALPHANUMERIC + "-_") * 4)[:256], "ascii")


class Ids:
    """Deterministic ids from a seeded source: ``chatcmpl-`` + 29 alphanumerics and friends."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def _token(self, length: int, table: bytes = _TO_ALPHANUMERIC) -> str:
        return self._random.randbytes(length).translate(table).decode()

    def completion(self, style: str = "openai") -> str:
        if style == "uuid":
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))
        if style == "google":
            return self._token(23, _TO_URL_SAFE)
        return "chatcmpl-" + self._token(29)

    def tool_call(self, style: str = "openai") -> str:
        if style == "google":
            return f"function-call-{self._random.randrange(10**16, 10**17)}"
        return "call_" + self._token(24)

    def item(self, prefix: str) -> str:
        """A Responses API id: ``resp_``, ``msg_``, ``fc_`` ... and 48 hex digits."""
        return f"{prefix}_{self._hex(24)}"

    def request(self) -> str:
        return "req_" + self._hex(16)

    def _hex(self, size: int) -> str:
        """``size`` random bytes as hex digits: those of ``getrandbits(8 * size)``, written out
        in full (in a third of the time formatting the number takes)."""
        return self._random.getrandbits(8 * size).to_bytes(size, "big").hex()
