"""Checking a parsed request body, in the order a provider applies it.

1. the profile's request schema (structure, types, required and unknown fields: 400; values out
   of range or not in an enum: the profile's ``value_error_status``);
2. the fields the server itself reads (``schemas/read-fields.json``), for every profile: a field
   a profile passes through is checked before it is used, and every count that sizes a reply
   is bounded;
3. semantic rules a schema cannot express, worded as OpenAI words them.

Every failure raises ``ApiError``. Integral numbers written as decimals (``"n": 2.0``) pass
JSON Schema's ``integer`` and, as OpenAI does, count as that integer: they are made ``int`` here.
"""

from __future__ import annotations

from typing import Any

from ..caches import BoundedCache
from ..errors import ApiError
from ..messages import mention_json
from . import client_schema_rules, reasoning
from .profiles import Profile
from .schema import Invalid, did_you_mean

INTEGER_FIELDS = ("n", "max_tokens", "max_completion_tokens", "top_logprobs")
PROMPT_CACHE_RETENTIONS = ("in_memory", "24h")


def check_request(body: dict[str, Any], profile: Profile) -> tuple[str, ...]:
    """Check ``body`` against the profile's schema, then the semantic rules. Returns the
    integer fields written as decimals, which are made integers."""
    try:
        profile.check_request(body)
        profile.check_read_fields(body)
    except Invalid as invalid:
        raise schema_error(invalid, profile, body, profile.known_fields) from None
    decimals = made_integral(body, INTEGER_FIELDS)
    check_semantics(body)
    if "invalid_schema" in profile.errors:  # OpenAI's rules for a client's schemas
        client_schema_rules.check_chat(body)
        _check_parallel_tool_calls(body)
    if "response_format" in body and "json_word_missing" in profile.errors:
        _check_json_mode(body)
    if "prompt_cache_retention" in profile.known_fields:
        _check_retention(body.get("prompt_cache_retention"))
    reasoning.check_chat(body, profile)
    if "missing_content" in profile.errors:  # last of all, as OpenAI checks it
        _check_contents(body.get("messages") or ())
    return decimals


def made_integral(body: dict[str, Any], names: tuple[str, ...]) -> tuple[str, ...]:
    """The fields of ``names`` that ``body`` writes as integral decimals (``"n": 2.0``), now
    made integers."""
    decimals = tuple(name for name in names if type(body.get(name)) is float)
    _integers(body, decimals)
    return decimals


def _integers(body: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        body[name] = int(body[name])


class PassedBodies:
    """``check_request`` remembering the bodies that passed, by their bytes, profile and API.

    The same bytes parse to the same body, which the same checks pass again: a body sent
    before (a CI suite's prompts, a load test's one request) is answered without checking it
    a second time, and gets exactly the verdict it would get. Failures are not kept (each one
    is checked, and worded, afresh); what is kept is the fields made integers. Bounded: bodies
    up to ``max_bytes`` (a larger one would push out many), at most ``max_entries`` of them,
    the least recently sent forgotten first; ``registry`` lists the cache as
    ``passed_bodies``."""

    def __init__(
        self,
        max_entries: int = 512,
        max_bytes: int = 8192,
        registry: dict[str, BoundedCache[Any, Any]] | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.passed: BoundedCache[tuple[str, str, bytes], tuple[str, ...]] = BoundedCache(
            "passed_bodies", max_entries, max_bytes=max_entries * max_bytes, registry=registry
        )

    def check(self, api: str, raw: bytes, body: dict[str, Any], profile: Profile) -> None:
        """``check_request(body, profile)``, where ``body`` is what ``raw``, sent to ``api``,
        parses to."""
        key = (api, profile.name, raw)
        decimals = self.passed.get(key)
        if decimals is None:
            decimals = check_request(body, profile)
            if len(raw) <= self.max_bytes:
                self.passed.put(key, decimals, len(raw))
        elif decimals:
            _integers(body, decimals)


def check_model(body: dict[str, Any], profile: Profile) -> None:
    """With ``unknown_models: reject``, a model the profile does not list is a 404, as real
    providers answer it."""
    model = body.get("model")
    if model not in profile.models and model not in profile.model_aliases.values():
        raise ApiError("404", values={"model": model}, param="model", code="model_not_found")


def schema_error(
    invalid: Invalid, profile: Profile, body: dict[str, Any], known: frozenset[str]
) -> ApiError:
    """A schema violation as the answer ``profile`` gives it; ``known``: the top-level fields
    of the schema, for the names of every unknown one."""
    if invalid.code == "unknown_parameter" and len(invalid.reversed_path) == 1:
        name = str(invalid.top_level_field)
        names = [key for key in body if key not in known]
        suggestion = did_you_mean(name, known, body)
        values = {"name": name, "names": names, "suggestion": suggestion}
        return ApiError("unknown_field", param=name, values=values)
    missing = invalid.code == "missing_required_parameter"
    if missing and invalid.path == "model" and "missing_model" in profile.errors:
        return ApiError("missing_model")  # a profile's own words for it
    kind = str(profile.value_error_status) if invalid.value_error else "400"
    return ApiError(kind, invalid.text, param=invalid.path, code=invalid.code)


def _check_contents(messages: Any) -> None:
    """A message without content, but an assistant's with a tool call, function call, refusal or
    audio in its place (none of them null), and a function's result: the catalog's
    ``missing_content``, ``param`` ``messages.[i].content`` as OpenAI writes it, after every
    other rule (client projects' measurements, 2026). A profile's schema may require content
    itself (OpenAI's developer message does)."""
    for index, message in enumerate(messages):
        if type(message) is not dict or message.get("content") is not None:
            continue
        if message.get("role") == "assistant" and _stands_in(message):
            continue
        if message.get("role") == "function":  # its result may be null (openai-python's
            continue  # ChatCompletionFunctionMessageParam: ``content: Required[Optional[str]]``)
        raise ApiError("missing_content", param=f"messages.[{index}].content")


def _stands_in(message: dict[str, Any]) -> bool:
    """Whether an assistant's message has what stands in for content (an agent's turn: its tool
    calls, looked at first)."""
    return (
        message.get("tool_calls") is not None
        or message.get("function_call") is not None
        or message.get("refusal") is not None
        or message.get("audio") is not None
    )


def _check_retention(retention: Any) -> None:
    """A ``prompt_cache_retention`` the API does not offer, in chat's own sentence (where the
    Responses API lists the values: client projects' measurements, 2026)."""
    if retention is not None and retention not in PROMPT_CACHE_RETENTIONS:
        raise ApiError(
            "400",
            "Invalid prompt_cache_retention argument",
            param="prompt_cache_retention",
            code=None,
        )


def check_semantics(body: dict[str, Any]) -> None:
    """Rules between fields, each with the provider's wording."""
    _check_tool_messages(body.get("messages") or [])
    _check_tool_choice(body)
    if body.get("stream_options") is not None and body.get("stream") is not True:
        raise ApiError(
            "400",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code=None,
        )
    if body.get("top_logprobs") is not None and body.get("logprobs") is not True:
        raise ApiError(
            "400",
            "The 'top_logprobs' parameter is only allowed when 'logprobs' is enabled.",
            param="top_logprobs",
            code=None,
        )


def _check_json_mode(body: dict[str, Any]) -> None:
    """JSON mode (``response_format: json_object``) asks for the word ``json`` in the
    messages: the catalog's ``json_word_missing``."""
    if (body.get("response_format") or {}).get("type") == "json_object" and not mention_json(
        body.get("messages")
    ):
        raise ApiError("json_word_missing", param="messages")


def _check_tool_messages(messages: list[Any]) -> None:
    """Tool messages answer the calls of the assistant message before them, and each call is
    answered before the next message. OpenAI words the refusals in its older checks' style,
    ``param`` ``messages.[i].role``, "preceeding" as it spells it (its answers quoted in
    miurla/morphic#136, smarter-sh/smarter#264, pydantic/pydantic-ai#3067,
    tensorzero/tensorzero#4880, 2024 to 2025)."""
    open_calls: dict[str, int] = {}  # ids of the last assistant tool_calls still unanswered
    open_since: int | None = None
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if open_since is None:
                raise ApiError(
                    "400",
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    param=f"messages.[{index}].role",
                    code=None,
                )
            if call_id not in open_calls:
                raise ApiError(
                    "400",
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                    f"'tool_calls' of previous message.",
                    param=f"messages[{index}].tool_call_id",
                    code=None,
                )
            del open_calls[call_id]
            continue
        if open_calls:
            _require_answers(open_calls, open_since)
        calls = message.get("tool_calls") if role == "assistant" else None
        if calls:
            open_calls = {c.get("id"): i for i, c in enumerate(calls) if isinstance(c, dict)}
            open_since = index
        elif open_since is not None:
            open_calls, open_since = {}, None
    _require_answers(open_calls, open_since)


def _require_answers(open_calls: dict[str, int], since: int | None) -> None:
    if open_calls and since is not None:
        raise ApiError(
            "400",
            "An assistant message with 'tool_calls' must be followed by tool messages responding "
            "to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
            + ", ".join(map(str, open_calls)),
            param=f"messages.[{since}].role",
            code=None,
        )


def _check_parallel_tool_calls(body: dict[str, Any]) -> None:
    """OpenAI's rule, as its users quote the answer (LiteLLM sends the field without tools)."""
    if body.get("parallel_tool_calls") is not None and not body.get("tools"):
        raise ApiError(
            "400",
            "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when "
            "'tools' are specified.",
            param="parallel_tool_calls",
            code=None,
        )


def _check_tool_choice(body: dict[str, Any]) -> None:
    choice = body.get("tool_choice")
    if choice is None:
        return
    tools = body.get("tools") or []
    if not tools:
        raise ApiError(
            "400",
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            param="tool_choice",
            code=None,
        )
    if isinstance(choice, dict) and choice.get("type") != "allowed_tools":
        name = (choice.get("function") or {}).get("name")
        offered = [
            (tool.get("function") or {}).get("name") for tool in tools if isinstance(tool, dict)
        ]
        if name not in offered:  # in the words of the functions API it stands for (2026)
            raise ApiError(
                "400",
                f"Invalid value for 'function_call': no function named '{name}' was specified "
                "in the 'functions' parameter.",
                param="function_call",
                code=None,
            )
