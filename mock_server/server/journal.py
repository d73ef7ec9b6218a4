"""The request journal: what each API request was and what became of it.

An entry is a tuple of atomic values — the raw request body and the exact response bytes, the raw
header pairs, strings and numbers — so keeping thousands costs little memory and nothing at
garbage collection (the collector does not track such containers). Entries are decoded into
JSON only when read (``entry_json``); Authorization and API-key headers are redacted then, and
credentials in bodies (``sk-...`` keys, bearer tokens, values of keys named like ``api_key``)
replaced, so nothing unredacted ever leaves the process.
"""

from __future__ import annotations

import time
from typing import Any

from ..jsonio import MAX_NESTING, dumps, loads, nests_deeper_than
from ..messages import last_user_said
from ..redaction import Scrubber, redact_headers
from .exchange import Exchange
from .headers import readable

BODY_LIMIT = 256 * 1024  # larger request and response bodies are summarised, not kept
ENTRY_OVERHEAD = 600  # bytes an entry costs besides its bodies: the tuple, its strings, numbers
HEADER_BYTES = 64  # what one raw header pair costs, on average
_SCRUBBER = Scrubber()  # credentials in bodies are shown as [REDACTED]


FIELDS = (
    "id", "time", "duration_ms", "tenant", "method", "path", "profile", "api", "headers", "body",
    "body_bytes", "status", "scenario", "step", "matched", "unmatched", "near_miss", "stream",
    "chunks", "fault", "response", "response_bytes", "chunk_ms", "recorded", "warnings",
    "client_left", "asked",
)  # fmt: skip


def record(exchange: Exchange, raw_body: bytes | None, response_body: bytes | None) -> None:
    """Append what happened to ``exchange`` to its tenant's journal, as a tuple of ``FIELDS``."""
    selection = exchange.selection
    body_size = len(raw_body) if raw_body is not None else 0
    kept_body = raw_body if body_size <= BODY_LIMIT else None
    if exchange.chunks is not None or (exchange.api.summarised and exchange.written):
        response_body = _summary(exchange)
    response_size = len(response_body) if response_body is not None else 0
    kept_response = response_body if response_size <= BODY_LIMIT else None
    near_miss = dumps(exchange.near_miss) if exchange.near_miss else None
    headers = exchange.incoming.raw_headers
    exchange.tenant.journal.append(
        (
            exchange.request_id,
            time.time(),
            round((time.monotonic() - exchange.started) * 1000, 3),
            exchange.tenant.name,
            exchange.incoming.method,
            exchange.incoming.path,
            exchange.profile.name,
            exchange.api.name,
            headers,
            kept_body,
            body_size,
            exchange.status,
            selection.scenario.name if selection else None,
            selection.step + 1 if selection else None,
            selection is not None,
            # A placeholder answered a valid request: the fallback reply, or strict mode's 404,
            # whatever is loaded to come near it; a fault asked for (``X-Mock-Fault``, chaos)
            # answers it in the reply's stead.
            exchange.placeholder and exchange.fault is None,
            near_miss,
            exchange.chunks is not None,
            exchange.chunks,
            exchange.fault,
            kept_response,
            response_size,
            tuple(exchange.chunk_ms),
            exchange.recorded,
            exchange.warnings,
            exchange.client_left,
            exchange.asked,
        ),
        ENTRY_OVERHEAD
        + (body_size if kept_body is not None else 0)
        + (response_size if kept_response is not None else 0)
        + (len(near_miss) if near_miss else 0)
        + HEADER_BYTES * len(headers)
        + 8 * len(exchange.chunk_ms)
        + (sum(map(len, exchange.warnings)) if exchange.warnings else 0),
    )


def _summary(exchange: Exchange) -> bytes | None:
    """A streamed or summarised answer as the journal keeps it."""
    if exchange.written is None:
        return exchange.summary  # a relayed stream's, if any
    return dumps(exchange.written.summary())


def entry(values: tuple[Any, ...]) -> dict[str, Any]:
    """A stored journal tuple as a mapping of ``FIELDS``."""
    return dict(zip(FIELDS, values, strict=True))


def entry_json(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry as JSON: bodies decoded, headers redacted."""
    out = dict(entry)
    out["path"] = readable(entry["path"])
    out["headers"] = redact_headers(entry["headers"])
    body = _SCRUBBER.value(_decoded(entry["body"]))
    if body is None and entry["body_bytes"] > BODY_LIMIT:
        body = {"truncated": True, "bytes": entry["body_bytes"]}
    out["body"] = body
    out["near_miss"] = _decoded(entry["near_miss"])
    out["warnings"] = list(entry["warnings"])
    response = _SCRUBBER.value(_decoded(entry["response"]))
    if response is None and entry["response_bytes"] > BODY_LIMIT:
        response = {"truncated": True, "bytes": entry["response_bytes"]}
    out["response"] = response
    out["last_user_message"] = last_user_said(body) if isinstance(body, dict) else None
    return out


def sent_body(entry: dict[str, Any]) -> Any:
    """A journal entry's request body as sent, credentials and all: only for conditions that
    match it again, which ``record.identity`` writes as patterns, never the secrets."""
    return _decoded(entry["body"])


def _decoded(data: bytes | None) -> Any:
    """Stored bytes as JSON; as text when they are not JSON, or nest too deep to send on."""
    if data is None:
        return None
    try:
        value = loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")
    if data.count(b"[") + data.count(b"{") > MAX_NESTING and nests_deeper_than(value):
        return data.decode("utf-8", "replace")
    return value
