"""Items as the Responses and Conversations APIs list them: with an id, a message's content as
parts; pages of them (``GET .../responses/{id}/input_items``, ``GET
.../conversations/{id}/items``); and the JSON answers of those reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import ApiError
from ...wire.answer import Answer
from ...wire.ids import Ids
from ..exchange import Exchange
from ..headers import readable
from ..render import answer_headers, json_answer

# The ids OpenAI gives items: their prefixes (other kinds sent without an id get the initials
# of their type: ``custom_tool_call_output``, ``ctco_...``).
ID_PREFIXES = {
    "message": "msg",
    "function_call": "fc",
    "function_call_output": "fco",
    "reasoning": "rs",
    "web_search_call": "ws",
    "file_search_call": "fs",
    "computer_call": "cu",
    "image_generation_call": "ig",
    "code_interpreter_call": "ci",
    "mcp_call": "mcp",
    "mcp_list_tools": "mcpl",
    "mcp_approval_request": "mcpr",
    "custom_tool_call": "ctc",
}
LIST_LIMIT = (1, 100, 20)  # a page: the least, most and default number of items
# What a JSON object or array costs in memory beyond its text: 320 to 640 bytes an input item
# (a dict, its content parts, the id the store gives it), measured with tracemalloc.
OBJECT_BYTES = 320


def listed(item: dict[str, Any], ids: Ids) -> dict[str, Any]:
    """An input item as the API lists it: with an id (a new one unless it has one), a
    message's content as parts, each part as listed (a function call output's too)."""
    kind = item["type"]
    prefix = ID_PREFIXES.get(kind) or "".join(word[0] for word in kind.split("_"))
    out = {"status": "completed", **item, "id": item.get("id") or ids.item(prefix)}
    if kind == "function_call_output" and isinstance(item["output"], list):
        out["output"] = [_listed_part(part) for part in item["output"]]
    elif kind == "message":
        content = item["content"]
        by_assistant = item["role"] == "assistant"
        if isinstance(content, str):
            content = [{"type": "output_text" if by_assistant else "input_text", "text": content}]
        content = [_listed_part(part) for part in content]
        out = {
            "id": out["id"], "type": "message", "status": out["status"], "role": item["role"],
            "content": content,
        }  # fmt: skip
    return out


def _listed_part(part: dict[str, Any]) -> dict[str, Any]:
    """A message's content part (or a function call output's) as the API lists it: model
    output text as the model's own output is listed (``OutputTextContent``), an image with its
    ``detail`` (``auto`` when the request left it out: ``InputImageContent`` requires it in what
    the API returns, and the SDK reads a message without it as model output)."""
    kind = part["type"]
    if kind == "output_text":
        return {"type": "output_text", "annotations": [], "logprobs": [], **part}
    if kind == "input_image" and "detail" not in part:
        return {**part, "detail": "auto"}
    return part


def page(items: list[dict[str, Any]], query: Mapping[str, str]) -> dict[str, Any]:
    """A page of ``items`` (oldest first) as a list object: ``order`` ``desc`` (OpenAI's
    default) or ``asc``, ``limit`` 1 to 100 (20), ``after`` the id of the last item of the page
    before."""
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_query("order", order, "Supported values are: 'asc' and 'desc'.")
    least, most, default = LIST_LIMIT
    try:
        limit = int(query.get("limit", default))
    except ValueError:
        limit = 0
    if not least <= limit <= most:
        raise bad_query("limit", query.get("limit"), f"Must be between {least} and {most}.")
    ordered = items if order == "asc" else items[::-1]
    after = query.get("after")
    if after is not None:
        ids = [item["id"] for item in ordered]
        if after not in ids:
            raise bad_query("after", after, "No item has that id.")
        ordered = ordered[ids.index(after) + 1 :]
    return listing(ordered[:limit], has_more=len(ordered) > limit)


def listing(data: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    """``data`` as the API's list object."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def not_found(kind: str, wanted: str) -> ApiError:
    """The 404 for an unknown id, as OpenAI words it (``Response with id '...' not found.``)."""
    return ApiError(
        "404",
        message=f"{kind} with id '{wanted}' not found.",
        type="invalid_request_error",
        param=None,
        code=None,
    )


def bad_query(name: str, value: Any, why: str) -> ApiError:
    return ApiError(
        "400",
        message=f"Invalid value for '{name}': {readable(str(value))!r}. {why}",
        type="invalid_request_error",
        param=name,
        code=None,
    )


def json_read(exchange: Exchange, payload: Any) -> Answer:
    """``payload`` as the profile writes a body, with its headers (processing time too)."""
    profile = exchange.profile
    headers = answer_headers(profile, {}, exchange.request_id, exchange.started)
    return json_answer(payload, headers=headers, style=profile.body_format)


def held_by(data: bytes) -> int:
    """A bound on what JSON text ``data`` holds in memory once parsed: its bytes, and
    ``OBJECT_BYTES`` for each bracket that may open an object or an array."""
    return len(data) + OBJECT_BYTES * (data.count(b"{") + data.count(b"["))
