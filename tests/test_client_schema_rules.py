"""OpenAI's rules for a client's JSON Schemas (function parameters, ``json_schema`` formats),
checked on every request of the ``openai`` profile whatever answers it: each refusal in the live
API's words as users quote them (the source of each row is named), what the SDK's own strict
helpers make is taken, and a schema the API takes is not refused. Through the official SDK, and
raw HTTP for the table."""

from __future__ import annotations

import time

import openai
import pytest
from conftest import post_json, raw_request
from pydantic import BaseModel, HttpUrl, create_model

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "plan it"}]}
STRICT_OK = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}


def chat_tools(*parameters: dict, strict: bool | None = None) -> dict:
    functions = [{"name": f"f{i}", "parameters": p} for i, p in enumerate(parameters)]
    if strict is not None:
        functions = [{**f, "strict": strict} for f in functions]
    return {**ASK, "tools": [{"type": "function", "function": f} for f in functions]}


def chat_format(schema: dict, strict: bool | None = True) -> dict:
    json_schema = {"name": "answer", "schema": schema}
    if strict is not None:
        json_schema["strict"] = strict
    return {**ASK, "response_format": {"type": "json_schema", "json_schema": json_schema}}


def responses_tool(parameters: dict, **extra) -> dict:
    tool = {"type": "function", "name": "mysql_execute", "parameters": parameters, **extra}
    return {"model": "gpt-4o", "input": "x", "tools": [{"type": "web_search"}, tool]}


def responses_format(schema: dict) -> dict:
    text_format = {"type": "json_schema", "name": "structured_output", "schema": schema}
    return {"model": "gpt-4o", "input": "x", "text": {"format": {**text_format, "strict": True}}}


UNION = {"anyOf": [{"type": "object", "properties": {}}, {"type": "string"}]}
FREE_DICT = {"type": "object", "additionalProperties": True}
NO_ITEMS = {"type": "object", "properties": {"paths": {"type": "array"}}}

# (name, path, body, param, code, message): what the live API answered, as quoted in the
# source named first.
REFUSED = [
    # rig, litellm and dashboard reports of 2025-2026: a root union has no type.
    ("a root union", "/v1/chat/completions", chat_format(UNION, strict=None), "response_format", None, "Invalid schema for response_format 'answer': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"None\"'."),
    ("a root array", "/v1/chat/completions", chat_tools({"type": "array", "items": {}}), "tools[0].function.parameters", "invalid_function_parameters", "Invalid schema for function 'f0': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"array\"'."),
    # GitHub Copilot's and litellm's reports: without strict too.
    ("an array without items", "/v1/chat/completions", chat_tools(STRICT_OK, NO_ITEMS), "tools[1].function.parameters", "invalid_function_parameters", "Invalid schema for function 'f1': In context=('properties', 'paths'), array schema missing items."),
    ("an array of arrays without items", "/v1/chat/completions", chat_tools({"type": "object", "properties": {"domain": {"type": "array", "items": {"type": "array"}}}}), "tools[0].function.parameters", "invalid_function_parameters", "Invalid schema for function 'f0': In context=('properties', 'domain', 'items'), array schema missing items."),
    # outlines' and pydantic users' reports: strict, a model without additionalProperties.
    ("strict, no additionalProperties", "/v1/chat/completions", chat_format({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}), "response_format", None, "Invalid schema for response_format 'answer': In context=(), 'additionalProperties' is required to be supplied and to be false."),
    ("strict, a free-form dict", "/v1/chat/completions", chat_format({**STRICT_OK, "properties": {"city": FREE_DICT}}), "response_format", None, "Invalid schema for response_format 'answer': In context=('properties', 'city'), 'additionalProperties' is required to be supplied and to be false."),
    ("strict, an object without properties", "/v1/chat/completions", chat_tools({"type": "object", "additionalProperties": False}, strict=True), "tools[0].function.parameters", "invalid_function_parameters", "Invalid schema for function 'f0': In context=(), object schema missing properties."),
    ("strict, items without additionalProperties", "/v1/chat/completions", chat_format({**STRICT_OK, "properties": {"city": {"type": "array", "items": {"type": "object", "properties": {}}}}}), "response_format", None, "Invalid schema for response_format 'answer': In context=('properties', 'city', 'items'), 'additionalProperties' is required to be supplied and to be false."),
    # confident-ai/deepeval#2930 (2026): a definition's context starts afresh.
    ("strict, a definition", "/v1/chat/completions", chat_format({**STRICT_OK, "$defs": {"Step": {"type": "object", "properties": {}}}}), "response_format", None, "Invalid schema for response_format 'answer': In context=(), 'additionalProperties' is required to be supplied and to be false."),
    # sttp-ai#521 (2026): {} is an object, which strict mode holds to its rules.
    ("strict, parameters given as {}", "/v1/chat/completions", chat_tools({}, strict=True), "tools[0].function.parameters", "invalid_function_parameters", "Invalid schema for function 'f0': In context=(), 'additionalProperties' is required to be supplied and to be false."),
    # akitaonrails/ai-memory#628 (2026-09, native OpenAI): a required key no property has.
    ("strict, an extra required key", "/v1/chat/completions", chat_format({**STRICT_OK, "required": ["city", "relations"]}), "response_format", None, "Invalid schema for response_format 'answer': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Extra required key 'relations' supplied."),
    # OpenAI's forum (2024): a keyword strict mode does not take, before a missing required.
    ("strict, oneOf", "/v1/chat/completions", chat_format({**STRICT_OK, "required": [], "oneOf": [{"required": ["city"]}]}), "response_format", None, "Invalid schema for response_format 'answer': In context=(), 'oneOf' is not permitted."),
    # makenotion/notion-mcp-server#102 (2025-08).
    ("strict, allOf", "/v1/chat/completions", chat_tools({**STRICT_OK, "properties": {"city": {"allOf": [{"type": "string"}]}}}, strict=True), "tools[0].function.parameters", "invalid_function_parameters", "Invalid schema for function 'f0': In context=('properties', 'city'), 'allOf' is not permitted."),
    # can1357/oh-my-pi#206 (2026-02): a format strict mode does not know.
    ("strict, format uri", "/v1/chat/completions", chat_tools({**STRICT_OK, "properties": {"city": {"type": "string", "format": "uri"}}}, strict=True), "tools[0].function.parameters", "invalid_function_parameters", "Invalid schema for function 'f0': In context=('properties', 'city'), 'uri' is not a valid format."),
    # nspady/google-calendar-mcp#39 (2025-06), microsoft/vscode#307515 (2026-04).
    ("a function's root union", "/v1/chat/completions", chat_tools({"type": "object", "properties": {}, "anyOf": [{"required": []}]}), "tools[0].function.parameters", "invalid_function_parameters", "Invalid schema for function 'f0': schema must have type 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level."),
    # kevinwatt/mysql-mcp#5: the Vercel AI SDK on the Responses API, strict.
    ("strict, an optional parameter", "/v1/responses", responses_tool({"type": "object", "properties": {"sql": {"type": "string"}, "params": {"type": "array", "items": {}}}, "required": ["sql"], "additionalProperties": False}, strict=True), "tools[1].parameters", "invalid_function_parameters", "Invalid schema for function 'mysql_execute': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'params'."),
    # Mastra's documentation of a zod union on the Responses API.
    ("strict, a union's object", "/v1/responses", responses_format({**STRICT_OK, "properties": {"u": {"anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}}, {"type": "null"}]}}, "required": ["u"]}), "text.format.schema", "invalid_json_schema", "Invalid schema for response_format 'structured_output': In context=('properties', 'u', 'anyOf', '0'), 'additionalProperties' is required to be supplied and to be false."),
]  # fmt: skip


@pytest.mark.parametrize(
    "path, body, param, code, message", [row[1:] for row in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_a_schema_the_api_refuses_is_refused_in_its_words(server, path, body, param, code, message):
    response = post_json(server, path, body)
    assert response.status == 400, response.body
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert error["message"] == message


TAKEN = {
    "a loose schema, not strict": chat_tools({"type": "object", "properties": {"a": {}}}),
    "parameters given as {}": chat_tools({}),
    "an empty strict object": chat_tools(
        {"type": "object", "properties": {}, "additionalProperties": False}, strict=True
    ),
    "strict false": chat_format({"type": "object", "properties": {"a": FREE_DICT}}, strict=False),
    "a format's root anyOf beside its type": chat_format(
        {"type": "object", "anyOf": [STRICT_OK, {"type": "object", "properties": {}}]}, strict=None
    ),
}


@pytest.mark.parametrize("body", TAKEN.values(), ids=TAKEN.keys())
def test_a_schema_the_api_takes_is_taken(server, body):
    response = post_json(server, "/v1/chat/completions", body)
    assert response.status == 200, response.body


def test_a_responses_tool_without_strict_is_not_held_to_strict_rules(server):
    # The API makes such a schema strict where it can, else calls it without (OpenAI's guide).
    loose = {"type": "object", "properties": {"q": {"type": "string"}}}
    assert post_json(server, "/v1/responses", responses_tool(loose)).status == 200
    refused = post_json(server, "/v1/responses", responses_tool(loose, strict=True))
    assert refused.status == 400, refused.body


def test_a_function_inside_a_namespace_is_held_to_the_same_rules(server):
    """Where it is: ``tools[0].tools[1]`` (the rules come from OpenAI's guides; the place is
    ours, the SDK's namespace tool being of 2026)."""
    tool = responses_tool({"type": "array"})["tools"][-1]
    namespace = {"type": "namespace", "name": "ns", "description": "d", "tools": [
        {"type": "function", "name": "ok", "parameters": {"type": "object", "properties": {}}},
        tool,
    ]}  # fmt: skip
    body = {"model": "gpt-4o", "input": "x", "tools": [namespace]}
    refused = post_json(server, "/v1/responses", body)
    assert refused.status == 400, refused.body
    assert refused.json()["error"]["param"] == "tools[0].tools[1].parameters"


def test_other_profiles_are_not_held_to_openais_rules(server):
    body = chat_format(UNION, strict=True)
    assert post_json(server, "/gomodel/v1/chat/completions", body).status == 200


class Trip(BaseModel):
    city: str
    nights: int | None = None
    stops: list[str]


def test_what_the_sdks_strict_helpers_make_is_taken(client_for):
    client = client_for()
    tool = openai.pydantic_function_tool(Trip)  # strict, every field required
    completion = client.chat.completions.create(
        model="gpt-4o", messages=ASK["messages"], tools=[tool], tool_choice="required"
    )
    arguments = completion.choices[0].message.tool_calls[0].function.arguments
    assert Trip.model_validate_json(arguments)
    parsed = client.chat.completions.parse(
        model="gpt-4o", messages=ASK["messages"], response_format=Trip
    )
    assert isinstance(parsed.choices[0].message.parsed, Trip)
    response = client.responses.parse(model="gpt-4o", input="plan it", text_format=Trip)
    assert isinstance(response.output_parsed, Trip)


# Fields whose strict schema the live API refuses (users' reports, 2024-2026; tuple's in
# pydantic-ai#7333), and the sentence that says why.
STRICT_REFUSALS = {
    "url": (HttpUrl, "In context=('properties', 'v'), 'uri' is not a valid format."),
    "bytes": (bytes, "In context=('properties', 'v'), 'binary' is not a valid format."),
    "set": (set[str], "In context=('properties', 'v'), 'uniqueItems' is not permitted."),
    "tuple": (tuple[int, str], "In context=('properties', 'v'), array schema missing items."),
    "dict": (
        dict[str, int],
        "In context=('properties', 'v'), 'additionalProperties' is required to be supplied "
        "and to be false.",
    ),
}


@pytest.mark.parametrize("field, sentence", STRICT_REFUSALS.values(), ids=STRICT_REFUSALS.keys())
def test_a_pydantic_field_strict_mode_refuses_is_refused(client_for, field, sentence):
    model = create_model("Model", v=(field, ...))
    with pytest.raises(openai.BadRequestError) as caught:
        client_for().chat.completions.parse(
            model="gpt-4o", messages=ASK["messages"], response_format=model
        )
    assert caught.value.code is None
    assert caught.value.body["message"] == f"Invalid schema for response_format 'Model': {sentence}"


def test_a_format_is_read_on_strings_only(server):
    number = {"type": "integer", "format": "int64"}
    body = chat_tools({**STRICT_OK, "properties": {"city": number}}, strict=True)
    assert post_json(server, "/v1/chat/completions", body).status == 200


def test_the_sdk_raises_the_refusal_as_a_bad_request(client_for):
    client = client_for()
    loose_model = {"type": "object", "properties": {"city": {"type": "string"}}}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o",
            messages=ASK["messages"],
            tools=[{"type": "function", "function": {"name": "go", "parameters": loose_model, "strict": True}}],
        )  # fmt: skip
    assert caught.value.code == "invalid_function_parameters"
    assert caught.value.param == "tools[0].function.parameters"
    assert "'additionalProperties' is required to be supplied and to be false" in str(caught.value)
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(
            model="gpt-4o",
            input="x",
            text={"format": {"type": "json_schema", "name": "out", "schema": UNION}},
        )
    assert (caught.value.code, caught.value.param) == ("invalid_json_schema", "text.format.schema")


def test_an_agent_loops_tools_are_judged_once(server):
    def stats() -> dict:
        return server_health(server)["caches"]["client_tool_schemas"]

    body = chat_tools(STRICT_OK, {"type": "object", "properties": {"n": {"type": "integer"}}})
    body["tools"][0]["function"]["description"] = f"unique {time.monotonic_ns()}"
    before = stats()
    for turn in range(3):  # each turn a new body, the same tools
        said = {"role": "user", "content": f"turn {turn}"}
        assert post_json(server, "/v1/chat/completions", {**body, "messages": [said]}).status == 200
    after = stats()
    assert after["misses"] - before["misses"] == 1
    assert after["hits"] - before["hits"] == 2


def test_a_schema_past_the_bound_is_answered_quickly(server):
    # 30,000 subschemas; the only rule broken lies past the 5,000 looked at.
    wide = {f"p{i}": {"type": "string"} for i in range(30_000)}
    wide["z"] = {"type": "array"}
    body = chat_tools({"type": "object", "properties": wide})
    # CPU time of this process (the server's thread and the client's), which other processes
    # on a loaded machine do not stretch, as they stretch the clock.
    started = time.process_time()
    response = post_json(server, "/v1/chat/completions", body)
    assert time.process_time() - started < 2
    assert response.status == 200, response.body[:300]


def server_health(server) -> dict:
    return raw_request(server, "GET", "/__admin/health").json()
