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
from ..messages import mention_json
from ..providers import Profile
from . import client_schema_rules
from .request import made_integral
from .schema import Invalid, did_you_mean

# Counts the schema takes as integers, which may come as integral decimals (``16.0``).
INTEGER_FIELDS = ("max_output_tokens", "top_logprobs", "max_tool_calls")
_DATED = re.compile(r"_\d{4}_\d{2}_\d{2}$")
_COMPUTER = ("computer_use", "computer_use_preview")  # a computer tool's other names
_CONTINUED = ("previous_response_id", "conversation", "prompt")  # what may bring a conversation
_NAMED = ("function", "custom")  # the tools a tool_choice names by name
# Chat Completions' fields that the Responses API has under another name.
MOVED = {
    "messages": "input",
    "response_format": "text.format",
    "reasoning_effort": "reasoning.effort",
    "max_completion_tokens": "max_output_tokens",
}
OUTPUT_PARTS = ("output_text", "refusal")  # what an assistant's message may hold
# What an input-token count (``POST .../responses/input_tokens``) takes: openai-python's
# ``InputTokenCountParams`` (3.63), each of which may be null.
COUNTED_FIELDS = frozenset((
    "conversation", "input", "instructions", "model", "parallel_tool_calls", "personality",
    "previous_response_id", "reasoning", "text", "tool_choice", "tools", "truncation",
))  # fmt: skip


def check_responses(body: dict[str, Any], profile: Profile) -> None:
    """``body`` checked against ``profile``'s Responses schema; raises ``ApiError``."""
    typed_items(body.get("input"))
    checks = profile.api_checks["responses"]
    try:
        checks.check(body)
    except Invalid as invalid:
        if invalid.code == "unknown_parameter" and len(invalid.reversed_path) == 1:
            raise _unknown_field(str(invalid.top_level_field), body, checks.known_fields) from None
        kind = str(profile.value_error_status) if invalid.value_error else "400"
        raise ApiError(
            kind, message=invalid.text, type="invalid_request_error", param=invalid.path,
            code=invalid.code,
        ) from None  # fmt: skip
    made_integral(body, INTEGER_FIELDS)
    _check_input(body)
    _check_previous_id(body.get("previous_response_id"))
    _check_tool_choice(body)
    if "invalid_schema" in profile.errors:  # OpenAI's rules for a client's schemas
        client_schema_rules.check_responses(body)
    if "json_word_missing" in profile.errors:
        _check_json_mode(body)
    if body.get("conversation") is not None and body.get("previous_response_id") is not None:
        # The live API's sentence, its empty quotes and cut name included (client projects'
        # measurements, 2026).
        raise ApiError(
            "400",
            message="Mutually exclusive parameters: ''. Ensure you are only providing one of: "
            "'pre..._id' or 'conversation'.",
            type="invalid_request_error",
            param=None,
            code="mutually_exclusive_parameters",
        )
    wanted = conversation_id(body)
    if wanted is not None:
        check_conversation_id(wanted, "conversation")


def conversation_id(body: dict[str, Any]) -> str | None:
    """The conversation a checked request goes on in (``conversation``: its id, or an object
    with the id), or None."""
    given = body.get("conversation")
    return given["id"] if isinstance(given, dict) else given


def check_conversation_id(wanted: str, param: str) -> None:
    """Refuse an id that is no conversation id, in the live API's words (``Invalid
    'conversation': 'wa_10_...'. Expected an ID that begins with 'conv'.``, ``invalid_value``,
    as a client project quotes it, 2026)."""
    if not wanted.startswith("conv"):
        raise ApiError(
            "400",
            message=f"Invalid '{param}': '{wanted}'. Expected an ID that begins with 'conv'.",
            type="invalid_request_error",
            param=param,
            code="invalid_value",
        )


def typed_items(items: Any) -> None:
    """Give the input items in ``items`` (a list, else nothing) that leave out their ``type``
    the one OpenAI reads them as: an easy input message (``{"role": ..., "content": ...}``)
    ``message``; an item with an ``id`` alone, or a null ``type``, ``item_reference`` (the
    reference's ``ItemReferenceParam``, whose ``type`` may be left out or null)."""
    if isinstance(items, list):
        for item in items:
            if not isinstance(item, dict) or item.get("type") is not None:
                continue
            if "role" in item:
                item.setdefault("type", "message")
            elif "id" in item:
                item["type"] = "item_reference"


def counted_request(body: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """An input-token count's ``body`` as a response's request: a field of create's the count
    does not take (``stream``, ``store``, ``temperature`` ...), or one that create would say has
    moved to such a field, is an unknown parameter; other fields go to create's checks (the
    profile's rule for unknown fields applies); a null is left out, and ``personality``, which
    changes no count, is dropped."""
    created = profile.api_checks["responses"].known_fields
    for name in body:
        if name in COUNTED_FIELDS:
            continue
        moved = MOVED.get(name)
        if name in created or (moved is not None and moved.split(".")[0] not in COUNTED_FIELDS):
            raise _unknown_parameter(name, body, COUNTED_FIELDS)
    return {
        name: value for name, value in body.items() if value is not None and name != "personality"
    }


def _unknown_field(name: str, body: dict[str, Any], known: frozenset[str]) -> ApiError:
    """A top-level field the Responses API does not know, in the live API's words as its users
    measured them: a Chat Completions field it has under another name is "unsupported" and
    pointed there (``param`` null); another is unknown, with OpenAI's spelling help
    (``schema.did_you_mean``)."""
    if name in MOVED:
        return ApiError(
            "400",
            message=f"Unsupported parameter: '{name}'. In the Responses API, this parameter has "
            f"moved to '{MOVED[name]}'. Try again with the new parameter. See the API "
            "documentation for more information: "
            "https://platform.openai.com/docs/api-reference/responses/create.",
            type="invalid_request_error",
            param=None,
            code="unsupported_parameter",
        )
    return _unknown_parameter(name, body, known)


def _unknown_parameter(name: str, body: dict[str, Any], known: frozenset[str]) -> ApiError:
    """``Unknown parameter: 'name'.``, with OpenAI's spelling help among ``known``."""
    return ApiError(
        "400",
        message=f"Unknown parameter: '{name}'.{did_you_mean(name, known, body)}",
        type="invalid_request_error",
        param=name,
        code="unknown_parameter",
    )


def check_assistant_parts(message: dict[str, Any], where: str) -> None:
    """An assistant's message (the input item at ``where``, ``input[1]``) holds what a model
    says, ``output_text`` or ``refusal`` parts: an ``input_text`` there (a chat history
    converted part by part) is refused as the live API refuses it, ``param`` the part (users
    quote ``input[1].content[0]``). Called for each assistant message as the API reads the input
    (``server.apis.items.taken``)."""
    content = message["content"]
    if isinstance(content, list):
        for position, part in enumerate(content):
            if part.get("type") not in OUTPUT_PARTS:
                raise ApiError(
                    "400",
                    message=f"Invalid value: '{part['type']}'. Supported values are: "
                    "'output_text' and 'refusal'.",
                    type="invalid_request_error",
                    param=f"{where}.content[{position}]",
                    code="invalid_value",
                )


def _check_previous_id(previous: str | None) -> None:
    """A ``previous_response_id`` that is no response id at all (OpenAI's ids begin with
    ``resp``), in the live API's words as relayed by OpenRouter (code ``invalid_id_prefix``)."""
    if previous is not None and not previous.startswith("resp"):
        raise ApiError(
            "400",
            message=f"Invalid 'previous_response_id': '{previous}'. Expected an ID that begins "
            "with 'resp'.",
            type="invalid_request_error",
            param="previous_response_id",
            code="invalid_id_prefix",
        )


def _check_tool_choice(body: dict[str, Any]) -> None:
    """A ``tool_choice`` naming a tool the request does not offer (a function or custom tool by
    its name, inside a ``namespace`` too; a hosted tool by its type, a dated version such as
    ``web_search_2025_08_26`` standing for its family): OpenAI's 400, in the words its users
    quote (``Tool choice 'image_generation' not found in 'tools' parameter.``, ``param:
    tool_choice``). Not checked when a ``prompt`` may bring tools of its own."""
    choice = body.get("tool_choice")
    if not isinstance(choice, dict) or choice["type"] == "allowed_tools" or body.get("prompt"):
        return
    tools = [tool for tool in body.get("tools") or () if isinstance(tool, dict)]
    if choice["type"] in _NAMED:
        name = wanted = choice["name"]
        offered = tool_names(tools, choice["type"])
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


def _check_input(body: dict[str, Any]) -> None:
    """A request with nothing to answer: no ``input`` (or an empty list), and no conversation
    it goes on from (``previous_response_id``, ``conversation``, a ``prompt``); ``instructions``
    alone are not enough (pydantic-ai's note on the live API; litellm#41159 records the 400 for
    ``input: []``). The wording is the API's own for a missing field and an empty array."""
    given = body.get("input")
    if given not in (None, []) or _continued(body):
        return
    if given is None:
        message, code = "Missing required parameter: 'input'.", "missing_required_parameter"
    else:
        message = (
            "Invalid 'input': empty array. Expected an array with minimum length 1, but got an "
            "empty array instead."
        )
        code = "empty_array"
    raise ApiError("400", message=message, type="invalid_request_error", param="input", code=code)


def _check_json_mode(body: dict[str, Any]) -> None:
    """JSON mode (``text.format: json_object``) asks for the word ``json`` in the input's
    messages; ``instructions`` do not count. In the live API's words (a client project's
    recorded answer, openai-compatible clients' reports, 2025-2026). Not checked when the
    conversation goes on from elsewhere (``previous_response_id``, ``conversation``, a
    ``prompt``), whose messages may say it."""
    if ((body.get("text") or {}).get("format") or {}).get("type") != "json_object":
        return
    if _continued(body):
        return
    given = body.get("input")
    said = [{"content": given}] if isinstance(given, str) else given
    if not mention_json([i for i in said or () if i.get("type", "message") == "message"]):
        raise ApiError(
            "400",
            message="Response input messages must contain the word 'json' in some form to use "
            "'text.format' of type 'json_object'.",
            type="invalid_request_error",
            param="text.format",
            code=None,
        )


def _continued(body: dict[str, Any]) -> bool:
    """Whether the request goes on from a conversation held elsewhere (``_CONTINUED``)."""
    return any(body.get(key) is not None for key in _CONTINUED)


def tool_names(tools: list[dict[str, Any]], kind: str) -> set[str]:
    """The names of the tools of ``kind`` (``function``, ``custom``) offered, those inside a
    ``namespace`` tool too."""
    inside = [inner for tool in tools if tool.get("type") == "namespace" for inner in tool["tools"]]
    return {
        tool["name"]
        for tool in (*tools, *inside)
        if tool.get("type") == kind and isinstance(tool.get("name"), str)
    }


def _family(kind: Any) -> Any:
    """A hosted tool's type without its date (``web_search_preview_2025_03_11`` ->
    ``web_search_preview``); the computer tool by any of its names (``computer_use``,
    ``computer_use_preview``)."""
    if not isinstance(kind, str):
        return kind
    kind = _DATED.sub("", kind)
    return "computer" if kind in _COMPUTER else kind
