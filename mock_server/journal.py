"""The request journal: what each chat-completions request was and what became of it.

Entries go into the tenant's bounded ring buffer as plain records; they are turned into JSON
only when someone reads them (``entry_json``), so journaling costs a request little.
Authorization and API-key headers are redacted before anything is kept.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .config import redact
from .tokens import content_text

if TYPE_CHECKING:
    from .app import Exchange

SECRET_HEADERS = frozenset(
    {"authorization", "api-key", "x-api-key", "x-goog-api-key", "x-admin-token"}
)
BODY_LIMIT = 256 * 1024  # bodies larger than this are summarised, not kept


def redact_headers(headers: Any) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in SECRET_HEADERS:
            scheme, _, secret = value.partition(" ")
            value = f"{scheme} {redact(secret)}" if secret else redact(value)
        out[lower] = value
    return out


def _kept_body(exchange: Exchange) -> Any:
    body = exchange.body
    size = exchange.request.content_length or 0
    if body is None or size <= BODY_LIMIT:
        return body
    return {
        "truncated": True,
        "bytes": size,
        "model": body.get("model"),
        "messages": len(body.get("messages") or ()),
    }


def record(exchange: Exchange) -> None:
    """Append what happened to ``exchange`` to its tenant's journal."""
    selection = exchange.selection
    exchange.tenant.journal.append(
        {
            "id": exchange.request_id,
            "time": time.time(),
            "duration_ms": round((time.monotonic() - exchange.started) * 1000, 3),
            "tenant": exchange.tenant.name,
            "method": exchange.request.method,
            "path": exchange.request.path,
            "profile": exchange.profile.name,
            "headers": redact_headers(exchange.request.headers),
            "body": _kept_body(exchange),
            "status": exchange.status,
            "error": exchange.error,
            "scenario": selection.scenario.name if selection else None,
            "step": selection.step + 1 if selection else None,
            "matched": selection is not None,
            "near_miss": exchange.near_miss,
            "response": exchange.response,
        }
    )


def entry_json(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry as JSON, the response summarised."""
    out = dict(entry)
    response = entry.get("response") or {}
    completion = response.get("completion")
    summary: dict[str, Any] = {}
    if completion is not None:
        summary["id"] = completion.id
        summary["choices"] = [
            {
                "content": choice.content,
                "reasoning_content": choice.reasoning_content,
                "refusal": choice.refusal,
                "tool_calls": [
                    {"id": c.id, "name": c.name, "arguments": c.arguments}
                    for c in choice.tool_calls
                ],
                "finish_reason": choice.derived_finish_reason(),
            }
            for choice in completion.choices
        ]
        summary["usage"] = completion.usage()
    if "chunks" in response:
        summary["stream"] = {"chunks": response["chunks"]}
    if "fault" in response:
        summary["fault"] = response["fault"]
    out["response"] = summary or None
    out["last_user_message"] = _last_user(entry.get("body"))
    return out


def _last_user(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for message in reversed(body.get("messages") or ()):
        if isinstance(message, dict) and message.get("role", "user") == "user":
            return content_text(message.get("content"))
    return None
