"""Input items as the Responses and Conversations APIs take and list them: references to stored
items resolved, each with an id, a message's content as parts, no id twice; and pages of them
(``GET .../responses/{id}/input_items``, ``GET .../conversations/{id}/items``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...checks.responses import check_assistant_parts
from ...errors import ApiError
from ...jsonio import dumps
from ...wire.ids import Ids
from ..headers import readable
from ..tenant_state import KeyedStore, held_by

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


def taken(
    given: list[dict[str, Any]], store: KeyedStore, ids: Ids, field: str
) -> tuple[list[dict[str, Any]], int]:
    """The checked input items ``given`` (sent as ``field``: ``input``, ``items``) as they are
    kept: an ``item_reference``, or a reasoning item sent back by its id alone, as the stored
    item it names (``store``'s responses and conversations; an unknown one is the live API's
    404); an assistant's message with its parts checked; each with an id (``listed``). And what
    the stored items it names hold in memory."""
    items: list[dict[str, Any]] = []
    referenced = 0
    stored: dict[str, dict[str, Any]] | None = None  # indexed once, when first needed
    for index, item in enumerate(given):
        where = f"{field}[{index}]"
        if item["type"] == "item_reference" or _by_id_alone(item):
            if stored is None:
                stored = _stored_items(store)
            items.append(_referenced(stored, item["id"], where))
            referenced += held_by(dumps(items[-1]))
        else:
            if item["type"] == "message" and item["role"] == "assistant":
                check_assistant_parts(item, where)
            items.append(listed(item, ids))
    return items, referenced


def check_unique(items: list[dict[str, Any]], field: str) -> None:
    """Refuse an item that comes twice (``items`` of one conversation, with those it goes on
    from): a page could not go on past it. In the live API's words, ``param`` ``field``."""
    seen: set[str] = set()
    for item in items:
        if item["id"] in seen:
            raise ApiError(
                "400",
                message=f"Duplicate item found with id {item['id']}. Remove duplicate items "
                "from your input and try again.",
                type="invalid_request_error",
                param=field,
                code=None,
            )
        seen.add(item["id"])


def _stored_items(store: KeyedStore) -> dict[str, dict[str, Any]]:
    """Every item of every response and conversation this tenant stored, by id (one pass,
    however many references a request holds)."""
    found: dict[str, dict[str, Any]] = {}
    for key in store:
        for item in store.get(key).held_items():
            found.setdefault(item.get("id"), item)
    return found


def _by_id_alone(item: dict[str, Any]) -> bool:
    """A reasoning item sent back by its id without its ``encrypted_content``: the API must have
    stored it (one with neither is taken as it is)."""
    return item["type"] == "reasoning" and not item.get("encrypted_content") and "id" in item


def _referenced(stored: dict[str, dict[str, Any]], wanted: str, where: str) -> dict[str, Any]:
    """The stored item ``wanted`` names (the input item at ``where``); one never stored is a 404
    in the live API's words (vercel/ai#7543, can1357/oh-my-pi#41: a reasoning item sent back by
    id after ``store: false``)."""
    if wanted in stored:
        return stored[wanted]
    raise ApiError(
        "404",
        message=f"Item with id '{wanted}' not found. Items are not persisted when `store` is set "
        "to false. Try again with `store` set to true, or remove this item from your input.",
        type="invalid_request_error",
        param=f"{where}.id",
        code=None,
    )


def listed(item: dict[str, Any], ids: Ids) -> dict[str, Any]:
    """An input item as the API lists it: with an id (a new one unless it has one), a
    message's content as parts, each part as listed (a function call output's too)."""
    kind = item["type"]
    given = item.get("id")
    made = given or ids.item(ID_PREFIXES.get(kind) or "".join(w[0] for w in kind.split("_")))
    if kind == "message":
        content, role = item["content"], item["role"]
        if type(content) is str:
            parts = [_text_part(content, role == "assistant")]
        else:
            parts = [_listed_part(part) for part in content]
        return {
            "id": made, "type": "message", "status": item.get("status", "completed"),
            "role": role, "content": parts,
        }  # fmt: skip
    out = {"status": "completed", **item, "id": made}
    if kind == "function_call_output" and isinstance(item["output"], list):
        out["output"] = [_listed_part(part) for part in item["output"]]
    return out


def _text_part(text: str, by_assistant: bool) -> dict[str, Any]:
    """A message's text given as a string, as the part the API lists it as."""
    if by_assistant:
        return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    return {"type": "input_text", "text": text}


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
    """A query parameter's value refused, as the API words it."""
    return ApiError(
        "400",
        message=f"Invalid value for '{name}': {readable(str(value))!r}. {why}",
        type="invalid_request_error",
        param=name,
        code=None,
    )
