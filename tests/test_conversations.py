"""The Conversations API through the openai SDK and raw HTTP: conversations and their items,
responses made in a conversation, errors, bounds (docs/responses.md, "Conversations")."""

from __future__ import annotations

import threading

import openai
import pytest
from conftest import post_json, raw_request, wait_for
from openai.types.conversations import Conversation, ConversationItemList, Message

from mock_server.server.state import STATE
from mock_server.testing.runner import MockServer

MODEL = "gpt-4o"
TURNS = [
    {"name": "first", "match": {"api": "responses", "turn": 1}, "reply": {"content": "One."}},
    {"name": "second", "match": {"api": "responses", "turn": 2}, "reply": {"content": "Two."}},
]


@pytest.fixture
def client(tenant):
    with tenant.client() as sdk:
        yield sdk


def test_a_conversation_is_created_read_updated_and_deleted(tenant, client):
    made = client.conversations.create(metadata={"topic": "demo"})
    assert made.id.startswith("conv_") and len(made.id) == len("conv_") + 48
    assert made.object == "conversation" and made.metadata == {"topic": "demo"}
    path = tenant.url().removeprefix(tenant.server.url) + f"/conversations/{made.id}"
    raw = raw_request(tenant.server, "GET", path, headers={"Authorization": "Bearer sk-test"})
    assert list(raw.json()) == ["id", "object", "created_at", "metadata"]
    Conversation.model_validate(raw.json())
    assert client.conversations.retrieve(made.id) == made
    updated = client.conversations.update(made.id, metadata={"topic": "other"})
    assert updated.metadata == {"topic": "other"} and updated.created_at == made.created_at
    deleted = client.conversations.delete(made.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (made.id, "conversation.deleted", True)
    with pytest.raises(openai.NotFoundError) as caught:
        client.conversations.retrieve(made.id)
    assert caught.value.body == {
        "message": f"Conversation with id '{made.id}' not found.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert client.conversations.create().metadata == {}  # no body at all: none


def test_responses_in_a_conversation_go_on_from_its_items_and_add_theirs(tenant, client):
    for scenario in TURNS:
        tenant.add(scenario)
    conversation = client.conversations.create()
    first = client.responses.create(model=MODEL, input="Hi", conversation=conversation.id)
    assert first.output_text == "One." and first.conversation.id == conversation.id
    second = client.responses.create(
        model=MODEL, input="And?", conversation={"id": conversation.id}
    )
    assert second.output_text == "Two."  # the scenario saw both user messages
    assert second.usage.input_tokens > first.usage.input_tokens
    newest_first = client.conversations.items.list(conversation.id)
    assert isinstance(newest_first, openai.pagination.SyncConversationCursorPage)
    texts = [item.content[0].text for item in newest_first.data]
    assert texts == ["Two.", "And?", "One.", "Hi"]
    assert [item.role for item in newest_first.data] == ["assistant", "user"] * 2
    assert newest_first.data[0].id == second.output[0].id  # the output item itself
    paged = list(client.conversations.items.list(conversation.id, order="asc", limit=1))
    assert [item.content[0].text for item in paged] == texts[::-1]  # the SDK pages with after
    # input_items of a response in a conversation: the conversation's items before it, then its
    listed = client.responses.input_items.list(second.id, order="asc").data
    assert [item.content[0].text for item in listed] == ["Hi", "One.", "And?"]
    plain = client.responses.create(model=MODEL, input="Hi")  # not in one: named by none
    assert plain.conversation is None and "conversation" not in plain.model_dump(exclude_unset=True)


def test_a_streamed_response_adds_its_items_and_a_broken_one_does_not(tenant, client):
    tenant.add(TURNS[0])
    conversation = client.conversations.create()
    with client.responses.stream(model=MODEL, input="Hi", conversation=conversation.id) as stream:
        final = stream.get_final_response()
    assert final.output_text == "One." and final.conversation.id == conversation.id
    assert len(client.conversations.items.list(conversation.id).data) == 2
    tenant.add(
        {
            "name": "broken",
            "match": {"api": "responses", "last_user_message": "Break"},
            "reply": {
                "content": "Never whole.",
                "fault": {"type": "disconnect", "after_chunks": 3},
            },
        }
    )
    with (
        pytest.raises(openai.APIError),
        client.responses.stream(model=MODEL, input="Break", conversation=conversation.id) as stream,
    ):
        stream.get_final_response()
    assert len(client.conversations.items.list(conversation.id).data) == 2


def test_items_are_added_read_and_deleted(tenant, client):
    conversation = client.conversations.create(items=[{"role": "user", "content": "Hello"}])
    added = client.conversations.items.create(
        conversation.id,
        items=[
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "A"}]},
            {"type": "message", "role": "assistant", "content": "B"},
        ],
    )
    assert isinstance(added, ConversationItemList) and added.has_more is False
    assert [item.id for item in added.data] == [added.first_id, added.last_id]
    user, answer = added.data
    assert isinstance(user, Message) and user.id.startswith("msg_")
    assert answer.content[0].type == "output_text"  # an assistant's text, as its output
    found = client.conversations.items.retrieve(answer.id, conversation_id=conversation.id)
    assert found == answer
    after = client.conversations.items.delete(user.id, conversation_id=conversation.id)
    assert after.id == conversation.id and after.object == "conversation"
    texts = [item.content[0].text for item in client.conversations.items.list(conversation.id)]
    assert texts == ["B", "Hello"]
    with pytest.raises(openai.NotFoundError, match=f"Item with id '{user.id}' not found"):
        client.conversations.items.retrieve(user.id, conversation_id=conversation.id)
    # An item of a conversation can be named in a response's input.
    referenced = client.responses.create(
        model=MODEL,
        input=[{"type": "item_reference", "id": answer.id}, {"role": "user", "content": "C"}],
    )
    assert referenced.status == "completed"


@pytest.mark.parametrize(
    "call, status, param, code, words",
    [
        (
            lambda sdk: sdk.responses.create(model=MODEL, input="x", conversation="thread-1"),
            400, "conversation", "invalid_value",
            "Invalid 'conversation': 'thread-1'. Expected an ID that begins with 'conv'.",
        ),
        (
            lambda sdk: sdk.responses.create(model=MODEL, input="x", conversation="conv_none"),
            404, None, None, "Conversation with id 'conv_none' not found.",
        ),
        (
            lambda sdk: sdk.responses.create(
                model=MODEL, input="x", conversation={"id": "conv_x", "extra": 1}
            ),
            400, "conversation.extra", "unknown_parameter", "Unknown parameter: 'conversation.extra'.",
        ),
        (
            lambda sdk: sdk.responses.create(
                model=MODEL, input="x", conversation="conv_x", previous_response_id="resp_x"
            ),
            400, None, "mutually_exclusive_parameters", "Mutually exclusive parameters",
        ),
        (
            lambda sdk: sdk.conversations.retrieve("thread-1"),
            400, "conversation_id", "invalid_value",
            "Invalid 'conversation_id': 'thread-1'. Expected an ID that begins with 'conv'.",
        ),
        (
            lambda sdk: sdk.conversations.create(items=[{"role": "user", "content": "x"}] * 21),
            400, "items", "array_above_max_length", "Expected an array with maximum length 20",
        ),
        (
            lambda sdk: sdk.conversations.create(items=[{"type": "bogus"}]),
            400, "items[0].type", "invalid_value", "Invalid value: 'bogus'",
        ),
        (
            lambda sdk: sdk.conversations.create(metadata={f"k{i}": "v" for i in range(17)}),
            400, "metadata", "object_above_max_properties", "at most 16 properties",
        ),
        (
            lambda sdk: sdk.conversations.create(extra_body={"title": "x"}),
            400, "title", "unknown_parameter", "Unknown parameter: 'title'.",
        ),
    ],
    ids=[
        "not a conversation id", "unknown", "object with more than id", "with a previous response",
        "path id not a conversation id", "21 items", "an unknown item", "17 metadata pairs",
        "unknown parameter",
    ],
)  # fmt: skip
def test_what_is_refused_and_how(client, call, status, param, code, words):
    with pytest.raises(openai.APIStatusError) as caught:
        call(client)
    assert caught.value.status_code == status
    body = caught.value.body
    assert (body["param"], body["code"]) == (param, code) and words in body["message"]


def test_update_needs_metadata_and_items_need_items(tenant, client):
    conversation = client.conversations.create()
    base = tenant.url().removeprefix(tenant.server.url) + f"/conversations/{conversation.id}"
    for path, name in ((base, "metadata"), (base + "/items", "items")):
        refused = post_json(tenant.server, path, {})
        assert refused.status == 400
        assert refused.json()["error"]["message"] == f"Missing required parameter: '{name}'."


def test_conversations_are_a_tenants_own(tenant, server, client_for):
    conversation = tenant.client().conversations.create()
    with pytest.raises(openai.NotFoundError):
        client_for().conversations.retrieve(conversation.id)


def test_a_conversation_that_would_outgrow_the_store_is_refused_and_kept(tenant, client):
    store = tenant.server.app[STATE].tenants.get(tenant.name).store
    store.max_bytes = 200_000  # the tenant's bound, lowered to keep the test short
    conversation = client.conversations.create(items=[{"role": "user", "content": "x" * 50_000}])
    with pytest.raises(openai.BadRequestError, match="would hold more than"):
        for _ in range(10):
            client.conversations.items.create(
                conversation.id, items=[{"role": "user", "content": "y" * 50_000}]
            )
    kept = client.conversations.items.list(conversation.id, limit=100).data
    assert 1 < len(kept) < 10 and store.bytes <= store.max_bytes
    with pytest.raises(openai.BadRequestError, match="would hold more than"):
        client.responses.create(model=MODEL, input="z" * 100_000, conversation=conversation.id)
    assert len(client.conversations.items.list(conversation.id, limit=100).data) == len(kept)


def test_a_conversations_long_items_are_counted_once_not_each_turn(tenant, client):
    def long_counts() -> dict:
        health = raw_request(tenant.server, "GET", "/__admin/health").json()
        return health["caches"]["long_token_counts"]

    unique = f"{id(client)} {threading.get_ident()} "
    items = [{"role": "user", "content": unique + f"part {n} " + "word " * 4_000} for n in range(3)]
    conversation = client.conversations.create(items=items)
    client.responses.create(model=MODEL, input="first", conversation=conversation.id)
    before = long_counts()
    for turn in range(3):
        client.responses.create(model=MODEL, input=f"turn {turn}", conversation=conversation.id)
    after = long_counts()
    assert after["misses"] == before["misses"]  # each turn looks its items' counts up
    assert after["hits"] >= before["hits"] + 3 * len(items)
    assert 0 < after["bytes"] <= after["max_bytes"]


def test_a_profile_without_conversation_schemas_serves_none(tmp_path):
    profile = tmp_path / "bare.yaml"
    profile.write_text(
        "name: bare\nextends: google\npaths: [/v1]\napis: [chat_completions, responses]\n"
        "api_request_schemas: {responses: openai.responses.request.json}\n",
        encoding="utf-8",
    )
    with MockServer(profile_files=[str(profile)]) as server:
        base = "/bare/v1/conversations"
        refused = post_json(server, base, {})
        assert refused.status == 404
        assert f"Invalid URL (POST {base})" in refused.body.decode()  # google's envelope
        headers = {"Authorization": "Bearer sk-test"}
        for method, path in (("GET", "/conv_1"), ("DELETE", "/conv_1"), ("GET", "/conv_1/items")):
            answered = raw_request(server, method, base + path, headers=headers)
            assert f"Invalid URL ({method} {base}{path})" in answered.body.decode()


def test_items_are_taken_as_a_responses_input_is(tenant, client):
    """References resolved (an unknown one is the live 404), an assistant's parts checked, no
    id twice, an id a string, a made item's id required: as for a response's ``input``."""
    answered = client.responses.create(model=MODEL, input="Hi")
    made = answered.output[0]
    conversation = client.conversations.create(items=[{"type": "item_reference", "id": made.id}])
    (listed,) = client.conversations.items.list(conversation.id).data
    assert listed.model_dump() == made.model_dump()  # the item itself, not the reference
    refused = [
        ([{"id": "msg_none"}], 404, "items[0].id", "Item with id 'msg_none' not found."),
        (
            [{"role": "assistant", "content": [{"type": "input_text", "text": "a"}]}],
            400, "items[0].content[0]", "Supported values are: 'output_text' and 'refusal'.",
        ),
        (
            [{"type": "message", "id": "msg_1", "role": "user", "content": "a"}] * 2,
            400, "items", "Duplicate item found with id msg_1.",
        ),
        (
            [{"type": "message", "id": made.id, "role": "user", "content": "a"}],
            400, "items", f"Duplicate item found with id {made.id}.",
        ),
        (
            [{"type": "web_search_call", "status": "completed", "action": {"type": "search"}}],
            400, "items[0].id", "Missing required parameter: 'items[0].id'.",
        ),
        (
            [{"type": "web_search_call", "id": [1], "status": "completed", "action": {}}],
            400, "items[0].id", "Invalid type for 'items[0].id'",
        ),
    ]  # fmt: skip
    for items, status, param, words in refused:
        with pytest.raises(openai.APIStatusError) as caught:
            client.conversations.items.create(conversation.id, items=items)
        assert caught.value.status_code == status, items
        assert caught.value.body["param"] == param and words in caught.value.body["message"]
    assert len(client.conversations.items.list(conversation.id).data) == 1
    # An item of a hosted tool that says it is an assistant's is no message: taken.
    hosted = {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {}}
    client.conversations.items.create(conversation.id, items=[{**hosted, "role": "assistant"}])


def test_a_conversation_deleted_while_a_response_is_made_in_it_stays_deleted(tenant, client):
    tenant.add({"name": "slow", "reply": {"content": "Late.", "latency": {"delay_ms": 600}}})
    conversation = client.conversations.create()
    answered = []
    late = threading.Thread(
        target=lambda: answered.append(
            client.responses.create(model=MODEL, input="Hi", conversation=conversation.id)
        )
    )
    late.start()
    wait_for(lambda: tenant.admin("GET", "/accounts").json()["in_flight"])
    client.conversations.delete(conversation.id)
    late.join()
    assert answered[0].output_text == "Late."
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(conversation.id)


def test_a_turn_is_refused_when_its_stored_response_would_push_its_conversation_out(tenant, client):
    """A stored response counts the conversation it holds: the two are kept together, or the
    turn is refused and the conversation keeps what it held (it was dropped, unseen)."""
    store = tenant.server.app[STATE].tenants.get(tenant.name).store
    store.max_bytes = 200_000  # the tenant's bound, lowered to keep the test short
    small = client.conversations.create(items=[{"role": "user", "content": "x" * 30_000}])
    for _ in range(2):
        client.responses.create(model=MODEL, input="more", conversation=small.id)
    assert len(client.conversations.items.list(small.id).data) == 5
    large = client.conversations.create(items=[{"role": "user", "content": "x" * 110_000}])
    with pytest.raises(openai.BadRequestError, match="would hold more than"):
        client.responses.create(model=MODEL, input="more", conversation=large.id)
    assert len(client.conversations.items.list(large.id).data) == 1
    unstored = client.responses.create(
        model=MODEL, input="more", conversation=large.id, store=False
    )
    assert unstored.conversation.id == large.id  # not stored, it needs no room beside it
    assert len(client.conversations.items.list(large.id).data) == 3


def test_metadata_counts_in_the_store(tenant, client):
    store = tenant.server.app[STATE].tenants.get(tenant.name).store
    bare = client.conversations.create()
    held = store.bytes
    client.conversations.update(bare.id, metadata={f"k{i}": "v" * 512 for i in range(16)})
    assert store.bytes - held > 16 * 512
    client.conversations.update(bare.id, metadata={})
    assert store.bytes == held
