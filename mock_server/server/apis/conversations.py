"""The Conversations API, served wherever the Responses API is: ``POST .../conversations``;
``GET``, ``POST`` (its metadata) and ``DELETE .../conversations/{id}``; ``GET`` and ``POST
.../conversations/{id}/items``; ``GET`` and ``DELETE .../conversations/{id}/items/{item_id}``.

A conversation is kept in the tenant's store (``tenant_state.KeyedStore``) beside its stored
responses, counting what its items and metadata hold; a response created with
``conversation`` goes on from its items, and adds its input and output items to it once
answered (``responses``). Items are taken as a response's input is (``items.taken``: references
resolved, an assistant's parts checked, each with an id, none twice); bodies are checked against
the profile's schemas (``checks.conversations``), and a profile that gives none serves no
conversations (404 ``Invalid URL``, as for a path it does not serve). Ids and errors as
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

from ...checks.conversations import check_conversation_body, serves_conversations
from ...checks.responses import check_conversation_id
from ...errors import ApiError
from ...jsonio import dumps
from ...wire.answer import Answer
from ..exchange import Exchange
from ..headers import readable
from ..render import json_read
from ..tenant_state import KeyedStore, held_by
from .items import check_unique, listing, not_found, page, taken

KIND = "conversations"  # their keys in a tenant's store: (KIND, id)
PATH = "/conversations"
# What a conversation holds in memory beyond its items and metadata (its object, its list).
BASE_BYTES = 1024


@dataclass(slots=True)
class StoredConversation:
    """A conversation: its object's fields and its items, oldest first; ``held``: what they
    keep in memory, as the store counts it."""

    id: str
    created_at: int
    metadata: dict[str, str]
    items: list[dict[str, Any]]
    held: int

    def resource(self) -> dict[str, Any]:
        """The conversation object as the API answers it."""
        return {
            "id": self.id,
            "object": "conversation",
            "created_at": self.created_at,
            "metadata": self.metadata,
        }

    def held_items(self) -> list[dict[str, Any]]:
        """Its items, which an ``item_reference`` may name."""
        return self.items


def held(exchange: Exchange, wanted: str) -> StoredConversation:
    """The tenant's conversation ``wanted``; an unknown one is the live API's 404."""
    found = exchange.tenant.store.get((KIND, wanted))
    if found is None:
        raise not_found("Conversation", wanted)
    return found


def extend(
    exchange: Exchange, conversation: StoredConversation, items: list[dict], beside: int = 0
) -> None:
    """``items`` (with their ids) added to ``conversation``, if the tenant still keeps it (one
    deleted, reset or dropped while a response was made in it is not brought back); see
    ``_kept``."""
    store = exchange.tenant.store
    if store.get((KIND, conversation.id)) is conversation:
        _kept(store, conversation, items, beside)


def _kept(
    store: KeyedStore, conversation: StoredConversation, items: list[dict], beside: int = 0
) -> None:
    """``conversation`` stored as the newest, ``items`` added; refused when it would outgrow
    the tenant's store with ``beside`` bytes next to it (the response that is stored with it,
    which counts the conversation it holds), so that neither pushes the other out. A refused
    conversation keeps what it held."""
    size = conversation.held + sum(_held(item) for item in items)
    if size + beside > store.max_bytes:
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


def _held(value: Any) -> int:
    """What a JSON value (an item, metadata) holds in memory, as the store counts it."""
    return held_by(dumps(value))


def _body(exchange: Exchange, schema: str) -> dict[str, Any]:
    """The request's body, checked against the profile's schema ``schema`` (an empty body is
    an empty object: creating a conversation needs nothing)."""
    raw = exchange.raw or b""
    body = exchange.api.parsed(exchange, raw if raw.strip() else b"{}")
    check_conversation_body(body, exchange.profile, schema)
    return body


def _served(exchange: Exchange) -> None:
    """A profile that gives no conversation schemas serves no conversations: 404 ``Invalid
    URL``, as for any path it does not serve."""
    if not serves_conversations(exchange.profile):
        incoming = exchange.incoming
        raise ApiError(
            "404",
            message=f"Invalid URL ({incoming.method} {readable(incoming.path)})",
            type="invalid_request_error",
            code=None,
        )


def _new_items(
    exchange: Exchange, given: list[dict[str, Any]] | None, before: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The items a request adds to a conversation holding ``before``, as they are kept."""
    items, _ = taken(given or [], exchange.tenant.store, exchange.state.ids, "items")
    check_unique([*before, *items], "items")
    return items


def _create(exchange: Exchange, request: web.Request) -> Answer:
    _served(exchange)
    body = _body(exchange, "conversations")
    metadata = body.get("metadata") or {}
    conversation = StoredConversation(
        exchange.state.ids.item("conv"), int(time.time()), metadata, [], BASE_BYTES
    )
    conversation.held += _held(metadata)
    items = _new_items(exchange, body.get("items"), [])
    _kept(exchange.tenant.store, conversation, items)
    return json_read(exchange, conversation.resource())


def _named(exchange: Exchange, request: web.Request) -> StoredConversation:
    _served(exchange)
    wanted = request.match_info["conversation_id"]
    check_conversation_id(wanted, "conversation_id")
    return held(exchange, wanted)


def _retrieve(exchange: Exchange, request: web.Request) -> Answer:
    return json_read(exchange, _named(exchange, request).resource())


def _update(exchange: Exchange, request: web.Request) -> Answer:
    """Its metadata replaced."""
    conversation = _named(exchange, request)
    metadata = _body(exchange, "conversation_update")["metadata"] or {}
    conversation.held += _held(metadata) - _held(conversation.metadata)
    conversation.metadata = metadata
    _kept(exchange.tenant.store, conversation, [])
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
    given = _body(exchange, "conversation_items")["items"]
    added = _new_items(exchange, given, conversation.items)
    extend(exchange, conversation, added)
    return json_read(exchange, listing(added))


def _list_items(exchange: Exchange, request: web.Request) -> Answer:
    """A page of the conversation's items (``items.page``: newest first unless ``order=asc``)."""
    return json_read(exchange, page(_named(exchange, request).items, request.query))


def _item(exchange: Exchange, request: web.Request) -> tuple[StoredConversation, int]:
    """The conversation a path names and where in it the item it names is."""
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
    conversation.held -= _held(conversation.items.pop(index))
    _kept(exchange.tenant.store, conversation, [])
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
