"""A journal entry as a scenario: the YAML that answers that exact request again ("save as
scenario" in the inspector, ``GET /__admin/requests/{id}/scenario``)."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import yaml

_GLOB_CHARS = re.compile(r"[*?\[]")


def scenario_for(entry: dict[str, Any]) -> dict[str, Any]:
    """A scenario matching ``entry``'s model and last user message exactly, answering with what
    the server answered (its message, or its error)."""
    body = entry["body"] if isinstance(entry["body"], dict) else {}
    text = entry.get("last_user_message") or ""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "request"
    match: dict[str, Any] = {"last_user_message": {"equals": text}}
    model = body.get("model")
    if isinstance(model, str):
        match["model"] = {"equals": model} if _GLOB_CHARS.search(model) else model
    scenario: dict[str, Any] = {
        "name": f"{slug}-{entry['id'][-6:]}",
        "profile": entry["profile"],
        "match": match,
        "reply": _reply(entry),
    }
    return scenario


def _reply(entry: dict[str, Any]) -> dict[str, Any]:
    response = entry.get("response")
    if entry["status"] >= 400:
        error = _error_of(response)
        return {"status": entry["status"], "error": error} if error else {"status": entry["status"]}
    choices = response.get("choices") if isinstance(response, dict) else None
    message = (choices[0].get("message") or {}) if choices else {}
    reply: dict[str, Any] = {}
    for key in ("content", "reasoning_content", "refusal"):
        if isinstance(message.get(key), str):
            reply[key] = message[key]
    calls = []
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        arguments = function.get("arguments", "{}")
        with contextlib.suppress(TypeError, ValueError):  # else kept as the string it was
            arguments = json.loads(arguments)
        calls.append(
            {"name": function.get("name", ""), "arguments": arguments, "id": call.get("id", "")}
        )
    if calls:
        reply["tool_calls"] = calls
    return reply or {"content": ""}


def _error_of(response: Any) -> dict[str, Any] | None:
    envelope = response[0] if isinstance(response, list) and response else response
    error = envelope.get("error") if isinstance(envelope, dict) else None
    if not isinstance(error, dict):
        return None
    return {k: error[k] for k in ("message", "type", "param", "code") if k in error}


def scenario_yaml(entry: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {"scenarios": [scenario_for(entry)]}, sort_keys=False, allow_unicode=True, width=100
    )
