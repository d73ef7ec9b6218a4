"""Checking a Conversations API request body (``POST .../conversations``, its update and its
items), as OpenAI checks it: against the profile's schemas ``conversations``,
``conversation_update`` and ``conversation_items`` (``api_request_schemas``), worded as a
response's request is; items that leave out their ``type`` read as a response's input reads
them (``checks.responses.typed_items``)."""

from __future__ import annotations

from typing import Any

from ..providers import Profile
from .request import schema_error
from .responses import typed_items
from .schema import Invalid

SCHEMAS = ("conversations", "conversation_update", "conversation_items")


def serves_conversations(profile: Profile) -> bool:
    """Whether ``profile`` gives the schemas of the Conversations API's bodies."""
    return all(name in profile.api_checks for name in SCHEMAS)


def check_conversation_body(body: dict[str, Any], profile: Profile, schema: str) -> None:
    """``body`` checked against ``profile``'s schema ``schema`` (one of ``SCHEMAS``); raises
    ``ApiError``."""
    typed_items(body.get("items"))
    checks = profile.api_checks[schema]
    try:
        checks.check(body)
    except Invalid as invalid:
        raise schema_error(invalid, profile, body, checks.known_fields) from None
