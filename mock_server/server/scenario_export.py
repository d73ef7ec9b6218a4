"""A journal entry as a scenario: the YAML that answers that exact request again ("save as
scenario" in the inspector, ``GET /__admin/requests/{id}/scenario``). It is built the way the
recorder builds one (``record.identity``, ``record.capture``), from what the server answered."""

from __future__ import annotations

from typing import Any

from ..engine.request_view import RequestView
from ..record.capture import completion_reply, error_reply
from ..record.identity import match_conditions, scenario_name
from ..redaction import Scrubber
from ..yamlio import dump_yaml

_SCRUBBER = Scrubber()


def scenario_for(entry: dict[str, Any], view: RequestView, scripted: bool = True) -> dict[str, Any]:
    """A scenario matching ``entry``'s request as a recording would, from ``view``, the request
    as scenarios saw it (``Api.journal_view``), answering with what the server answered (its
    message, or its error). For an API whose answers no scenario scripts (not ``scripted``:
    embeddings' vectors), a scenario for its API and model, answering its error, or as the
    server answers by itself."""
    if not scripted:
        failed = entry["status"] >= 400
        name = f"{entry['profile']}-{view.api}-{entry['status'] if failed else 'ok'}"
        return {
            "name": name,
            "profile": entry["profile"],
            "match": {"api": view.api, "model": view.model},
            "reply": error_reply(entry["status"], entry.get("response"), {}, _SCRUBBER)
            if failed
            else {},
        }
    match = match_conditions(view, _SCRUBBER, replayed=False)
    response = entry.get("response")
    if entry["status"] >= 400:
        reply = error_reply(entry["status"], response, {}, _SCRUBBER)
    else:
        completion = completion_reply(response, _SCRUBBER)
        reply = completion[0] if completion is not None else {"content": ""}
        reply.pop("usage", None)  # counted afresh for each request, as the original was
    return {
        "name": scenario_name(entry["profile"], match, view, _SCRUBBER),
        "profile": entry["profile"],
        "match": match,
        "reply": reply,
    }


def scenario_yaml(entry: dict[str, Any], view: RequestView, scripted: bool = True) -> str:
    return dump_yaml({"scenarios": [scenario_for(entry, view, scripted)]})
