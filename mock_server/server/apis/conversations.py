"""The Conversations API, served wherever the Responses API is: ``POST .../conversations``;
``GET``, ``POST`` (its metadata) and ``DELETE .../conversations/{id}``; ``GET`` and ``POST
.../conversations/{id}/items``; ``GET`` and ``DELETE .../conversations/{id}/items/{item_id}``.

A conversation is kept in the tenant's store (``tenant_state.KeyedStore``) beside its stored
responses, counting what its items hold; a response created with ``conversation`` goes on from
its items, and adds its input and output items to it once answered (``responses``). Request
bodies are checked against the profile's schemas ``conversations`` (create),
``conversation_update`` and ``conversation_items``; a profile that gives none serves no
conversations (404 ``Invalid URL``, as for any path it does not serve). Ids and errors as
OpenAI's: ``conv_`` and 48 hex digits; an unknown id is a 404 ``Conversation with id '...' not
found.`` (live answers recorded by client projects, 2025-2026); an id that is no conversation
id, a 400 ``Expected an ID that begins with 'conv'``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ...checks.body import parse_body
from ...checks.request import schema_error
from ...checks.responses import check_conversation_id, typed_items
from ...checks.schema import Invalid
from ...errors import ApiError
from ...jsonio import dumps
from ...wire.answer import Answer
from ..exchange import Exchange
from ..headers import readable
from .items import held_by, json_read, listed, listing, not_found, page

KIND = "conversations"  # their keys in a tenant's store: (KIND, id)
PATH = "/conversations"
# What a conversation holds in memory beyond its items' JSON text (its object, its list).
BASE_BYTES = 1024


@dataclass(slots=True)
class StoredConversation:
    """A conversation: its object's fields and its items, oldest first; ``held``: what they
    keep in memory, as the store counts it."""

    id: str
    created_at: int
    metadata: dict[str, str]
    items: list[dict[str, Any]]
    held: int = BASE_BYTES

    def resource(self) -> dict[str, Any]:
        """The conversation object as the API answers it."""
        return {
            "id": self.id,
            "object": "conversation",
            "created_at": self.created_at,
            "metadata": self.metadata,
        }


def held(exchange: Exchange, wanted: str) -> StoredConversation:
    """The tenant's conversation ``wanted``; an unknown one is the live API's 404."""
    found = exchange.tenant.store.get((KIND, wanted))
    if found is None:
        raise not_found("Conversation", wanted)
    return found


def extend(exchange: Exchange, conversation: StoredConversation, items: list[dict]) -> None:
    """``items`` (with their ids) added to ``conversation``, which is stored again as the newest;
    one that would outgrow the tenant's store is refused, and keeps what it held."""
    store = exchange.tenant.store
    size = conversation.held + sum(_held(item) for item in items)
    if size > store.max_bytes:
        raise ApiError(
            "400",
            message=f"Conversation with id '{conversation.id}' would hold more than this "
            f"server keeps for a tenant ({store.max_bytes} bytes); start a new one.",
            type="invalid_request_error",
            param=None,
            code=None,
        )
    conversation.items.extend(items)
    conversation.held = size
    store.put((KIND, conversation.id), conversation, size)


def _held(item: dict[str, Any]) -> int:
    return held_by(dumps(item))


def _checked(exchange: Exchange, schema: str, allow_empty: bool = False) -> dict[str, Any]:
    """The request's body, checked against the profile's schema ``schema`` (one it does not
    give: the profile serves no conversations)."""
    checks = exchange.profile.api_checks.get(schema)
    if checks is None:
        incoming = exchange.incoming
        raise ApiError(
            "404",
            message=f"Invalid URL ({incoming.method} {readable(incoming.path)})",
            type="invalid_request_error",
            code=None,
        )
    raw = exchange.raw or b""
    if allow_empty and not raw.strip():
        raw = b"{}"
    content_type = exchange.incoming.headers.get("Content-Type")
    body = parse_body(raw, readable(content_type) if content_type else None)
    exchange.body = body
    typed_items(body.get("items"))
    try:
        checks.check(body)
    except Invalid as invalid:
        raise schema_error(invalid, exchange.profile, body, checks.known_fields) from None
    return body


def _new_items(exchange: Exchange, given: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    ids = exchange.state.ids
    return [listed(item, ids) for item in given or ()]


def _create(exchange: Exchange, request: web.Request) -> Answer:
    body = _checked(exchange, "conversations", allow_empty=True)
    conversation = StoredConversation(
        exchange.state.ids.item("conv"), int(time.time()), body.get("metadata") or {}, []
    )
    extend(exchange, conversation, _new_items(exchange, body.get("items")))
    return json_read(exchange, conversation.resource())


def _named(exchange: Exchange, request: web.Request) -> StoredConversation:
    wanted = request.match_info["conversation_id"]
    check_conversation_id(wanted, "conversation_id")
    return held(exchange, wanted)


def _retrieve(exchange: Exchange, request: web.Request) -> Answer:
    return json_read(exchange, _named(exchange, request).resource())


def _update(exchange: Exchange, request: web.Request) -> Answer:
    conversation = _named(exchange, request)
    conversation.metadata = _checked(exchange, "conversation_update")["metadata"] or {}
    return json_read(exchange, conversation.resource())


def _delete(exchange: Exchange, request: web.Request) -> Answer:
    conversation = _named(exchange, request)
    exchange.tenant.store.delete((KIND, conversation.id))
    return json_read(
        exchange, {"id": conversation.id, "object": "conversation.deleted", "deleted": True}
    )


def _add_items(exchange: Exchange, request: web.Request) -> Answer:
    """Items added at the end (at most 20 at a time, as the reference says); the answer lists
    them, oldest first."""
    conversation = _named(exchange, request)
    added = _new_items(exchange, _checked(exchange, "conversation_items")["items"])
    extend(exchange, conversation, added)
    return json_read(exchange, listing(added))


def _list_items(exchange: Exchange, request: web.Request) -> Answer:
    """A page of the conversation's items (``items.page``: newest first unless ``order=asc``)."""
    return json_read(exchange, page(_named(exchange, request).items, request.query))


def _item(exchange: Exchange, request: web.Request) -> tuple[StoredConversation, int]:
    conversation = _named(exchange, request)
    wanted = request.match_info["item_id"]
    for index, item in enumerate(conversation.items):
        if item["id"] == wanted:
            return conversation, index
    raise not_found("Item", wanted)


def _retrieve_item(exchange: Exchange, request: web.Request) -> Answer:
    conversation, index = _item(exchange, request)
    return json_read(exchange, conversation.items[index])


def _delete_item(exchange: Exchange, request: web.Request) -> Answer:
    """The item removed; the answer is the conversation (the reference's ``Conversation``)."""
    conversation, index = _item(exchange, request)
    removed = conversation.items.pop(index)
    conversation.held -= _held(removed)
    exchange.tenant.store.put((KIND, conversation.id), conversation, conversation.held)
    return json_read(exchange, conversation.resource())


ROUTES: list[tuple[str, str, Callable[[Exchange, web.Request], Answer]]] = [
    ("POST", PATH, _create),
    ("GET", PATH + "/{conversation_id}", _retrieve),
    ("POST", PATH + "/{conversation_id}", _update),
    ("DELETE", PATH + "/{conversation_id}", _delete),
    ("POST", PATH + "/{conversation_id}/items", _add_items),
    ("GET", PATH + "/{conversation_id}/items", _list_items),
    ("GET", PATH + "/{conversation_id}/items/{item_id}", _retrieve_item),
    ("DELETE", PATH + "/{conversation_id}/items/{item_id}", _delete_item),
]
