"""Checking a Responses API request (``POST .../responses``), as OpenAI checks it.

The profile's Responses schema (``api_request_schemas.responses``), worded as the Responses API
words its errors: ``Unknown parameter: 'x'.`` (code ``unknown_parameter``), ``Missing required
parameter: 'model'.``, ``Invalid type for 'input[1].content': ...``, with the ``param`` path of
the offending field. An input item with a ``role`` and no ``type`` is a message, as OpenAI reads
it (the SDKs send messages so). What needs the tenant's stored responses (``previous_response_id``,
``item_reference``) is checked by the API (``server.apis.responses``).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ApiError
from ..providers import Profile
from .request import made_integral
from .schema import Invalid

# Counts the schema takes as integers, which may come as integral decimals (``16.0``).
INTEGER_FIELDS = ("max_output_tokens", "top_logprobs", "max_tool_calls")
_DATED = re.compile(r"_\d{4}_\d{2}_\d{2}$")


def check_responses(body: dict[str, Any], profile: Profile) -> None:
    """``body`` checked against ``profile``'s Responses schema; raises ``ApiError``."""
    items = body.get("input")
    if isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and "type" not in item and "role" in item:
                item["type"] = "message"
    try:
        profile.api_checks["responses"].check(body)
    except Invalid as invalid:
        kind = str(profile.value_error_status) if invalid.value_error else "400"
        raise ApiError(
            kind, message=invalid.text, type="invalid_request_error", param=invalid.path,
            code=invalid.code,
        ) from None  # fmt: skip
    made_integral(body, INTEGER_FIELDS)
    _check_tool_choice(body)
    if body.get("conversation") is not None:
        raise ApiError(
            "400",
            message="The Conversations API is not emulated: 'conversation' is not supported here; "
            "chain responses with 'previous_response_id'.",
            type="invalid_request_error",
            param="conversation",
            code="unsupported_parameter",
        )


def _check_tool_choice(body: dict[str, Any]) -> None:
    """A ``tool_choice`` naming a tool the request does not offer (a function by its name, a
    hosted tool by its type, a dated version such as ``web_search_2025_08_26`` standing for its
    family): OpenAI's 400, in the words its users quote (``Tool choice 'image_generation' not
    found in 'tools' parameter.``, ``param: tool_choice``). Not checked when a ``prompt`` may
    bring tools of its own."""
    choice = body.get("tool_choice")
    if not isinstance(choice, dict) or choice["type"] == "allowed_tools" or body.get("prompt"):
        return
    tools = [tool for tool in body.get("tools") or () if isinstance(tool, dict)]
    if choice["type"] == "function":
        name = wanted = choice["name"]
        offered = {tool.get("name") for tool in tools if tool.get("type") == "function"}
    else:
        name, wanted = choice["type"], _family(choice["type"])
        offered = {_family(tool.get("type")) for tool in tools}
    if wanted not in offered:
        raise ApiError(
            "400",
            message=f"Tool choice '{name}' not found in 'tools' parameter.",
            type="invalid_request_error",
            param="tool_choice",
            code=None,
        )


def _family(kind: Any) -> Any:
    """A hosted tool's type without its date: ``web_search_preview_2025_03_11`` ->
    ``web_search_preview``."""
    return _DATED.sub("", kind) if isinstance(kind, str) else kind
