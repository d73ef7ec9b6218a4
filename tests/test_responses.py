"""The Responses API through the openai SDK and raw HTTP: scenarios, function calls and their
outputs, conversation state, streams, validation, errors and faults (docs/responses.md)."""

from __future__ import annotations

import base64
import json
import time
import timeit

import openai
import pytest
import yaml
from conftest import TenantHandle, auth_headers, made, post_json, raw_request
from openai.types.responses import Response, ResponseItemList
from pydantic import BaseModel

from mock_server.server.apis.responses import _chat_body
from mock_server.server.state import STATE
from mock_server.testing.runner import MockServer
from mock_server.wire.delivery import StreamShape
from mock_server.wire.responses import Restreamed, render_events

MODEL = "gpt-4o"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
WEATHER_LOOP = [
    {
        "name": "asks-weather",
        "match": {"api": "responses", "last_message_role": "user", "tools": ["get_weather"]},
        "reply": {
            "tool_calls": [{"id": "call_w1", "name": "get_weather", "arguments": {"city": "Paris"}}]
        },
    },
    {
        "name": "answers-weather",
        "match": {"tool_call_id": "call_w1", "tool_result": {"contains": "sunny"}},
        "reply": {"content": "It is sunny in Paris."},
    },
]


@pytest.fixture
def client(tenant):
    with tenant.client() as sdk:
        yield sdk


def test_a_scenario_answers_and_the_body_is_a_valid_response(tenant, client):
    tenant.add(
        {"name": "hi", "match": {"last_user_message": "good day"}, "reply": {"content": "Hi!"}}
    )
    response = client.responses.create(model=MODEL, input="good day", instructions="Be kind.")
    assert response.output_text == "Hi!"
    assert response.id.startswith("resp_") and response.output[0].id.startswith("msg_")
    assert response.model == "gpt-4o-2024-08-06"  # the dated snapshot, as chat answers
    assert response.instructions == "Be kind." and response.status == "completed"
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"
    body = post_json(tenant.server, path, {"model": MODEL, "input": "good day"}).json()
    Response.model_validate(body)  # the SDK's own model of a response
    # The live API's order (its answers of 2026 add billing, completed_at and frequency_penalty
    # here, and write default numbers as integers: vercel/ai's recorded answers).
    head = ["id", "object", "created_at", "status", "background", "billing", "completed_at"]
    assert list(body)[:9] == [*head, "error", "frequency_penalty"]
    assert body["billing"] == {"payer": "developer"}
    streamed = post_json(tenant.server, path, {"model": MODEL, "input": "good day", "stream": True})
    events = [
        json.loads(line[6:]) for line in streamed.body.decode().splitlines() if line[:6] == "data: "
    ]
    assert events[-1]["type"] == "response.completed"
    assert "billing" not in events[-1]["response"]  # a JSON answer's, never an event's
    assert (body["temperature"], body["top_p"], body["frequency_penalty"]) == (1, 1, 0)
    assert body["completed_at"] >= body["created_at"] and body["service_tier"] == "default"
    assert list(body)[-3:] == ["usage", "user", "metadata"]
    assert list(body["output"][0]) == ["id", "type", "status", "content", "role"]
    assert list(body["output"][0]["content"][0]) == ["type", "annotations", "logprobs", "text"]
    assert (
        body["usage"]["total_tokens"]
        == body["usage"]["input_tokens"] + body["usage"]["output_tokens"]
    )


def test_one_scenario_answers_chat_and_responses_alike_and_api_narrows_one(tenant, client):
    tenant.add(
        [
            {
                "name": "both",
                "match": {"last_user_message": "same"},
                "reply": {"content": "Same text."},
            },
            {
                "name": "chat-only",
                "match": {"api": "chat_completions", "last_user_message": "which"},
                "reply": {"content": "chat"},
            },
            {
                "name": "responses-only",
                "match": {"api": "responses", "last_user_message": "which"},
                "reply": {"content": "responses"},
            },
        ]
    )
    chat = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "same"}]
    )
    assert chat.choices[0].message.content == "Same text."
    assert client.responses.create(model=MODEL, input="same").output_text == "Same text."
    chat = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "which"}]
    )
    assert chat.choices[0].message.content == "chat"
    assert client.responses.create(model=MODEL, input="which").output_text == "responses"


@pytest.mark.parametrize("chained", [False, True], ids=["replayed input", "previous_response_id"])
def test_a_function_call_then_its_output_keyed_on_call_id(tenant, client, chained):
    tenant.add(WEATHER_LOOP)
    first = client.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER])
    (call,) = first.output
    assert (call.type, call.call_id, call.name) == ("function_call", "call_w1", "get_weather")
    assert json.loads(call.arguments) == {"city": "Paris"} and call.id.startswith("fc_")
    result = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 24C"}
    if chained:
        second = client.responses.create(
            model=MODEL, previous_response_id=first.id, input=[result], tools=[WEATHER]
        )
    else:
        replayed = [
            {"role": "user", "content": "Weather in Paris?"},
            call.model_dump(exclude_unset=True),
            result,
        ]
        second = client.responses.create(model=MODEL, input=replayed, tools=[WEATHER])
    assert second.output_text == "It is sunny in Paris."
    assert second.previous_response_id == (first.id if chained else None)


def test_requests_saved_as_scenarios_answer_the_same_loop_again(tenant, client):
    """``GET /__admin/requests/{id}/scenario`` (the inspector's "save as scenario") for each
    turn of a tool loop chained by ``previous_response_id``: conditions on the conversation as
    scenarios saw it and the answer given; loaded by a tenant in strict mode, they answer the
    same loop with the same words."""
    tenant.add(WEATHER_LOOP)
    first = client.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER])
    result = {"type": "function_call_output", "call_id": "call_w1", "output": "sunny, 24C"}
    second = client.responses.create(
        model=MODEL, previous_response_id=first.id, input=[result], tools=[WEATHER]
    )
    saved = []
    for entry in tenant.requests():
        (scenario,) = yaml.safe_load(
            tenant.admin("GET", f"/requests/{entry['id']}/scenario").body.decode()
        )["scenarios"]
        saved.append(scenario)
    assert saved[1]["match"]["tool_call_id"] == "call_w1"
    assert saved[1]["reply"]["content"] == "It is sunny in Paris."
    replayer = TenantHandle(tenant.server, tenant.name + "-again")
    replayer.admin("POST", "/settings", {"strict": True})
    replayer.add({"scenarios": saved})
    with replayer.client() as again:
        call = again.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER])
        assert (call.output[0].call_id, call.output[0].arguments) == (
            "call_w1",
            first.output[0].arguments,
        )
        answered = again.responses.create(
            model=MODEL, previous_response_id=call.id, input=[result], tools=[WEATHER]
        )
    assert answered.output_text == second.output_text


def test_a_call_the_request_does_not_offer_is_said_to_be_so(tenant, client):
    """A scripted call to a tool the request does not offer (an agent without tools, matched
    by a broad scenario) goes out with a warning; one to a tool in a namespace does not."""
    tenant.add({"name": "calls", "reply": {"tool_calls": [{"name": "lookup", "arguments": {}}]}})
    bare = client.responses.with_raw_response.create(model=MODEL, input="Find Ada")
    assert bare.headers["x-mock-scenario-warning"] == (
        "the reply calls 'lookup', which the request does not offer (none)"
    )
    lookup = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}
    crm = {"type": "namespace", "name": "crm", "description": "Customers", "tools": [lookup]}
    offered = client.responses.with_raw_response.create(model=MODEL, input="Find Ada", tools=[crm])
    assert "x-mock-scenario-warning" not in offered.headers
    run = {"type": "custom", "name": "run"}
    allowed = {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "namespace", "name": "crm"}]}  # fmt: skip
    in_namespace = client.responses.with_raw_response.create(
        model=MODEL, input="Find Ada", tools=[crm, run], tool_choice=allowed
    )
    assert "x-mock-scenario-warning" not in in_namespace.headers
    left_out = client.responses.with_raw_response.create(
        model=MODEL,
        input="Find Ada",
        tools=[crm, run],
        tool_choice={**allowed, "tools": [{"type": "custom", "name": "run"}]},
    )
    assert left_out.headers["x-mock-scenario-warning"] == (
        "the reply calls 'lookup', which allowed_tools leaves out (run)"
    )
    odd = {**allowed, "tools": [{"type": "namespace", "name": ["crm"]}, {"type": "custom"}]}
    assert client.responses.with_raw_response.create(
        model=MODEL, input="Find Ada", tools=[crm, run], tool_choice=odd
    ).headers["x-mock-scenario-warning"] == (
        "the reply calls 'lookup', which allowed_tools leaves out (none)"
    )
    forced = client.responses.with_raw_response.create(
        model=MODEL, input="Find Ada", tools=[crm, run], tool_choice=run
    )
    assert forced.headers["x-mock-scenario-warning"] == (
        "the reply calls 'lookup', but the request's tool_choice forces 'run'"
    )
    assert [bool(entry["warnings"]) for entry in tenant.requests()] == [
        True, False, False, True, True, True,
    ]  # fmt: skip


def test_calls_and_outputs_are_paired_as_openai_pairs_them(tenant, client):
    tenant.add(WEATHER_LOOP)
    orphan = {"type": "function_call_output", "call_id": "call_gone", "output": "sunny"}
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input=[{"role": "user", "content": "Hi"}, orphan])
    assert caught.value.body == {
        "message": "No tool call found for function call output with call_id call_gone.",
        "type": "invalid_request_error",
        "param": "input",
        "code": None,
    }
    first = client.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER])
    with pytest.raises(openai.BadRequestError) as caught:  # continued without the call's output
        client.responses.create(
            model=MODEL, previous_response_id=first.id, input="And in Rome?", tools=[WEATHER]
        )
    assert caught.value.body["message"] == "No tool output found for function call call_w1."
    assert caught.value.body["param"] == "input"
    result = {"type": "function_call_output", "call_id": "call_w1", "output": "sunny, 24C"}
    with pytest.raises(openai.BadRequestError) as caught:  # an output before its call
        call = first.output[0].model_dump(exclude_unset=True)
        client.responses.create(model=MODEL, input=[result, call])
    assert caught.value.body["message"].startswith("No tool call found for function call output")


def test_the_fallback_calls_a_demanded_tool_and_parses_into_a_model(client):
    tool = {**WEATHER, "name": "find_city"}
    forced = client.responses.create(
        model=MODEL,
        input="which city?",
        tools=[tool],
        tool_choice={"type": "function", "name": "find_city"},
    )
    assert forced.output[0].type == "function_call"
    assert "city" in json.loads(forced.output[0].arguments)

    class Person(BaseModel):
        name: str
        age: int

    parsed = client.responses.parse(model=MODEL, input="a person", text_format=Person)
    assert isinstance(parsed.output_parsed, Person)


def test_the_bundled_greeting_leaves_structured_output_to_the_fallback(client):
    class Person(BaseModel):
        name: str
        age: int

    assert client.responses.create(model=MODEL, input="Hello").output_text == (
        "Hello! How can I help you today?"
    )
    parsed = client.responses.parse(model=MODEL, input="Hello", text_format=Person)
    assert isinstance(parsed.output_parsed, Person)


def test_a_scenario_matches_the_text_format_asked_for(tenant, client):
    tenant.add(
        {
            "name": "json-only",
            "match": {"api": "responses", "response_format": "json_object"},
            "reply": {"content": '{"answer": 42}'},
        }
    )
    asked = client.responses.create(
        model=MODEL, input="Answer in JSON.", text={"format": {"type": "json_object"}}
    )
    assert asked.output_text == '{"answer": 42}'
    assert client.responses.create(model=MODEL, input="Answer in JSON.").output_text != (
        '{"answer": 42}'
    )


def test_the_sdks_stream_helper_and_create_stream(tenant, client):
    tenant.add({"name": "s", "match": {"api": "responses"}, "reply": {"content": "One two three."}})
    with client.responses.stream(model=MODEL, input="go") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "One two three." == final.output_text
    events = list(client.responses.create(model=MODEL, input="go", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "One two three."


@pytest.mark.parametrize("summarised", [True, False])
def test_raw_sse_framing_and_the_full_event_order(tenant, summarised):
    """Every event of a stream of reasoning, text and a function call, in order; the reasoning's
    summary only when the request asks for one (``reasoning.summary``), as the API sends it."""
    tenant.add(
        {
            "name": "all",
            "match": {"api": "responses"},
            "reply": {
                "reasoning_content": "Think.",
                "content": "Hi there",
                "tool_calls": [{"id": "call_1", "name": "f", "arguments": "{}"}],
                "stream": {"chunk": "word"},
            },
        }
    )
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"
    body = {"model": "o4-mini", "input": "x", "stream": True}
    if summarised:
        body["reasoning"] = {"summary": "auto"}
    response = post_json(tenant.server, path, body)
    assert response.headers["content-type"].startswith("text/event-stream")
    text = response.body.decode()
    assert "[DONE]" not in text and text.endswith("\n\n")
    events = []
    for block in text.strip("\n").split("\n\n"):
        event_line, data_line = block.split("\n")
        assert event_line.startswith("event: ") and data_line.startswith("data: ")
        data = json.loads(data_line[6:])
        assert data["type"] == event_line[7:]
        events.append(data)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    summary = [
        "reasoning_summary_part.added", "reasoning_summary_text.delta",
        "reasoning_summary_text.done", "reasoning_summary_part.done",
    ]  # fmt: skip
    assert [e["type"].removeprefix("response.") for e in events] == [
        "created", "in_progress",
        "output_item.added", *(summary if summarised else []), "output_item.done",
        "output_item.added", "content_part.added", "output_text.delta", "output_text.delta",
        "output_text.done", "content_part.done", "output_item.done",
        "output_item.added", "function_call_arguments.delta", "function_call_arguments.done",
        "output_item.done",
        "completed",
    ]  # fmt: skip
    deltas = [e for e in events if e["type"].endswith(".delta")]
    # OpenAI's padding: as long as makes the delta and it a multiple of 16 characters.
    assert all((len(e["delta"]) + len(e["obfuscation"])) % 16 == 0 for e in deltas)
    # The order of 2026: type, the fields alphabetically, sequence_number last.
    (arguments_done,) = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert list(arguments_done) == [
        "type", "arguments", "item_id", "name", "output_index", "sequence_number",
    ]  # fmt: skip
    assert list(deltas[-1]) == [
        "type", "delta", "item_id", "obfuscation", "output_index", "sequence_number",
    ]  # fmt: skip
    assert (
        events[0]["response"]["status"] == "in_progress" and events[0]["response"]["output"] == []
    )
    Response.model_validate(events[-1]["response"])


def test_input_tokens_are_counted_as_a_response_counts_them(client):
    """``responses.input_tokens.count`` (``POST /responses/input_tokens``): the input tokens
    the same request gets in its usage; checked as a response's request is."""
    asked = {"input": "What is the weather in Paris?", "instructions": "Be brief.", "tools": [WEATHER]}  # fmt: skip
    counted = client.responses.input_tokens.count(model=MODEL, **asked)
    assert counted.object == "response.input_tokens"
    assert counted.input_tokens == client.responses.create(model=MODEL, **asked).usage.input_tokens
    assert client.responses.input_tokens.count(input="x").input_tokens > 0  # no model: taken
    assert client.responses.input_tokens.count(instructions="Be brief.").input_tokens > 0
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.input_tokens.count(model=MODEL, input=[{"role": "user"}])
    assert caught.value.body["param"] == "input[0].content"
    # Every field the count takes may be null; a field of create's it does not take is unknown.
    nulls = dict.fromkeys(("instructions", "tools", "reasoning", "text", "previous_response_id"))
    assert client.responses.input_tokens.count(input="x", **nulls).input_tokens > 0
    for name in ("stream", "max_output_tokens", "max_completion_tokens"):  # the last: moved
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.input_tokens.count(input="x", extra_body={name: 5})
        assert (caught.value.body["message"], caught.value.body["param"]) == (
            f"Unknown parameter: '{name}'.",
            name,
        )


def test_a_background_stream_is_resumed_where_it_broke_off(client):
    """``responses.retrieve(id, stream=True, starting_after=N)`` and the SDK's
    ``responses.stream(response_id=...)``: a background response's events again, as its
    creation streamed them, after the one numbered N; a response not made in the background
    cannot be (404, as the live API answers)."""
    with client.responses.create(
        model=MODEL, input="What is the weather?", background=True, stream=True
    ) as created:
        first = [event.model_dump(exclude={"obfuscation"}) for event in created]
    answered = first[-1]["response"]
    again = client.responses.retrieve(answered["id"], stream=True)
    assert [event.model_dump(exclude={"obfuscation"}) for event in again] == first
    resumed = list(client.responses.retrieve(answered["id"], stream=True, starting_after=2))
    assert [event.sequence_number for event in resumed] == list(range(3, len(first)))
    with client.responses.stream(response_id=answered["id"]) as stream:
        assert (
            stream.get_final_response().output_text == answered["output"][0]["content"][0]["text"]
        )
    foreground = client.responses.create(model=MODEL, input="x")
    with pytest.raises(openai.NotFoundError):
        list(client.responses.retrieve(foreground.id, stream=True))
    # The retrieval's own include_obfuscation (a query parameter in the API reference).
    plain = client.responses.retrieve(answered["id"], stream=True, include_obfuscation=False)
    assert [event.model_dump(exclude_unset=True) for event in plain] == [
        event.model_dump(exclude_unset=True, exclude={"obfuscation"})
        for event in client.responses.retrieve(answered["id"], stream=True)
    ]
    for bad in (
        {"stream": "yes"},
        {"stream": "true", "starting_after": "x"},
        {"stream": "true", "include_obfuscation": "no"},
    ):
        with pytest.raises(openai.BadRequestError):
            client.responses.retrieve(answered["id"], extra_query=bad)


def test_an_unmatched_request_is_explained_as_scenarios_saw_it(tenant, client):
    """The near-miss report of a request the fallback answered gives what the scenarios saw:
    the conversation put together (its last user message, tools, last role), not the body's
    own fields, which a chat-completions condition would find empty."""
    tenant.add(
        {
            "name": "w",
            "match": {"last_user_message": "Oslo", "tools": ["get_weather"], "turn": 3},
            "reply": {"content": "x"},
        }
    )
    client.responses.create(model=MODEL, input="Weather in Oslo?", tools=[WEATHER])
    (entry,) = tenant.requests(unmatched="true")
    miss = entry["near_miss"][0]
    assert miss["scenario"] == "w"
    assert [condition["condition"] for condition in miss["conditions"]] == ["turn"]
    assert miss["conditions"][0]["actual"] == "1"


def test_a_template_reads_the_body_as_sent(tenant, client):
    """``request`` in a reply template is the Responses body as sent (its ``input``,
    ``metadata`` ...); the other variables read the conversation as scenarios see it."""
    content = (
        "{{ request.metadata.k }} {{ request.instructions }} {{ last_user_message }} {{ turn }}"
    )
    tenant.add({"name": "echo", "reply": {"content": content}})
    answered = client.responses.create(
        model=MODEL, input="Hello there", instructions="Be brief.", metadata={"k": "v"}
    )
    assert answered.output_text == "v Be brief. Hello there 1"


def test_odd_requests_are_explained_and_saved_without_a_fault(tenant, client):
    """The journal's views of requests scenarios saw in part: one that continues a response
    alone (no ``input``, nothing stored), one kept only by its size; their near-miss reports
    and saved scenarios are worked out, never a 500 (the one whose body the journal did not
    keep is a 409 saying so)."""
    first = client.responses.create(model=MODEL, input="x", store=False)
    tenant.add({"name": "far", "match": {"last_user_message": "nothing like it"}})
    stored = client.responses.create(model=MODEL, input="y")
    client.responses.create(model=MODEL, previous_response_id=stored.id, store=False)
    client.responses.create(model=MODEL, input="word " * 60_000)
    assert first.status == "completed"
    for entry in tenant.requests():
        response = tenant.admin("GET", f"/requests/{entry['id']}/scenario")
        kept = entry["body"].get("truncated") is None
        assert response.status == (200 if kept else 409), response.body
    assert tenant.admin("GET", "/requests/unmatched").status == 200
    assert tenant.admin("POST", "/reset?report=unmatched").status == 200


def test_a_resumed_stream_is_cut_as_its_creation_was(tenant, client):
    """The events after ``starting_after`` are the ones the stream had: texts cut by the
    scenario's ``stream`` shape, deltas padded or not as the request asked; odd numbers are a
    400."""
    reply = {"content": "one two three four five six", "stream": {"chunk": "word", "size": 3}}
    tenant.add({"name": "words", "reply": reply})
    plain = {"stream_options": {"include_obfuscation": False}}
    with client.responses.create(
        model=MODEL, input="x", background=True, stream=True, **plain
    ) as created:
        first = [event.model_dump(exclude_unset=True) for event in created]
    answered = first[-1]["response"]["id"]
    resumed = client.responses.retrieve(answered, stream=True, starting_after=4)
    assert [event.model_dump(exclude_unset=True) for event in resumed] == first[5:]
    assert not any("obfuscation" in event for event in first)
    for past in (len(first), 10**30):  # past the last event: none
        assert list(client.responses.retrieve(answered, stream=True, starting_after=past)) == []
    padded = client.responses.retrieve(answered, stream=True, include_obfuscation=True)
    assert any(event.model_dump(exclude_unset=True).get("obfuscation") for event in padded)
    for bad in ("--1", "-1", "\u00b2", "1e3"):
        with pytest.raises(openai.BadRequestError):
            list(
                client.responses.retrieve(
                    answered, stream=True, extra_query={"starting_after": bad}
                )
            )


def test_a_relayed_response_streams_again_whatever_its_items():
    """A stored response a recording server relayed may hold items this server never makes
    (a web search call), a message without parts or with several, and may not be done: each
    item is added and done, each part streamed, and no final event is made up."""
    text = {"type": "output_text", "text": "two words", "annotations": []}
    message = {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant"}
    stored = {
        "id": "resp_1", "object": "response", "status": "in_progress", "background": True,
        "output": [
            {"type": "web_search_call", "id": "ws_1", "status": "completed"},
            {**message, "content": []},
            {**message, "id": "msg_2", "content": [text, {**text, "text": "more"}]},
        ],
    }  # fmt: skip
    events = render_events(Restreamed(stored, "auto"), StreamShape("word"), padded=False)
    data = [json.loads(event.split(b"data: ", 1)[1]) for event, _ in events]
    assert [(d["type"].removeprefix("response."), d.get("content_index")) for d in data] == [
        ("created", None), ("in_progress", None),
        ("output_item.added", None), ("output_item.done", None),
        ("output_item.added", None), ("output_item.done", None),
        ("output_item.added", None),
        ("content_part.added", 0), ("output_text.delta", 0), ("output_text.delta", 0),
        ("output_text.done", 0), ("content_part.done", 0),
        ("content_part.added", 1), ("output_text.delta", 1), ("output_text.done", 1),
        ("content_part.done", 1),
        ("output_item.done", None),
    ]  # fmt: skip


def test_only_a_background_response_is_cancelled(tenant, client):
    """``responses.cancel``: a background response (done at once here) comes back as it is;
    another is refused (OpenAI's reference: only background responses can be cancelled)."""
    background = client.responses.create(model=MODEL, input="x", background=True)
    assert client.responses.cancel(background.id).id == background.id
    foreground = client.responses.create(model=MODEL, input="x")
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.cancel(foreground.id)
    assert caught.value.body["message"] == (
        "Only responses created with background=true can be cancelled."
    )
    with pytest.raises(openai.NotFoundError):
        client.responses.cancel("resp_unknown")
    client.responses.retrieve(background.id)
    client.responses.input_tokens.count(model=MODEL, input="x")
    # Reads are answered from the store, not by a placeholder: the create requests alone are
    # unmatched (no scenario answered them).
    unmatched = tenant.requests(unmatched="true")
    assert [entry["method"] for entry in unmatched] == ["POST", "POST"]
    assert all(entry["path"].endswith("/responses") for entry in unmatched)


@pytest.mark.parametrize(
    ("given", "message", "code"),
    [
        ({"instructions": "Be kind."}, "Missing required parameter: 'input'.", "missing_required_parameter"),
        ({"input": []}, "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array instead.", "empty_array"),
    ],
)  # fmt: skip
def test_a_request_with_nothing_to_answer_is_refused(client, given, message, code):
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, **given)
    assert caught.value.body == {
        "message": message, "type": "invalid_request_error", "param": "input", "code": code,
    }  # fmt: skip
    assert client.responses.create(model=MODEL, input="", instructions="x").status == "completed"


def test_store_false_cannot_be_continued(client):
    unstored = client.responses.create(model=MODEL, input="x", store=False)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="y", previous_response_id=unstored.id)
    error = caught.value.body
    assert error["code"] == "previous_response_not_found"
    assert error["param"] == "previous_response_id"
    assert error["message"] == f"Previous response with id '{unstored.id}' not found."


def test_metadata_holds_at_most_sixteen_pairs(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model=MODEL, input="x", metadata={f"k{index}": "v" for index in range(17)}
        )
    error = caught.value.body
    assert (error["code"], error["param"]) == ("object_above_max_properties", "metadata")
    assert error["message"] == (
        "Invalid 'metadata': too many properties. Expected an object with at most 16 "
        "properties, but got an object with 17 properties instead."
    )
    sixteen = {f"k{index}": "v" for index in range(16)}
    assert client.responses.create(model=MODEL, input="x", metadata=sixteen).metadata == sixteen


def test_retrieve_equals_create_and_delete_then_404(client):
    created = client.responses.create(model=MODEL, input="keep me")
    assert client.responses.retrieve(created.id) == created
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve(created.id)
    assert caught.value.body["message"] == f"Response with id '{created.id}' not found."
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(created.id)


def test_input_items_order_and_pages(client):
    first = client.responses.create(model=MODEL, input=[{"role": "user", "content": "one"}])
    second = client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[{"role": "user", "content": "two"}, {"role": "user", "content": "three"}],
    )
    everything = client.responses.input_items.list(second.id, order="asc")
    kinds = [(item.type, getattr(item, "role", None)) for item in everything.data]
    assert kinds == [
        ("message", "user"),
        ("message", "assistant"),
        ("message", "user"),
        ("message", "user"),
    ]
    assert everything.data[1].id == first.output[0].id
    newest_first = client.responses.input_items.list(second.id)  # OpenAI's default: desc
    assert [item.id for item in newest_first.data] == [item.id for item in everything.data][::-1]
    page = client.responses.input_items.list(second.id, order="asc", limit=2)
    assert page.has_more and page.first_id == everything.data[0].id
    rest = client.responses.input_items.list(second.id, order="asc", limit=2, after=page.last_id)
    assert [item.id for item in [*page.data, *rest.data]] == [item.id for item in everything.data]
    assert not rest.has_more
    paged = list(client.responses.input_items.list(second.id, order="asc", limit=1))
    assert len(paged) == 4  # the SDK follows the pages by itself


def test_an_item_reference_resolves_against_stored_items(client):
    first = client.responses.create(model=MODEL, input="remember")
    answer_id = first.output[0].id
    second = client.responses.create(
        model=MODEL,
        input=[{"type": "item_reference", "id": answer_id}, {"role": "user", "content": "and?"}],
    )
    listed = client.responses.input_items.list(second.id, order="asc")
    assert listed.data[0].id == answer_id
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=MODEL, input=[{"type": "item_reference", "id": "msg_nope"}])
    assert caught.value.body["param"] == "input[0].id"
    assert caught.value.body["message"].startswith("Item with id 'msg_nope' not found. Items are")


@pytest.mark.parametrize(
    "body, message, param, code",
    [
        ({"input": "x"}, "Missing required parameter: 'model'.", "model", "missing_required_parameter"),
        ({"model": MODEL, "input": "x", "bogus": 1}, "Unknown parameter: 'bogus'.", "bogus", "unknown_parameter"),
        (
            {"model": MODEL, "input": [{"role": "user", "content": "a"}, {"role": "user", "content": 5}]},
            "Invalid type for 'input[1].content': expected one of an array of objects or string, but got an integer instead.",
            "input[1].content",
            "invalid_type",
        ),
        (
            {"model": MODEL, "input": "x", "tools": [WEATHER], "tool_choice": {"type": "function", "name": "find"}},
            "Tool choice 'find' not found in 'tools' parameter.",
            "tool_choice",
            None,
        ),
        (
            {"model": MODEL, "input": "x", "tools": [WEATHER], "tool_choice": {"type": "image_generation"}},
            "Tool choice 'image_generation' not found in 'tools' parameter.",
            "tool_choice",
            None,
        ),
        (  # a custom tool, by its name
            {"model": MODEL, "input": "x", "tools": [{"type": "custom", "name": "sql"}], "tool_choice": {"type": "custom", "name": "grep"}},
            "Tool choice 'grep' not found in 'tools' parameter.",
            "tool_choice",
            None,
        ),
        # A Chat Completions name, pointed to its new place (param null, as measured live).
        (
            {"model": MODEL, "input": "x", "response_format": {"type": "json_object"}},
            "Unsupported parameter: 'response_format'. In the Responses API, this parameter has moved to 'text.format'. Try again with the new parameter. See the API documentation for more information: https://platform.openai.com/docs/api-reference/responses/create.",
            None,
            "unsupported_parameter",
        ),
        # Known fields within two edits, nearest first, none the body already holds.
        ({"model": MODEL, "input": "x", "strem": True}, "Unknown parameter: 'strem'. Did you mean 'stream' or 'store'?", "strem", "unknown_parameter"),
        ({"model": MODEL, "input": "x", "inpu": "y"}, "Unknown parameter: 'inpu'.", "inpu", "unknown_parameter"),
        (
            {"model": MODEL, "input": [{"role": "user", "content": "a"}, {"role": "assistant", "content": [{"type": "input_text", "text": "b"}]}]},
            "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
            "input[1].content[0]",
            "invalid_value",
        ),
        (
            {"model": MODEL, "input": "x", "tools": [{**WEATHER, "name": "weather.get"}]},
            "Invalid 'tools[0].name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            "tools[0].name",
            "invalid_value",
        ),
        (
            {"model": MODEL, "input": "x", "text": {"format": {"type": "json_schema", "name": "my schema", "schema": {"type": "object"}}}},
            "Invalid 'text.format.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            "text.format.name",
            "invalid_value",
        ),
        (
            {"model": MODEL, "input": "x", "previous_response_id": "gen-123"},
            "Invalid 'previous_response_id': 'gen-123'. Expected an ID that begins with 'resp'.",
            "previous_response_id",
            "invalid_id_prefix",
        ),
    ],
)  # fmt: skip
def test_validation_in_openais_words(tenant, body, message, param, code):
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"
    response = post_json(tenant.server, path, body)
    assert response.status == 400
    assert response.json()["error"] == {
        "message": message, "type": "invalid_request_error", "param": param, "code": code,
    }  # fmt: skip


@pytest.mark.parametrize(
    "tools, choice",
    [
        ([{"type": "web_search_2025_08_26"}], {"type": "web_search"}),
        ([{"type": "web_search_preview"}], {"type": "web_search_preview_2025_03_11"}),
        ([WEATHER], {"type": "allowed_tools", "mode": "auto", "tools": [{"type": "function", "name": "x"}]}),
        ([{"type": "mcp", "server_label": "a", "server_url": "https://example.com/mcp"}], {"type": "mcp", "server_label": "a"}),
        ([WEATHER], "required"),
        (
            [{"type": "namespace", "name": "db", "description": "d", "tools": [{"type": "custom", "name": "sql"}]}],
            {"type": "custom", "name": "sql"},
        ),
    ],
)  # fmt: skip
def test_a_tool_choice_of_an_offered_tool_is_accepted(client, tools, choice):
    answered = client.responses.create(model=MODEL, input="x", tools=tools, tool_choice=choice)
    assert answered.status == "completed"


def test_tools_in_a_namespace_deferred_and_called_by_program_are_taken(client):
    """The function tools of 2026 as openai-python's types describe them: grouped in a
    ``namespace``, loaded through ``tool_search`` (``defer_loading``), called by a program
    (``caller``); their calls and outputs sent back with their namespace, and a text part
    ending a cacheable prefix."""
    lookup = {**WEATHER, "name": "lookup", "defer_loading": True, "output_schema": None}
    crm = {"type": "namespace", "name": "crm", "description": "Customers", "tools": [lookup]}
    call = {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"}
    answered = client.responses.create(
        model="o4-mini",
        input=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "input_text",
                        "text": "Find Ada",
                        "prompt_cache_breakpoint": {"mode": "explicit", "ttl": "30m"},
                    }
                ],
            },
            {**call, "namespace": "crm", "caller": {"type": "direct"}},
            {"type": "function_call_output", "call_id": "c1", "output": "{}", "namespace": "crm"},
        ],
        tools=[crm, {"type": "tool_search"}, {**WEATHER, "allowed_callers": ["programmatic"]}],
        tool_choice={"type": "function", "name": "lookup"},  # a function in a namespace
        reasoning={"effort": "low", "context": "all_turns"},
    )
    assert answered.status == "completed"


@pytest.mark.parametrize("choice", ["computer", "computer_use", "computer_use_preview"])
def test_the_computer_tool_is_chosen_by_any_of_its_names(client, choice):
    tool = {"type": "computer_use_preview", "display_width": 1024, "display_height": 768,
            "environment": "browser"}  # fmt: skip
    answered = client.responses.create(
        model=MODEL, input="x", tools=[tool], tool_choice={"type": choice}
    )
    assert answered.status == "completed"


def test_allowed_tools_that_require_a_call_get_one_of_them(client):
    """Without a scenario, the fallback calls a tool ``allowed_tools`` allows, as chat's does."""
    other = {**WEATHER, "name": "get_time"}
    choice = {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_weather"}]}  # fmt: skip
    answered = client.responses.create(
        model=MODEL, input="x", tools=[other, WEATHER], tool_choice=choice
    )
    assert [item.name for item in answered.output] == ["get_weather"]


@pytest.mark.parametrize(
    ("given", "refused"),
    [
        ({"input": "Say hi", "instructions": "Reply in json"}, True),  # instructions do not count
        ({"input": [{"role": "user", "content": [{"type": "input_text", "text": "As JSON"}]}]}, False),
        ({"input": "Say hi", "previous_response_id": "stored"}, False),  # not checked: see docs
    ],
)  # fmt: skip
def test_json_mode_asks_for_the_word_json_in_the_input(tenant, given, refused):
    """The live API's sentence (a client project's recorded answer, 2025; confirmed live by
    another that instructions alone are not enough)."""
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"
    if given.get("previous_response_id") == "stored":
        stored = post_json(tenant.server, path, {"model": MODEL, "input": "Answer in JSON."})
        given = {**given, "previous_response_id": stored.json()["id"]}
    body = {"model": MODEL, "text": {"format": {"type": "json_object"}}, **given}
    answered = post_json(tenant.server, path, body)
    assert answered.status == (400 if refused else 200)
    error = answered.json().get("error") or {}
    wanted = {
        "message": "Response input messages must contain the word 'json' in some form to use "
        "'text.format' of type 'json_object'.",
        "type": "invalid_request_error", "param": "text.format", "code": None,
    }  # fmt: skip
    assert (error == wanted) is refused


def test_a_tool_choice_is_not_checked_when_a_prompt_may_bring_tools(client):
    choice = {"type": "function", "name": "get_weather"}
    answered = client.responses.create(
        model=MODEL, input="x", prompt={"id": "pmpt_1"}, tool_choice=choice
    )
    assert answered.status == "completed"


def test_what_openai_accepts_is_accepted(client):
    tool = {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}
    answer = client.responses.create(
        model="o4-mini",  # a model that reasons takes reasoning settings
        input=[
            {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "s"}]},
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        ],
        tools=[tool],  # no "strict": OpenAI takes it, and echoes strict true
        reasoning={"effort": "low"},
        metadata={"k": "v"},
    )
    assert answer.tools[0].strict is True and answer.metadata == {"k": "v"}
    assert answer.reasoning.effort == "low"


@pytest.mark.parametrize(
    ("model", "reasoning", "echoed"),
    [
        (MODEL, None, {"context": None, "effort": None, "summary": None}),
        (
            "gpt-5",
            None,
            {"context": "current_turn", "effort": "medium", "mode": "standard", "summary": None},
        ),
        (
            "o4-mini",
            {"effort": "low", "context": "all_turns", "summary": "auto"},
            {"context": "all_turns", "effort": "low", "mode": "standard", "summary": "auto"},
        ),
    ],
)
def test_the_reasoning_settings_are_echoed_as_the_live_api_does(tenant, model, reasoning, echoed):
    """Live captures of 2026: gpt-4o-mini ``{"context": null, "effort": null, "summary":
    null}``; gpt-5-nano, asked nothing, adds its effort, context and mode."""
    body = {"model": model, "input": "hi", **({"reasoning": reasoning} if reasoning else {})}
    answer = post_json(tenant.server, f"/t/{tenant.name}/v1/responses", body).json()
    assert answer["reasoning"] == echoed


@pytest.mark.parametrize(
    ("model", "extra", "param", "code"),
    [
        ("o3", {"temperature": 0.5}, "temperature", None),
        ("gpt-5-2025-08-07", {"top_p": 0.9}, "top_p", None),  # a snapshot as its model
        (MODEL, {"reasoning": {"effort": "high"}}, "reasoning.effort", "unsupported_parameter"),
    ],
)
def test_what_a_model_does_not_take_is_refused(client, model, extra, param, code):
    """In the live API's words (vercel/ai's recorded answer; its users' measurements, 2026);
    the defaults, and a model the profile does not list, pass."""
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=model, input="x", **extra)
    assert caught.value.body == {
        "message": f"Unsupported parameter: '{param}' is not supported with this model.",
        "type": "invalid_request_error", "param": param, "code": code,
    }  # fmt: skip
    assert client.responses.create(model="o3", input="x", temperature=1, top_p=1).status
    assert client.responses.create(model="gpt-9-unlisted", input="x", temperature=0.2).status


def test_a_function_tool_is_strict_unless_it_says_otherwise(tenant, client):
    """The Responses API holds a function's arguments to its schema by default (the response
    echoes ``strict: true``), so a scenario whose call another schema would take steps aside;
    ``strict: false`` lets it answer."""
    tenant.add(
        {
            "name": "someone-elses-weather",
            "on_ruled_out": "no_match",
            "match": {"tools": ["get_weather"]},
            "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"location": "Oslo"}}]},
        }
    )
    parameters = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    tool = {"type": "function", "name": "get_weather", "parameters": parameters}
    ask = {"model": MODEL, "input": "Weather in Oslo?", "tool_choice": "required"}
    answer = client.responses.create(**ask, tools=[tool])
    assert answer.tools[0].strict is True
    assert json.loads(answer.output[0].arguments) == {"city": "example"}  # the fallback's
    answer = client.responses.create(**ask, tools=[{**tool, "strict": False}])
    assert json.loads(answer.output[0].arguments) == {"location": "Oslo"}  # the scenario's


def test_a_verbosity_the_model_does_not_take_is_refused(client):
    """Only GPT-5 models take ``low`` and ``high`` (a sweep of the live API, 2026)."""
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="gpt-4.1", input="x", text={"verbosity": "low"})
    assert caught.value.body == {
        "message": "Unsupported value: 'text.verbosity' does not support 'low' with this model. "
        "Supported values are: 'medium'.",
        "type": "invalid_request_error", "param": "text.verbosity", "code": "unsupported_value",
    }  # fmt: skip
    answer = client.responses.create(model="gpt-5-mini", input="x", text={"verbosity": "low"})
    assert answer.text.verbosity == "low"


def test_fields_of_2026_are_taken_and_echoed(tenant, client):
    """What openai-python's ``ResponseCreateParams`` has, taken; ``service_tier`` the tier asked
    for while the response is in progress (``auto`` unless named), then the tier that served it
    (vercel/ai's recorded streams)."""
    answer = client.responses.create(
        model=MODEL,
        input="x",
        service_tier="flex",
        prompt_cache_retention="24h",
        prompt_cache_options={"mode": "implicit", "ttl": "12h", "prewarm": False},
        moderation={"model": "omni-moderation-latest"},
        context_management=[{"type": "compaction", "compact_threshold": 1000}],
        # Newer than the oldest SDK this runs with.
        extra_body={
            "background_options": {"completion_window": "soonest"},
            "image": {"context_compression": "auto"},
        },
    )
    assert (answer.service_tier, answer.prompt_cache_retention) == ("flex", "24h")
    assert answer.completed_at >= answer.created_at
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"
    for asked, opening, served in ((None, "auto", "default"), ("fast", "fast", "priority")):
        tier = {} if asked is None else {"service_tier": asked}
        text = post_json(
            tenant.server, path, {"model": MODEL, "input": "x", "stream": True, **tier}
        )
        events = [
            json.loads(b.split("\n")[1][6:]) for b in text.body.decode().strip().split("\n\n")
        ]
        assert events[0]["response"]["service_tier"] == opening
        assert events[0]["response"]["completed_at"] is None
        assert events[-1]["response"]["service_tier"] == served


def test_a_scripted_429_and_a_disconnect(tenant, client):
    tenant.add(
        [
            {"name": "limited", "match": {"last_user_message": "limit"}, "reply": {"status": 429}},
            {
                "name": "cut",
                "match": {"last_user_message": "cut"},
                "reply": {
                    "content": "a b c d e f",
                    "fault": {"type": "disconnect", "after_chunks": 4},
                },
            },
        ]
    )
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model=MODEL, input="limit")
    received = []
    with pytest.raises(openai.APIConnectionError):
        for event in client.responses.create(model=MODEL, input="cut", stream=True):
            received.append(event)
    assert len(received) == 4  # after_chunks counts events


def test_a_reasoning_item_and_a_refusal(tenant, client):
    tenant.add(
        [
            {"name": "r", "match": {"last_user_message": "think"}, "reply": {"reasoning_content": "Hmm.", "content": "42"}},
            {"name": "no", "match": {"last_user_message": "bad"}, "reply": {"content": None, "refusal": "No."}},
        ]
    )  # fmt: skip
    thought = client.responses.create(model=MODEL, input="think", reasoning={"summary": "auto"})
    assert [item.type for item in thought.output] == ["reasoning", "message"]
    assert thought.output[0].summary[0].text == "Hmm." and thought.output_text == "42"
    assert thought.usage.output_tokens_details.reasoning_tokens > 0
    unasked = client.responses.create(model=MODEL, input="think")
    assert unasked.output[0].summary == []  # no summary unless asked for (an o3 record)
    assert unasked.usage.output_tokens_details.reasoning_tokens > 0
    refused = client.responses.create(model=MODEL, input="bad")
    assert refused.output[0].content[0].type == "refusal"
    tenant.add(
        {"name": "both", "match": {"last_user_message": "both"}, "reply": {"content": "Partly.", "refusal": "No more."}}
    )  # fmt: skip
    with client.responses.stream(model=MODEL, input="both") as stream:
        streamed = stream.get_final_response()
    for answer in (client.responses.create(model=MODEL, input="both"), streamed):
        # A text and a refusal: one message of both parts, as chat answers both.
        parts = [
            part.model_dump(include={"type", "text", "refusal"})
            for part in answer.output[0].content
        ]
        assert parts == [
            {"type": "output_text", "text": "Partly."},
            {"type": "refusal", "refusal": "No more."},
        ]


def test_reasoning_comes_sealed_and_goes_back_sealed_or_by_a_stored_id(tenant, client):
    """Reasoning comes with its ``encrypted_content``, as the API of 2026 sends it by default.
    With ``store: false`` nothing is kept, so a reasoning item sent back by its id alone is
    unknown: the live API's 404 (vercel/ai#7543, whose SDK sent ``encrypted_content: null``).
    Sent back sealed, with or without its id (Codex sends none), it is taken; sent twice, it is
    a duplicate."""
    tenant.add(
        {"name": "r", "match": {"api": "responses"}, "reply": {"reasoning_content": "Hmm.", "content": "42"}}
    )  # fmt: skip
    unstored = client.responses.create(model=MODEL, input="think", store=False)
    reasoning = unstored.output[0].model_dump(exclude_none=True)
    # Shaped as OpenAI's Fernet token: version 0x80, then the time it was made.
    token = base64.urlsafe_b64decode(reasoning["encrypted_content"])
    assert token[0] == 0x80 and int.from_bytes(token[1:9], "big") == unstored.created_at
    turn = [{"role": "user", "content": "think"}, reasoning, {"role": "user", "content": "more"}]
    assert client.responses.create(model=MODEL, input=turn, store=False).output_text == "42"
    turn[1] = {**reasoning, "encrypted_content": None, "content": None}
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=MODEL, input=turn, store=False)
    assert caught.value.body["message"] == (
        f"Item with id '{reasoning['id']}' not found. Items are not persisted when `store` is "
        "set to false. Try again with `store` set to true, or remove this item from your input."
    )
    assert caught.value.body["param"] == "input[1].id"
    turn[1] = {
        "type": "reasoning",
        "summary": [],
        "encrypted_content": reasoning["encrypted_content"],
    }
    assert client.responses.create(model=MODEL, input=turn, store=False).output_text == "42"
    stored = client.responses.create(model=MODEL, input="think")
    turn[1] = {**stored.output[0].model_dump(exclude_none=True), "encrypted_content": None}
    continued = client.responses.create(model=MODEL, input=turn)  # found by its id
    listed = client.responses.input_items.list(continued.id, order="asc").data
    assert [item.type for item in listed] == ["message", "reasoning", "message"]
    with pytest.raises(openai.BadRequestError, match="Duplicate item found with id rs_"):
        client.responses.create(model=MODEL, input=turn, previous_response_id=stored.id)


def test_max_output_tokens_leaves_the_response_incomplete(tenant, client):
    tenant.add({"name": "long", "match": {"api": "responses"}, "reply": {"content": "word " * 100}})
    cut = client.responses.create(model=MODEL, input="x", max_output_tokens=16)
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"
    assert cut.usage.output_tokens == 16
    assert cut.output[0].status == "incomplete"  # the message that was cut, too
    streamed = list(
        client.responses.create(model=MODEL, input="x", max_output_tokens=16, stream=True)
    )
    assert streamed[-1].type == "response.incomplete"
    done = [event.item for event in streamed if event.type == "response.output_item.done"]
    assert [item.status for item in done] == ["incomplete"]
    # Only a completed response has a completion time (live captures of 2026).
    assert cut.completed_at is None and streamed[-1].response.completed_at is None


def test_reasoning_that_takes_the_whole_limit_leaves_no_message(tenant, client):
    """``max_output_tokens`` holds reasoning too (openai-python's docstring): spent on it, the
    response is incomplete with its reasoning alone."""
    reply = {"reasoning_content": "step " * 30, "content": "The answer."}
    tenant.add({"name": "reasoned", "match": {"api": "responses"}, "reply": reply})
    cut = client.responses.create(model="o4-mini", input="x", max_output_tokens=16)
    assert (cut.status, cut.incomplete_details.reason) == ("incomplete", "max_output_tokens")
    assert [item.type for item in cut.output] == ["reasoning"] and cut.output_text == ""
    assert cut.usage.output_tokens == cut.usage.output_tokens_details.reasoning_tokens == 16
    whole = client.responses.create(model="o4-mini", input="x", max_output_tokens=40)
    assert whole.status == "completed" and whole.output_text == "The answer."


def test_a_function_call_cut_short_is_the_incomplete_item(tenant, client):
    reply = {"content": "Let me look.", "tool_calls": [{"name": "lookup", "arguments": "x " * 40}]}
    tenant.add({"name": "long-call", "match": {"api": "responses"}, "reply": reply})
    cut = client.responses.create(model=MODEL, input="x", max_output_tokens=16)
    message, call = cut.output
    assert (message.status, call.status, cut.status) == ("completed", "incomplete", "incomplete")
    assert ("x " * 40).startswith(call.arguments) and call.arguments != "x " * 40


def test_a_content_filter_leaves_the_response_incomplete(tenant, client):
    reply = {"content": "cut", "finish_reason": "content_filter"}
    tenant.add({"name": "filtered", "match": {"api": "responses"}, "reply": reply})
    cut = client.responses.create(model=MODEL, input="x")
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "content_filter"
    assert cut.output[0].status == "incomplete"


def test_tenants_do_not_see_each_others_responses(server, tenant, client):
    created = client.responses.create(model=MODEL, input="mine")
    other = openai.OpenAI(
        base_url=server.url + "/t/someone-else/v1", api_key="sk-test", max_retries=0
    )
    with other:
        with pytest.raises(openai.NotFoundError):
            other.responses.retrieve(created.id)
        with pytest.raises(openai.BadRequestError):
            other.responses.create(model=MODEL, input="x", previous_response_id=created.id)


def test_seed_profiles_answer_404(server):
    for path in (
        "/gomodel/v1/responses",
        "/deepseek/v1/responses",
        "/google/v1beta/openai/responses",
    ):
        response = post_json(server, path, {"model": MODEL, "input": "x"})
        assert response.status == 404, path


def test_the_journal_shows_responses_requests(tenant, client):
    created = client.responses.create(model=MODEL, input="journaled")
    client.responses.retrieve(created.id)
    said = [{"role": "user", "content": [{"type": "input_text", "text": "as items"}]}]
    output = {"type": "function_call_output", "call_id": "c", "output": "after the user"}
    call = {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}
    client.responses.create(model=MODEL, input=[*said, call, output])
    posted, fetched, itemized = tenant.requests()
    assert (posted["api"], posted["method"], posted["status"]) == ("responses", "POST", 200)
    assert posted["response"]["id"] == created.id
    assert posted["last_user_message"] == "journaled"
    assert itemized["last_user_message"] == "as items"
    assert (fetched["api"], fetched["method"], fetched["path"].endswith(created.id)) == (
        "responses",
        "GET",
        True,
    )


def test_a_schema_the_fallback_cannot_build_is_named_by_its_place(client):
    unbuildable = {"type": "wat"}  # not a JSON Schema
    tool = {
        "type": "function",
        "name": "f",
        "parameters": {"type": "object", "properties": {"x": unbuildable}, "required": ["x"]},
    }
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model=MODEL, input="x", tools=[{"type": "web_search"}, tool], tool_choice="required"
        )
    assert caught.value.body["param"] == "tools[1].parameters"
    text = {"format": {"type": "json_schema", "name": "n", "schema": unbuildable}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="x", text=text)
    assert caught.value.body["param"] == "text.format.schema"
    # Not a JSON Schema, within an object root: the fallback's refusal, with the Responses
    # API's code for a format (chat's is null).
    text["format"]["schema"] = tool["parameters"]
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input="x", text=text)
    assert (caught.value.param, caught.value.code) == ("text.format.schema", "invalid_json_schema")
    assert caught.value.body["message"].startswith("Invalid schema for response_format 'n': ")


@pytest.mark.parametrize(
    "kind, status",
    [("error_event", 503), ("error_event", 401), ("no_done", 503), ("malformed_chunk", 503)],
)
def test_stream_faults_in_the_responses_wire(tenant, kind, status):
    tenant.add(
        {
            "name": "faulty",
            "match": {"api": "responses"},
            "reply": {
                "content": "a b c",
                "fault": {"type": kind, "after_chunks": 2, "status": status},
            },
        }
    )
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"
    text = post_json(
        tenant.server, path, {"model": MODEL, "input": "x", "stream": True}
    ).body.decode()
    blocks = text.strip("\n").split("\n\n")
    kinds = [block.split("\n")[0].removeprefix("event: ") for block in blocks]
    if kind == "error_event":  # then the response failed on it (vercel/ai's recorded stream)
        assert kinds == ["response.created", "response.in_progress", "error", "response.failed"]
        error, failed = (json.loads(block.split("\n")[1][6:]) for block in blocks[-2:])
        assert (error["type"], error["sequence_number"]) == ("error", 2)
        assert error["message"] and "code" in error and "param" in error
        assert failed["sequence_number"] == 3 and failed["response"]["status"] == "failed"
        # A response fails on one of the codes its reference lists (``ResponseErrorCode``):
        # a key's error is none of them.
        code = "server_error" if status == 401 else error["code"]
        assert failed["response"]["error"] == {"code": code, "message": error["message"]}
        assert error["code"] == ("invalid_api_key" if status == 401 else "server_error")
        assert failed["response"]["output"] == [] and failed["response"]["usage"] is None
    elif kind == "no_done":  # every event but the last
        assert kinds[:2] == ["response.created", "response.in_progress"] and len(kinds) == 2
    else:
        assert kinds[-1] == "response.output_text.delta"
        with pytest.raises(ValueError):
            json.loads(blocks[-1].split("\n")[1][6:])


def test_an_error_event_without_a_count_fails_a_response_that_exists(tenant):
    # The live API sends ``response.created`` before the error that fails a response (vercel/ai's
    # recorded streams openai-error.1.chunks.txt, openai-response-failed-only.1.chunks.txt).
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"
    body = {"model": MODEL, "input": "x", "stream": True}
    text = post_json(tenant.server, path, body, {"X-Mock-Fault": "error_event"}).body.decode()
    blocks = text.strip("\n").split("\n\n")
    kinds = [block.split("\n")[0].removeprefix("event: ") for block in blocks]
    assert kinds == ["response.created", "response.in_progress", "error", "response.failed"]
    numbers = [json.loads(block.split("\n")[1][6:])["sequence_number"] for block in blocks]
    assert numbers == [0, 1, 2, 3]
    (entry,) = tenant.requests()
    assert entry["chunks"] == 2


def test_no_done_without_a_count_sends_every_event_but_the_last(tenant):
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"
    body = {"model": MODEL, "input": "x", "stream": True}
    whole, cut = (
        post_json(tenant.server, path, body, headers).body.decode().strip("\n").split("\n\n")
        for headers in (None, {"X-Mock-Fault": "no_done"})
    )
    assert whole[-1].startswith("event: response.completed")
    assert len(cut) == len(whole) - 1 and cut[-1].startswith("event: response.output_item.done")


def test_items_get_ids_and_an_item_twice_is_refused(client):
    output = {"type": "function_call_output", "id": None, "call_id": "c1", "output": "x"}
    call = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}
    answered = client.responses.create(model=MODEL, input=[call, output])
    listed = client.responses.input_items.list(answered.id, order="asc").data
    assert [item.id.split("_")[0] for item in listed] == ["fc", "fco"]
    first_answer = answered.output[0].id
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model=MODEL,
            previous_response_id=answered.id,
            input=[{"type": "item_reference", "id": first_answer}],
        )
    assert caught.value.body["message"].startswith(f"Duplicate item found with id {first_answer}")


def test_unknown_models_are_refused_as_on_chat():
    with MockServer(unknown_models="reject") as strict:
        response = post_json(strict, "/v1/responses", {"model": "gpt-9", "input": "x"})
        assert response.status == 404 and response.json()["error"]["code"] == "model_not_found"


def test_many_item_references_are_resolved_in_one_pass(tenant, client):
    """100,000 references to the newest stored item cost about as much with 200 responses
    stored as with one: a scan of the store per reference would pass them all (timed against
    each other, so that a loaded machine slows both)."""
    path = tenant.url().removeprefix(tenant.server.url) + "/responses"

    def timed(wanted: str) -> float:
        body = {"model": MODEL, "input": [{"type": "item_reference", "id": wanted}] * 100_000}
        started = time.monotonic()
        response = post_json(tenant.server, path, body)
        assert response.status == 400
        said = response.json()["error"]["message"]
        assert said.startswith(f"Duplicate item found with id {wanted}")
        return time.monotonic() - started

    alone = timed(client.responses.create(model=MODEL, input="fill the store").output[0].id)
    for _ in range(199):
        newest = client.responses.create(model=MODEL, input="fill the store")
    assert timed(newest.output[0].id) < 2.5 * alone


def test_an_answer_in_many_messages_is_joined_in_one_pass():
    """60,000 assistant messages in a row are seen as fast as 60,000 that alternate with the
    user's: joining each to the text before it would copy that text again every time."""

    def seen(roles: tuple[str, ...]) -> float:
        items = [
            {"type": "message", "role": roles[i % len(roles)], "content": "x" * 40}
            for i in range(60_000)
        ]
        return min(timeit.repeat(lambda: _chat_body({"model": MODEL}, items), number=1, repeat=3))

    assert seen(("assistant",)) < 2 * seen(("user", "assistant"))


def test_a_stream_error_event_raises_in_the_sdk(tenant, client):
    tenant.add(
        {
            "name": "breaks",
            "match": {"api": "responses"},
            "reply": {"content": "a b c", "fault": {"type": "error_event", "after_chunks": 2}},
        }
    )
    with pytest.raises(openai.APIError) as caught:
        for _ in client.responses.create(model=MODEL, input="x", stream=True):
            pass
    assert caught.value.body["code"] == "server_error"


def test_an_error_event_without_a_count_reaches_the_sdk_after_the_response_exists(client):
    seen = []
    with pytest.raises(openai.APIError) as caught:
        for event in client.responses.create(
            model=MODEL, input="x", stream=True, extra_headers={"X-Mock-Fault": "error_event"}
        ):
            seen.append((event.type, event.response.status))
    assert seen == [("response.created", "in_progress"), ("response.in_progress", "in_progress")]
    assert caught.value.body["code"] == "server_error"


def test_integral_decimal_counts_are_integers(client):
    response = client.responses.create(
        model=MODEL, input="say a lot", extra_body={"max_output_tokens": 16.0}
    )
    assert response.max_output_tokens == 16


def test_delete_answers_as_the_api_reference_shows(tenant, client):
    created = client.responses.create(model=MODEL, input="delete me")
    path = f"/t/{tenant.name}/v1/responses/{created.id}"
    answer = raw_request(tenant.server, "DELETE", path, headers=auth_headers(None)).json()
    assert answer == {"id": created.id, "object": "response", "deleted": True}


def test_input_items_are_the_sdks_item_models(tenant, client):
    created = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "and"}]},
            {"role": "user", "content": "again"},
        ],
    )
    path = f"/t/{tenant.name}/v1/responses/{created.id}/input_items?order=asc"
    page = raw_request(tenant.server, "GET", path, headers=auth_headers(None)).json()
    items = ResponseItemList.model_validate(page, strict=False).data
    assert [item.status for item in items] == ["completed"] * 4
    # The API reference's OutputTextContent requires both, as on the model's own output.
    said = [part for item in page["data"][1:3] for part in item["content"]]
    assert said == [
        {"type": "output_text", "annotations": [], "logprobs": [], "text": "hello"},
        {"type": "output_text", "annotations": [], "logprobs": [], "text": "and"},
    ]


def test_an_image_is_listed_with_its_detail(client):
    """``InputImageContent`` requires ``detail`` in what the API returns ("Defaults to auto"):
    without it the SDK reads the user's message as model output."""
    image = {"type": "input_image", "image_url": "https://example.com/a.png"}
    content = [{"type": "input_text", "text": "what is this"}, image]
    created = client.responses.create(
        model=MODEL,
        input=[
            {"role": "user", "content": content},
            {"role": "user", "content": [{**image, "detail": "low"}]},
        ],
    )
    first, second = client.responses.input_items.list(created.id, order="asc").data
    assert first.type == "message" and type(first).__name__ == "ResponseInputMessageItem"
    assert first.content[1].detail == "auto"
    assert second.content[0].detail == "low"


def test_a_chain_of_long_conversations_counts_against_the_store(tenant, client):
    """Each stored response keeps its whole conversation alive, the items it shares with the
    responses before it too: that counts, so a chain pushes out the oldest responses, and one
    whose conversation outgrows the tenant's bound is not stored."""
    store = tenant.server.app[STATE].tenants.get(tenant.name).store
    store.max_bytes = 1_000_000  # the tenant's bound, lowered to keep the test short
    many = [{"role": "user", "content": f"m{index}"} for index in range(1_000)]
    first = client.responses.create(model=MODEL, input=many)  # some 360 KB in memory
    previous = first.id
    for _ in range(2):  # each some 360 KB too, with the items it shares: past the bound
        previous = client.responses.create(
            model=MODEL, input="more", previous_response_id=previous
        ).id
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    assert client.responses.retrieve(previous).id == previous
    grown = client.responses.create(model=MODEL, input=many * 2, previous_response_id=previous)
    with pytest.raises(openai.BadRequestError, match="not found"):  # over the bound alone
        client.responses.create(model=MODEL, input="more", previous_response_id=grown.id)
    assert store.bytes <= store.max_bytes


def test_a_request_of_many_small_items_is_stored_by_what_it_holds_in_memory(tenant, client):
    """Parsed, a small input item takes some ten times its JSON text: the store counts that,
    so a tenant's bound holds for what its responses keep in memory."""
    store = tenant.server.app[STATE].tenants.get(tenant.name).store
    store.max_bytes = 1_000_000
    many = [{"role": "user", "content": ""}] * 10_000  # 290 KB of JSON, 3.5 MB in memory
    response = client.responses.create(model=MODEL, input=many)
    with pytest.raises(openai.BadRequestError, match="not found"):
        client.responses.create(model=MODEL, input="more", previous_response_id=response.id)
    assert store.bytes == 0


@pytest.mark.parametrize(
    "text, instructions",
    [("word " * 6_000, None), ("Hi", "rule " * 8_000), ("雨" * 10_000, None)],
    ids=["its text", "the settings it echoes", "its text's UTF-8 bytes"],
)
def test_a_stream_is_sized_by_every_copy_of_what_it_carries(text, instructions):
    """A Responses stream carries its text five times and the request's settings three: a reply
    within ``max_response_bytes`` as a response (30-40 KB) can be past it as a stream."""
    long = {"name": "long", "reply": {"content": text, "stream": {"chunk": "word", "size": 1000}}}
    with MockServer(max_response_bytes=100_000) as server:
        server.add(long)
        with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as sdk:
            asked = {"model": MODEL, "input": "x", "instructions": instructions}
            assert sdk.responses.create(**asked).output_text == text
            with pytest.raises(openai.BadRequestError) as caught:
                sdk.responses.create(**asked, stream=True)
    assert caught.value.body["code"] == "response_too_large"


def test_a_strict_miss_on_the_responses_api_saves_as_a_scenario_that_answers_it():
    """Scenarios were asked, and none was loaded to come near: the saved scenario is on the
    conversation as they saw it, so it answers the same request."""
    with MockServer(strict=True) as strict:
        client = made(openai.OpenAI(base_url=strict.base_url, api_key=strict.api_key))
        asked = [{"role": "user", "content": "second turn"}]
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model=MODEL, input=asked)
        (miss,) = strict.requests
        assert miss["asked"] and miss["unmatched"]
        text = raw_request(strict, "GET", f"/__admin/requests/{miss['id']}/scenario").body.decode()
        (saved,) = yaml.safe_load(text)["scenarios"]
        assert saved["match"]["last_user_message"] == {"equals": "second turn"}
        strict.add({**saved, "reply": {"content": "found"}})
        assert client.responses.create(model=MODEL, input=asked).output_text == "found"


def test_a_read_of_a_stored_response_is_no_scenario(tenant, client):
    made_one = client.responses.create(model=MODEL, input="keep me")
    client.responses.retrieve(made_one.id)
    created, read = tenant.requests()
    assert tenant.admin("GET", f"/requests/{created['id']}/scenario").status == 200
    refused = tenant.admin("GET", f"/requests/{read['id']}/scenario")
    assert refused.status == 409
    assert refused.json()["error"]["message"].endswith(
        "reads what the server keeps; scenarios answer only the requests that make an answer"
    )


def test_a_required_call_no_function_can_make_is_answered_in_words_with_a_warning(client):
    """Hosted tools are never called: a request that requires a call of one gets words, and the
    header says why (LangChain's built-in tools with ``tool_choice="any"``)."""
    search = {"type": "web_search_preview"}
    for choice in ("required", search):
        answered = client.responses.with_raw_response.create(
            model=MODEL, input="Look it up", tools=[search], tool_choice=choice
        )
        assert answered.parse().output_text == "This is a mock response to: Look it up"
        assert answered.headers["x-mock-fallback-warning"].startswith(
            "tool_choice asks for a call the fallback cannot make"
        )


def test_a_history_of_any_items_a_response_may_hold_is_taken(tenant, client):
    """An agent sends a response's output back whatever its items: a web search, a custom
    tool's call and its output, an MCP approval, a call's output that holds an image. OpenAI
    takes every item its reference lists (openai/openai-openapi's ``Item``); so does the server,
    giving an id to each that has none and listing each as sent, an image part with its
    ``detail``. Scenarios see none of the hosted tools' items."""
    tenant.add(
        {"name": "two", "match": {"api": "responses", "turn": 2}, "reply": {"content": "Rain."}}
    )
    history = [
        {"role": "user", "content": "Weather?"},
        {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {"type": "search", "query": "w"}},
        {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed", "content": [{"type": "output_text", "text": "Sunny", "annotations": []}]},
        {"type": "custom_tool_call", "call_id": "c1", "name": "run", "input": "ls"},
        {"type": "custom_tool_call_output", "call_id": "c1", "output": "a.txt"},
        {"type": "mcp_approval_response", "approve": True, "approval_request_id": "mcpr_1"},
        {"type": "function_call", "call_id": "c2", "name": "look", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_image", "image_url": "https://example.com/a.png"}]},
        {"role": "user", "content": "And tomorrow?"},
    ]  # fmt: skip
    answered = client.responses.create(model=MODEL, input=history, tools=[{"type": "web_search"}])
    assert answered.output_text == "Rain."  # two user messages: the hosted items unseen
    listed = client.responses.input_items.list(answered.id, order="asc").data
    assert [item.type for item in listed] == [item.get("type", "message") for item in history]
    assert listed[1].id == "ws_1" and listed[3].id.startswith("ctc_")
    assert listed[7].output[0].detail == "auto"  # ``InputImageContent`` requires it
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=MODEL, input=[{"type": "web_search"}])
    assert "'web_search_call'" in caught.value.body["message"]  # among the types OpenAI takes
    # What the API made has its id (the live 400, openai/openai-agents-python#3267), a string.
    search = {"type": "web_search_call", "status": "completed", "action": {}}
    for item, param, words in (
        (search, "input[0].id", "Missing required parameter: 'input[0].id'."),
        ({**search, "id": [1]}, "input[0].id", "Invalid type for 'input[0].id'"),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(model=MODEL, input=[item, {"role": "user", "content": "?"}])
        assert caught.value.body["param"] == param and words in caught.value.body["message"]
    said = {**search, "id": "ws_2", "role": "assistant"}  # no message for all its role
    assert client.responses.create(model=MODEL, input=[said, *history[-1:]]).status == "completed"


@pytest.mark.parametrize("kind", [None, "absent"], ids=["type null", "no type"])
def test_an_item_reference_may_leave_out_its_type(client, kind):
    """``ItemReferenceParam``: its ``type`` may be null or left out (the reference's
    ``anyOf[item_reference, null]``, openai-python's ``Optional[Literal["item_reference"]]``)."""
    first = client.responses.create(model=MODEL, input="Hi")
    reference = {"id": first.output[0].id} | ({} if kind == "absent" else {"type": None})
    went_on = client.responses.create(
        model=MODEL, input=[reference, {"role": "user", "content": "More"}]
    )
    listed = client.responses.input_items.list(went_on.id, order="asc").data
    assert listed[0].id == first.output[0].id
