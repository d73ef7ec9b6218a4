"""The fallback answers structured-output requests with values real Pydantic models accept:
``chat.completions.parse`` (plain and streamed) and strict function tools, through the official
SDK, for models of growing difficulty; and the JSON Schema generator on its own, every value
checked with ``jsonschema``."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import Optional
from uuid import UUID

import openai
import pytest
from conftest import API_KEY, made
from fuzzing import schemas
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field

from mock_server.engine.patterns import string_matching
from mock_server.engine.values import CannotGenerate, value_for


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):  # nested
    name: str
    age: int
    address: Address


class Item(BaseModel):
    sku: str
    quantity: int = Field(ge=1)


class Order(BaseModel):  # a list of nested models
    items: list[Item]
    total: float


class Colour(StrEnum):
    red = "red"
    green = "green"


class Preferences(BaseModel):  # Optional fields and an Enum behind a $ref
    colour: Colour
    nickname: Optional[str]  # noqa: UP045 - the spelling people write
    score: float | None


class Node(BaseModel):  # a recursive tree
    value: int
    children: list[Node]


class Booking(BaseModel):  # constraints, formats
    code: str = Field(pattern=r"^[A-Z]{3}-\d{4}$")
    guests: int = Field(ge=1, le=10)
    note: str = Field(max_length=20)
    starts: datetime
    day: date
    booking_id: UUID


MODELS = [Person, Order, Preferences, Node, Booking]
ASK = [{"role": "user", "content": "Fill it in."}]


@pytest.fixture
def client(server) -> openai.OpenAI:
    return made(openai.OpenAI(base_url=server.url + "/v1", api_key=API_KEY, max_retries=0))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_parse_gets_a_valid_instance(client, model):
    completion = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=model)
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, model)


def test_the_bundled_greeting_leaves_structured_output_to_the_fallback(client):
    hello = [{"role": "user", "content": "Hello"}]
    greeted = client.chat.completions.create(model="gpt-4o", messages=hello)
    assert greeted.choices[0].message.content == "Hello! How can I help you today?"
    completion = client.chat.completions.parse(
        model="gpt-4o", messages=hello, response_format=Person
    )
    assert isinstance(completion.choices[0].message.parsed, Person)


class Verdict(BaseModel):  # what an agent's guardrail asks for
    is_homework: bool
    reasoning: str


def test_the_bundled_extraction_example_leaves_other_schemas_to_the_fallback(client):
    ask = [{"role": "user", "content": "Extract the person: Ada"}]
    completion = client.chat.completions.parse(model="gpt-4o", messages=ask, response_format=Order)
    assert isinstance(completion.choices[0].message.parsed, Order)


def test_generated_flags_are_false_so_a_guardrail_lets_its_input_through(client):
    hello = [{"role": "user", "content": "Hello"}]
    parsed = client.chat.completions.parse(model="gpt-4o", messages=hello, response_format=Verdict)
    assert parsed.choices[0].message.parsed.is_homework is False


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_streamed_parse_gets_a_valid_instance(client, model):
    with client.chat.completions.stream(
        model="gpt-4o", messages=ASK, response_format=model
    ) as stream:
        final = stream.get_final_completion()
    assert isinstance(final.choices[0].message.parsed, model)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_strict_tools_get_arguments_that_validate(client, model):
    tool = openai.pydantic_function_tool(model)
    completion = client.chat.completions.parse(
        model="gpt-4o", messages=ASK, tools=[tool], tool_choice="required"
    )
    call = completion.choices[0].message.tool_calls[0]
    assert isinstance(call.function.parsed_arguments, model)


class Plan(BaseModel):  # fields out of alphabetical order, as people put a reasoning first
    zeta: str
    reasoning: str
    answer: int
    nested: Address


def test_values_keep_the_order_of_their_schema(client):
    """A value's keys come in the order its schema gives them, as a model with Structured
    Outputs writes them (OpenAI's guide, "Key ordering"), in content and in tool arguments."""
    order = ["zeta", "reasoning", "answer", "nested"]
    content = client.chat.completions.parse(model="gpt-4o", messages=ASK, response_format=Plan)
    tool = openai.pydantic_function_tool(Plan)
    called = client.chat.completions.create(
        model="gpt-4o", messages=ASK, tools=[tool], tool_choice="required"
    )
    for text in (
        content.choices[0].message.content,
        called.choices[0].message.tool_calls[0].function.arguments,
    ):
        value = json.loads(text)
        assert (list(value), list(value["nested"])) == (order, ["street", "city"])


def test_instructor_style_re_ask_round_trip(client):
    """instructor's validation re-ask: the tool call, then a `tool` message with a `name`
    saying what was wrong, then a valid answer."""
    tool = openai.pydantic_function_tool(Person)
    first = client.chat.completions.create(
        model="gpt-4o", messages=ASK, tools=[tool], tool_choice="required"
    )
    call = first.choices[0].message.tool_calls[0]
    messages = [
        *ASK,
        first.choices[0].message.model_dump(exclude_none=True),
        {
            "role": "tool",
            "tool_call_id": call.id,
            "name": call.function.name,
            "content": "Validation error: age must be positive. Fix the call.",
        },
    ]
    again = client.chat.completions.create(
        model="gpt-4o", messages=messages, tools=[tool], tool_choice="required"
    )
    arguments = again.choices[0].message.tool_calls[0].function.arguments
    assert Person.model_validate_json(arguments)


# --- the generator on its own --------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_pydantic_schemas_generate_valid_values(model):
    schema = model.model_json_schema()
    value = value_for(schema).value
    assert not list(Draft202012Validator(schema).iter_errors(value))
    model.model_validate(value)


@given(schema=schemas)
@settings(max_examples=400, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
def test_generated_values_satisfy_their_schema(schema):
    """Whatever the generator builds satisfies the schema, or it says it could not: a schema
    it cannot build for raises CannotGenerate, a pattern it cannot satisfy is a warning."""
    try:
        Draft202012Validator.check_schema(schema)
    except Exception:
        return  # the fallback refuses such a schema as OpenAI does
    try:
        example = value_for(schema)
    except CannotGenerate:
        return
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(example.value)]
    if errors and not example.warnings:
        # What is left is uniqueItems over values with too few distinct members (booleans,
        # empty objects); the server reports those in x-mock-fallback-warning.
        assert all("non-unique" in e or "not valid under any" in e for e in errors), (
            json.dumps(schema)[:500],
            example.value,
            errors,
        )


@pytest.mark.parametrize(
    "bounds, expected",
    [
        ({"minimum": -(2**53 - 1), "maximum": 2**53 - 1}, 0),  # zod's z.number().int()
        ({"minimum": -5}, 0),
        ({"minimum": 3, "maximum": 9}, 3),
        ({"exclusiveMinimum": 0}, 1),
        ({"minimum": -10, "maximum": -2}, -10),
        ({"minimum": -5, "maximum": 0}, 0),
        ({"minimum": 2, "multipleOf": 5}, 5),
        ({"maximum": -3}, -7),
    ],
)
def test_integers_start_from_zero_when_their_range_holds_it(bounds, expected):
    assert value_for({"type": "integer", **bounds}).value == expected


@pytest.mark.parametrize(
    "bounds, expected",
    [
        ({"minimum": -1, "maximum": -0.5}, -1),
        ({"exclusiveMinimum": -0.5, "maximum": -0.1}, -0.3),
        ({"minimum": -10, "maximum": -9.5}, -10),
        ({"exclusiveMinimum": 0, "maximum": 1}, 1),
        ({"minimum": -(2**53 - 1), "maximum": 2**53 - 1}, 0),
    ],
)
def test_numbers_within_narrow_ranges(bounds, expected):
    assert value_for({"type": "number", **bounds}).value == pytest.approx(expected)


@pytest.mark.parametrize(
    "pattern, low, high",
    [
        (r"^[A-Z]{3}-\d{4}$", 0, None),
        (r"^\d{5}(-\d{4})?$", 0, None),
        (r"^[a-z]+$", 10, 12),
        (r"^(a|bc)+x?$", 7, None),
        (r"\w+@[^@\s]+\.com", 0, None),
        (r"^[^0-9]{2,}$", 0, None),
        (r"^(\w)\1$", 0, None),
    ],
)
def test_patterns_people_write(pattern, low, high):
    import re

    text = string_matching(pattern, low, high)
    assert text is not None and re.search(pattern, text)
    assert low <= len(text) <= (high if high is not None else len(text))


@pytest.mark.parametrize("pattern", [r"^(?=.*\d)[a-z]{8}$", r"^a{3}$", "("])
def test_patterns_it_cannot_satisfy_say_so(pattern):
    assert string_matching(pattern, 5, 5 if pattern == r"^a{3}$" else None) is None


def test_an_unsatisfiable_pattern_is_reported_in_a_header(server):
    body = {
        "model": "gpt-4o",
        "messages": ASK,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "p",
                "schema": {
                    "type": "object",
                    "properties": {"p": {"type": "string", "pattern": r"^(?=.*\d)[a-z]{8}$"}},
                },
            },
        },
    }
    from conftest import post_json

    response = post_json(server, "/v1/chat/completions", body)
    assert response.status == 200
    assert "could not be satisfied" in response.headers["x-mock-fallback-warning"]
