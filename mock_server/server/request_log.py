"""The request log: one line per API request on standard output.

``text`` (the default of ``mock-server serve``): time, method and path, tenant (when not the
default), profile, model, status, what answered (``scenario#step``, ``fallback``, ``no match``
with the closest scenario and its first failed condition, ``fault: disconnect``, the error code
of a refusal), the chunk count of a stream, and the duration — coloured when standard output is
a terminal. ``json``: one object per line with the same facts, for CI artifacts. ``none``
(``--quiet``, and the default of ``MockServer`` and the pytest plugin): nothing, and no work.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from typing import Any, TextIO

from ..jsonio import dumps
from ..redaction import Scrubber
from .exchange import Exchange
from .headers import readable
from .tenants import DEFAULT_TENANT

FORMATS = ("text", "json", "none")
FLUSH_SECONDS = 0.05
_RESET = "\033[0m"
_DIM = "\033[2m"
_CYAN = "\033[36m"
_STATUS_COLOURS = {2: "\033[32m", 4: "\033[33m", 5: "\033[31m"}  # green, yellow, red


def outcome(exchange: Exchange) -> str:
    """What answered the request, in a few words (and whether its client left before the
    end of a stream)."""
    said = _answered(exchange)
    return f"{said}, client hung up" if exchange.client_left else said


def _answered(exchange: Exchange) -> str:
    if exchange.selection is not None:
        answer = f"{exchange.selection.scenario.name}#{exchange.selection.step + 1}"
        return f"{answer} fault: {exchange.fault}" if exchange.fault else answer
    if exchange.recorded:
        return f"recorded as {exchange.recorded}"
    if exchange.forwarded:  # an error of ours is the upstream failing (502, 504)
        failed = exchange.error_code
        return (
            f"the upstream failed ({failed})"
            if failed
            else "relayed from the upstream, not recorded"
        )
    if exchange.fault:
        return f"fault: {exchange.fault}"
    if exchange.status == 200 and exchange.written is not None:
        return "fallback"
    if exchange.near_miss is not None:
        if not exchange.near_miss:
            return "no match (no scenario loaded)"
        closest = exchange.near_miss[0]
        return f"no match (closest: {closest['scenario']}: {closest['failed'][0]})"
    if exchange.status == 0:
        return "client hung up"
    if exchange.status < 400:  # another route of an API's (a stored response read, say)
        return "answered"
    return f"error: {exchange.error_code or exchange.status}"


def facts(exchange: Exchange, now: str) -> dict[str, Any]:
    """The facts a log line gives, as JSON values."""
    return {
        "time": now,
        "method": exchange.incoming.method,
        "path": readable(exchange.incoming.path),
        "tenant": exchange.tenant.name,
        "profile": exchange.profile.name,
        "model": _model(exchange),
        "status": exchange.status,
        "outcome": outcome(exchange),
        "scenario": exchange.selection.scenario.name if exchange.selection else None,
        "step": exchange.selection.step + 1 if exchange.selection else None,
        "chunks": exchange.chunks,
        "fault": exchange.fault,
        "note": exchange.api.note(exchange),
        "warnings": list(exchange.warnings),
        "client_left": exchange.client_left,
        "duration_ms": _duration_ms(exchange),
    }


def _duration_ms(exchange: Exchange) -> float:
    return round((time.monotonic() - exchange.started) * 1000, 1)


_SCRUBBER = Scrubber()


def _model(exchange: Exchange) -> str | None:
    """The model asked for, as sent (a refused request may send anything: only a short string
    is shown, a credential in it redacted)."""
    model = (exchange.body or {}).get("model")
    if not isinstance(model, str):
        return None
    return readable(_SCRUBBER.text(model if len(model) <= 80 else model[:77] + "..."))


def _printable(text: str) -> str:
    """``text`` with the control characters a client may send (a line break in a tenant's
    name, a terminal's escape in a model's) written as escapes: one request, one line."""
    if text.isprintable():  # most text: one look, in C
        return text
    return _CONTROL.sub(lambda found: ascii(found.group())[1:-1], text)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class _Clock:
    """The wall-clock time as a log line shows it, formatted once a second."""

    def __init__(self, form: str) -> None:
        self.form = form
        self.second = -1
        self.text = ""

    def __call__(self) -> str:
        second = int(time.time())
        if second != self.second:
            self.second, self.text = second, time.strftime(self.form, time.localtime(second))
        return self.text


class RequestLog:
    """Writes a line per request to ``out`` in one of ``FORMATS`` (not ``none``)."""

    def __init__(self, log_format: str, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.json = log_format == "json"
        self.colour = not self.json and self.out.isatty()
        self.clock = _Clock("%Y-%m-%dT%H:%M:%S" if self.json else "%H:%M:%S")
        self._pending: list[str] = []

    def write(self, exchange: Exchange) -> None:
        """Log ``exchange``; lines go out together, at most ``FLUSH_SECONDS`` later, so that a
        server under load writes its log in a few large writes, not one per request."""
        if not self._pending:
            asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
        self._pending.append(self.line(exchange) + "\n")

    def flush(self) -> None:
        """Write the lines not written yet."""
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        self.out.write("".join(lines))
        self.out.flush()

    async def flushed(self, app: object) -> None:
        """An aiohttp ``on_cleanup`` handler: nothing logged is lost when the server stops."""
        self.flush()

    def line(self, exchange: Exchange) -> str:
        now = self.clock()
        if self.json:
            return dumps(facts(exchange, now)).decode()
        incoming, tenant = exchange.incoming, exchange.tenant.name
        status = str(exchange.status or "---")
        said = _printable(outcome(exchange))
        start = f"{now} {incoming.method} {_printable(readable(incoming.path))}"
        if self.colour:
            start = _DIM + start + _RESET
            status = _STATUS_COLOURS.get(exchange.status // 100, "") + status + _RESET
            said = _CYAN + said + _RESET
        return " ".join(
            (
                start,
                *((f"tenant={_printable(tenant)}",) if tenant != DEFAULT_TENANT else ()),
                exchange.profile.name,
                _printable(_model(exchange) or "-"),
                status,
                said,
                *((f"{exchange.chunks} chunks",) if exchange.chunks is not None else ()),
                *((note,) if (note := exchange.api.note(exchange)) else ()),
                *((f"warning: {exchange.warnings[0]}",) if exchange.warnings else ()),
                f"{_duration_ms(exchange):g} ms",
            )
        )
