"""Each profile accepts its seed document's own example and refuses what its provider refuses.

Every case goes through the official ``openai`` SDK, so the status, the error class and the
parsed ``.param``/``.code`` are what an application would see.
"""

from __future__ import annotations

import copy
import json

import openai
import pytest
from conftest import raw_request

SEED_001_WEATHER = {
    "model": "gemini-3.1-flash-lite-preview",
    "messages": [{"role": "user", "content": "今天北京天气怎么样？"}],
    "tools": [{"type": "function", "function": {"name": "googleSearch"}}],
}

SEED_002_GOMODEL = {
    "model": "gpt-4o-mini",
    "provider": "anthropic",
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture?"},
                {
                    "type": "image_url",
                    "image_url": {
                        "url": "https://example.com/cat.png",
                        "detail": "low",
                        "media_type": "image/png",
                    },
                },
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            ],
        }
    ],
    "max_tokens": 64,
    "parallel_tool_calls": True,
    "reasoning": {"effort": "low"},
    "stream": False,
    "temperature": 0.2,
    "tool_choice": "auto",
    "tools": [
        {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    ],
}

# Seed 003's example body, verbatim.
SEED_003_DEEPSEEK = {
    "model": "text",
    "messages": [
        {
            "role": "system",
            "content": "text",
            "name": "text",
            "tool_calls": [
                {
                    "id": "text",
                    "type": "function",
                    "function": {"name": "text", "arguments": "text"},
                }
            ],
            "tool_call_id": "text",
        }
    ],
    "max_tokens": 1,
    "max_completion_tokens": 1,
    "temperature": 1,
    "top_p": 1,
    "n": 1,
    "stream": True,
    "stop": "text",
    "presence_penalty": 1,
    "frequency_penalty": 1,
    "logit_bias": {"ANY_ADDITIONAL_PROPERTY": 1},
    "seed": 1,
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "text",
                "description": "text",
                "parameters": {
                    "type": "object",
                    "properties": {"ANY_ADDITIONAL_PROPERTY": "anything"},
                    "required": ["text"],
                },
            },
        }
    ],
    "tool_choice": "none",
    "response_format": {
        "type": "text",
        "json_schema": {
            "name": "text",
            "description": "text",
            "schema": {"ANY_ADDITIONAL_PROPERTY": "anything"},
            "strict": True,
        },
    },
    "logprobs": True,
    "top_logprobs": 1,
    "reasoning_effort": "minimal",
}

SEED_004_GEMINI = {
    "model": "gemini-2.5-flash",
    "messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What's the weather like in Beijing?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/sky.jpg"}},
            ],
        },
    ],
    "max_tokens": 256,
    "temperature": 1.0,
    "top_p": 1.0,
    "stream": False,
    "stop": ["\n\n"],
    "n": 1,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the weather of a city",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "location": {"type": "string", "description": "City name"},
                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                    },
                    "required": ["location"],
                },
            },
        }
    ],
    "tool_choice": "auto",
    "user": "user-1234",
}

OPENAI_BASIC = {
    "model": "gpt-4o",
    "messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ],
}


def post(client: openai.OpenAI, body: dict) -> dict:
    """POST a body as is through the SDK's own request and error machinery."""
    return client.post("/chat/completions", body=body, cast_to=object)


def test_openai_basic_request(client_for):
    completion = client_for().chat.completions.create(**OPENAI_BASIC)
    assert completion.object == "chat.completion"
    # The bundled "greeting" scenario answers.
    assert completion.choices[0].message.content == "Hello! How can I help you today?"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


def test_seed_001_weather_question_with_google_search(client_for):
    completion = client_for("gemini-tools").chat.completions.create(**SEED_001_WEATHER)
    # The document's own example response, reproduced by the bundled seed scenario.
    assert completion.choices[0].message.content == "\n\nHello there, how may I assist you today?"
    usage = completion.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (9, 12, 21)


def test_seed_000_gemini_tools_needs_no_key(server):
    # An SDK always sends a key; a bare HTTP client may not, and this relay allows it.
    response = raw_request(
        server,
        "POST",
        "/gemini-tools/v1/chat/completions",
        json.dumps(SEED_001_WEATHER).encode(),
        {"Content-Type": "application/json"},
    )
    assert response.status == 200
    assert response.json()["choices"][0]["finish_reason"] == "stop"


def test_seed_002_gomodel_echoes_provider_hint_and_usage_details(client_for):
    body = copy.deepcopy(SEED_002_GOMODEL)
    gateway_only = {"provider": body.pop("provider"), "reasoning": body.pop("reasoning")}
    completion = client_for("gomodel").chat.completions.create(**body, extra_body=gateway_only)
    extra = completion.model_extra
    assert extra["provider"] == "anthropic"
    assert completion.usage.prompt_tokens_details.cached_tokens == 0
    assert completion.usage.completion_tokens_details.reasoning_tokens == 0
    assert "raw_usage" in completion.usage.model_extra


def test_gomodel_provider_defaults_when_no_hint(client_for):
    body = {k: v for k, v in SEED_002_GOMODEL.items() if k not in ("provider", "reasoning")}
    completion = client_for("gomodel").chat.completions.create(**body)
    assert completion.model_extra["provider"] == "openai"


def test_seed_003_full_example_streams_at_api_v1(client_for):
    client = client_for("deepseek", base="/api/v1")
    stream = client.chat.completions.create(**SEED_003_DEEPSEEK)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [c.choices[0].delta for c in chunks]
    assert "".join(d.content or "" for d in deltas) == ""  # its stop sequence, "text", ends it
    assert "".join(d.model_extra.get("reasoning_content") or "" for d in deltas) == "text"
    assert chunks[-1].choices[0].finish_reason == "stop"
    # The seed's example asks for logprobs: each piece of the answer carries its own.
    chunks = list(client.chat.completions.create(**{**SEED_003_DEEPSEEK, "stop": None}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "text"
    said = [c.choices[0] for c in chunks if c.choices[0].delta.content]
    assert said and all(
        "".join(t.token for t in choice.logprobs.content) == choice.delta.content for choice in said
    )


def test_seed_003_served_unprefixed_when_default_profile_is_deepseek(client_for):
    body = {**SEED_003_DEEPSEEK, "stream": False}
    completion = client_for("deepseek", base="/v1").chat.completions.create(**body)
    assert completion.choices[0].finish_reason in ("stop", "length")


def test_seed_004_gemini_example(client_for):
    completion = client_for("gemini").chat.completions.create(**SEED_004_GEMINI)
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "Beijing", "unit": "celsius"}
    assert completion.choices[0].finish_reason == "tool_calls"
    assert completion.system_fingerprint is None


def test_seed_004_gemini_tool_call_is_answered_with_its_result(client_for):
    """The call seed 004's example gets can be answered: an assistant's ``tool_calls`` and a
    ``tool`` message, as Gemini's OpenAI-compatible endpoint takes them."""
    client = client_for("gemini")
    first = client.chat.completions.create(**SEED_004_GEMINI).choices[0].message
    answered = [
        *SEED_004_GEMINI["messages"],
        first.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "12°C, sunny"},
    ]
    reply = client.chat.completions.create(**{**SEED_004_GEMINI, "messages": answered})
    assert reply.choices[0].finish_reason in ("stop", "tool_calls")
    with pytest.raises(openai.BadRequestError) as caught:  # other fields are still refused
        client.chat.completions.create(
            **{**SEED_004_GEMINI, "messages": [{**answered[-1], "is_error": True}]}
        )
    assert "is_error" in caught.value.body["message"]


def test_gemini_served_at_google_openai_prefix(client_for):
    client = client_for("gemini", base="/v1beta/openai")
    assert client.chat.completions.create(**SEED_004_GEMINI).choices


def test_models_list(client_for):
    ids = [m.id for m in client_for("deepseek").models.list()]
    assert ids == ["deepseek-chat", "deepseek-reasoner"]


def test_a_model_is_retrieved_by_its_id(client_for):
    """``models.retrieve``: a listed model, a gateway's id with a slash, or (as any model is
    answered) one the profile does not list."""
    client = client_for("openai")
    for model in ("gpt-4o", "openai/gpt-4o", "my-fine-tune"):
        found = client.models.retrieve(model)
        assert (found.id, found.object, found.owned_by) == (model, "model", "system")


def parts(*content: dict) -> list[dict]:
    """One user message made of these content parts."""
    return [{"role": "user", "content": list(content)}]


def with_(base: dict, **changes) -> dict:
    body = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DELETE:
            body.pop(key, None)
        else:
            body[key] = value
    return body


DELETE = object()
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
ASK = [{"role": "user", "content": "hi"}]

# (profile, body, status, type, code, param)
INVALID = {
    "openai": [
        (with_(OPENAI_BASIC, foo=1), 400, "invalid_request_error", None, "foo"),
        (
            with_(OPENAI_BASIC, metadata={f"k{index}": "v" for index in range(17)}),
            400,
            "invalid_request_error",
            "object_above_max_properties",
            "metadata",
        ),
        # Chat's own sentence for it: param and code null (2023 to 2026 captures).
        (with_(OPENAI_BASIC, model=DELETE), 400, "invalid_request_error", None, None),
        (with_(OPENAI_BASIC, messages=[]), 400, "invalid_request_error", "empty_array", "messages"),
        (
            with_(OPENAI_BASIC, messages=[{"role": "bot", "content": "x"}]),
            400,
            "invalid_request_error",
            "invalid_value",
            "messages[0].role",
        ),
        (
            with_(OPENAI_BASIC, messages=[{"role": "user", "content": 5}]),
            400,
            "invalid_request_error",
            "invalid_type",
            "messages[0].content",
        ),
        # The API's older sentence for it, after every other check (test_live_wording.py).
        (
            with_(OPENAI_BASIC, messages=[{"role": "user"}]),
            400,
            "invalid_request_error",
            None,
            "messages.[0].content",
        ),
        (
            with_(OPENAI_BASIC, messages=[{"role": "user", "content": "x", "foo": 1}]),
            400,
            "invalid_request_error",
            "unknown_parameter",
            "messages[0].foo",
        ),
        (
            with_(OPENAI_BASIC, temperature=2.5),
            400,
            "invalid_request_error",
            "decimal_above_max_value",
            "temperature",
        ),
        (with_(OPENAI_BASIC, n=0), 400, "invalid_request_error", "integer_below_min_value", "n"),
        (
            with_(OPENAI_BASIC, stop=["a", "b", "c", "d", "e"]),
            400,
            "invalid_request_error",
            "array_above_max_length",
            "stop",
        ),
        (
            with_(OPENAI_BASIC, tools=[{"type": "function", "function": {"name": "bad name!"}}]),
            400,
            "invalid_request_error",
            "invalid_value",
            "tools[0].function.name",
        ),
        (
            with_(
                OPENAI_BASIC,
                tool_choice={"type": "function", "function": {"name": "nope"}},
                tools=[TOOL],
            ),
            400,
            "invalid_request_error",
            None,
            "function_call",  # the functions API's words, as the live API answers (2026)
        ),
        (
            with_(OPENAI_BASIC, tool_choice="auto"),
            400,
            "invalid_request_error",
            None,
            "tool_choice",
        ),
        (
            with_(OPENAI_BASIC, stream_options={"include_usage": True}),
            400,
            "invalid_request_error",
            None,
            "stream_options",
        ),
        (with_(OPENAI_BASIC, top_logprobs=3), 400, "invalid_request_error", None, "top_logprobs"),
        (
            with_(
                OPENAI_BASIC,
                messages=[*ASK, {"role": "tool", "content": "x", "tool_call_id": "c1"}],
            ),
            400,
            "invalid_request_error",
            None,
            "messages.[1].role",
        ),
        (
            with_(OPENAI_BASIC, response_format={"type": "xml"}),
            400,
            "invalid_request_error",
            "invalid_value",
            "response_format.type",
        ),
        (
            with_(OPENAI_BASIC, reasoning_effort="extreme"),
            400,
            "invalid_request_error",
            "invalid_value",
            "reasoning_effort",
        ),
        (
            with_(OPENAI_BASIC, logit_bias={"50256": 200}),
            400,
            "invalid_request_error",
            "integer_above_max_value",
            "logit_bias.50256",
        ),
    ],
    "gemini-tools": [
        (
            with_(SEED_001_WEATHER, tools=DELETE),
            400,
            "invalid_request_error",
            "missing_required_parameter",
            "tools",
        ),
        (with_(SEED_001_WEATHER, tools=[]), 400, "invalid_request_error", "empty_array", "tools"),
        (
            with_(SEED_001_WEATHER, model=DELETE),
            400,
            "invalid_request_error",
            "missing_required_parameter",
            "model",
        ),
        (with_(SEED_001_WEATHER, model=42), 400, "invalid_request_error", "invalid_type", "model"),
        (
            with_(SEED_001_WEATHER, messages="hello"),
            400,
            "invalid_request_error",
            "invalid_type",
            "messages",
        ),
        (
            with_(
                SEED_001_WEATHER,
                messages=[{"role": "user", "content": [{"type": "text", "text": "x"}]}],
            ),
            400,
            "invalid_request_error",
            "invalid_type",
            "messages[0].content",
        ),
        (
            with_(SEED_001_WEATHER, messages=[{"role": "robot", "content": "x"}]),
            400,
            "invalid_request_error",
            "invalid_value",
            "messages[0].role",
        ),
        (
            with_(
                SEED_001_WEATHER,
                tools=[{"type": "retrieval", "function": {"name": "googleSearch"}}],
            ),
            400,
            "invalid_request_error",
            "invalid_value",
            "tools[0].type",
        ),
        (
            with_(SEED_001_WEATHER, tools=[{"type": "function", "function": {}}]),
            400,
            "invalid_request_error",
            "missing_required_parameter",
            "tools[0].function.name",
        ),
        (
            with_(
                SEED_001_WEATHER,
                tools=[{"type": "function", "function": {"name": "google search"}}],
            ),
            400,
            "invalid_request_error",
            "invalid_value",
            "tools[0].function.name",
        ),
        (
            with_(SEED_001_WEATHER, temperature=-1),
            400,
            "invalid_request_error",
            "decimal_below_min_value",
            "temperature",
        ),
    ],
    "gomodel": [
        (with_(SEED_002_GOMODEL, model=""), 400, "invalid_request_error", "empty_string", "model"),
        (
            with_(SEED_002_GOMODEL, provider=""),
            400,
            "invalid_request_error",
            "empty_string",
            "provider",
        ),
        (
            with_(SEED_002_GOMODEL, provider=7),
            400,
            "invalid_request_error",
            "invalid_type",
            "provider",
        ),
        (
            with_(SEED_002_GOMODEL, reasoning="high"),
            400,
            "invalid_request_error",
            "invalid_type",
            "reasoning",
        ),
        (
            with_(SEED_002_GOMODEL, reasoning={"effort": "max"}),
            400,
            "invalid_request_error",
            "invalid_value",
            "reasoning.effort",
        ),
        (
            with_(
                SEED_002_GOMODEL,
                messages=[{"role": "user", "content": [{"type": "video", "video": {}}]}],
            ),
            400,
            "invalid_request_error",
            "invalid_value",
            "messages[0].content[0].type",
        ),
        (
            with_(
                SEED_002_GOMODEL,
                messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            ),
            400,
            "invalid_request_error",
            "missing_required_parameter",
            "messages[0].content[0].image_url.url",
        ),
        (
            with_(
                SEED_002_GOMODEL,
                messages=parts(
                    {"type": "input_audio", "input_audio": {"data": "x", "format": "ogg"}}
                ),
            ),
            400,
            "invalid_request_error",
            "invalid_value",
            "messages[0].content[0].input_audio.format",
        ),
        (
            with_(SEED_002_GOMODEL, max_tokens="10"),
            400,
            "invalid_request_error",
            "invalid_type",
            "max_tokens",
        ),
        (
            with_(SEED_002_GOMODEL, parallel_tool_calls="yes"),
            400,
            "invalid_request_error",
            "invalid_type",
            "parallel_tool_calls",
        ),
        (
            with_(SEED_002_GOMODEL, stream_options={"include_usage": True}),
            400,
            "invalid_request_error",
            None,
            "stream_options",
        ),
    ],
    "deepseek": [  # DeepSeek answers code invalid_request_error whatever the rule
        (
            with_(SEED_003_DEEPSEEK, temperature=2.1),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "temperature",
        ),
        (
            with_(SEED_003_DEEPSEEK, top_p=1.5),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "top_p",
        ),
        (
            with_(SEED_003_DEEPSEEK, n=0),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "n",
        ),
        (
            with_(SEED_003_DEEPSEEK, presence_penalty=-2.5),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "presence_penalty",
        ),
        (
            with_(SEED_003_DEEPSEEK, frequency_penalty=3),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "frequency_penalty",
        ),
        (
            with_(SEED_003_DEEPSEEK, top_logprobs=21),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "top_logprobs",
        ),
        (
            with_(SEED_003_DEEPSEEK, reasoning_effort="extreme"),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "reasoning_effort",
        ),
        (
            with_(SEED_003_DEEPSEEK, tool_choice="any"),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "tool_choice",
        ),
        (
            with_(SEED_003_DEEPSEEK, response_format={"type": "xml"}),
            422,
            "invalid_request_error",
            "invalid_request_error",
            "response_format.type",
        ),
        (
            with_(SEED_003_DEEPSEEK, model=DELETE),
            400,
            "invalid_request_error",
            "invalid_request_error",
            "model",
        ),
        (
            with_(SEED_003_DEEPSEEK, temperature="hot"),
            400,
            "invalid_request_error",
            "invalid_request_error",
            "temperature",
        ),
        (
            with_(SEED_003_DEEPSEEK, stop=5),
            400,
            "invalid_request_error",
            "invalid_request_error",
            "stop",
        ),
        (
            with_(
                SEED_003_DEEPSEEK, tool_choice={"type": "function", "function": {"name": "text"}}
            ),
            400,
            "invalid_request_error",
            "invalid_request_error",
            "tool_choice",
        ),
    ],
    "gemini": [
        (with_(SEED_004_GEMINI, foo=1), 400, "invalid_request_error", "INVALID_ARGUMENT", "foo"),
        (
            with_(SEED_004_GEMINI, messages=[{"role": "tool", "content": "x"}]),
            400,
            "invalid_request_error",
            "missing_required_parameter",
            "messages[0].tool_call_id",
        ),
        (
            with_(SEED_004_GEMINI, messages=[{"role": "developer", "content": "x"}]),
            400,
            "invalid_request_error",
            "invalid_value",
            "messages[0].role",
        ),
        (
            with_(SEED_004_GEMINI, messages=[{"role": "user"}]),
            400,
            "invalid_request_error",
            "missing_required_parameter",
            "messages[0].content",
        ),
        (  # an assistant's message says something or calls a tool
            with_(SEED_004_GEMINI, messages=[*SEED_004_GEMINI["messages"], {"role": "assistant"}]),
            400,
            "invalid_request_error",
            "missing_required_parameter",
            f"messages[{len(SEED_004_GEMINI['messages'])}].content",
        ),
        (
            with_(
                SEED_004_GEMINI,
                messages=parts(
                    {"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}
                ),
            ),
            400,
            "invalid_request_error",
            "invalid_value",
            "messages[0].content[0].type",
        ),
        (
            with_(SEED_004_GEMINI, messages=[{"role": "user", "content": [{"type": "text"}]}]),
            400,
            "invalid_request_error",
            "missing_required_parameter",
            "messages[0].content[0].text",
        ),
        (
            with_(SEED_004_GEMINI, stop=["a", "b", "c", "d", "e"]),
            400,
            "invalid_request_error",
            "array_above_max_length",
            "stop",
        ),
        (
            with_(SEED_004_GEMINI, temperature=2.5),
            400,
            "invalid_request_error",
            "decimal_above_max_value",
            "temperature",
        ),
        (
            with_(SEED_004_GEMINI, top_p=-0.1),
            400,
            "invalid_request_error",
            "decimal_below_min_value",
            "top_p",
        ),
        (
            with_(SEED_004_GEMINI, tool_choice="any"),
            400,
            "invalid_request_error",
            "invalid_value",
            "tool_choice",
        ),
        (with_(SEED_004_GEMINI, user=123), 400, "invalid_request_error", "invalid_type", "user"),
        (
            with_(SEED_004_GEMINI, logprobs=True),
            400,
            "invalid_request_error",
            "INVALID_ARGUMENT",
            "logprobs",
        ),
    ],
}

CASES = [
    pytest.param(profile, *case, id=f"{profile}-{index}-{case[4]}")
    for profile, cases in INVALID.items()
    for index, case in enumerate(cases)
]

ERROR_CLASSES = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    404: openai.NotFoundError,
    422: openai.UnprocessableEntityError,
}


def test_at_least_sixty_invalid_cases_ten_per_profile():
    assert len(CASES) >= 60
    assert all(len(cases) >= 10 for cases in INVALID.values())


@pytest.mark.parametrize(("profile", "body", "status", "type_", "code", "param"), CASES)
def test_invalid_request(client_for, profile, body, status, type_, code, param):
    with pytest.raises(ERROR_CLASSES[status]) as caught:
        post(client_for(profile), body)
    error = caught.value
    assert error.status_code == status
    assert error.type == type_
    assert error.param == param
    if code is not None:
        assert error.code == code
    assert error.message
    assert error.response.headers["x-request-id"].startswith("req_")


def test_deepseek_wording_names_the_table_entry(client_for):
    with pytest.raises(openai.UnprocessableEntityError) as caught:
        post(client_for("deepseek"), with_(SEED_003_DEEPSEEK, temperature=3))
    assert caught.value.body["message"].startswith("Invalid Parameters: Invalid 'temperature'")
    with pytest.raises(openai.BadRequestError) as caught:
        post(client_for("deepseek"), with_(SEED_003_DEEPSEEK, model=DELETE))
    assert caught.value.body["message"] == "Invalid Format: Missing required parameter: 'model'."


def test_a_final_newline_does_not_pass_a_pattern(client_for):
    """``$`` ends the string, as in JSON Schema's regexes and jsonschema-rs (Python's ``$``
    allows a final newline). The live API's other words are in ``test_live_wording.py``."""
    tool = {"type": "function", "function": {"name": "get_weather\n"}}
    with pytest.raises(openai.BadRequestError) as caught:
        post(client_for(), with_(OPENAI_BASIC, tools=[tool]))
    assert caught.value.body["param"] == "tools[0].function.name"
    assert caught.value.body["message"] == (
        "Invalid 'tools[0].function.name': string does not match pattern. Expected a string "
        "that matches the pattern '^[a-zA-Z0-9_-]+$'."
    )


@pytest.mark.parametrize("profile", ["openai", "gomodel", "deepseek", "gemini"])
def test_key_required(server, profile):
    response = raw_request(
        server,
        "POST",
        f"/{profile}/v1/chat/completions",
        json.dumps(OPENAI_BASIC).encode(),
        {"Content-Type": "application/json"},
    )
    assert response.status == 401
    assert response.json()["error"]["param"] is None


def test_tool_loop_answering_the_call_is_valid(client_for):
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    body = with_(
        OPENAI_BASIC,
        tools=[TOOL],
        messages=[
            *ASK,
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
        ],
    )
    assert post(client_for(), body)["choices"][0]["finish_reason"] == "stop"


def test_tool_calls_must_all_be_answered(client_for):
    calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": "get_weather", "arguments": "{}"},
        }
        for i in (1, 2)
    ]
    body = with_(
        OPENAI_BASIC,
        tools=[TOOL],
        messages=[
            *ASK,
            {"role": "assistant", "tool_calls": calls},
            {"role": "tool", "content": "sunny", "tool_call_id": "call_1"},
            {"role": "user", "content": "and?"},
        ],
    )
    with pytest.raises(openai.BadRequestError) as caught:
        post(client_for(), body)
    assert caught.value.param == "messages.[1].role"
    assert "call_2" in caught.value.body["message"]


def test_a_tool_message_without_a_call_before_it_in_openais_words(client_for):
    body = with_(
        OPENAI_BASIC, messages=[*ASK, {"role": "tool", "content": "x", "tool_call_id": "c"}]
    )
    with pytest.raises(openai.BadRequestError) as caught:
        post(client_for(), body)
    assert (caught.value.param, caught.value.code) == ("messages.[1].role", None)
    assert caught.value.body["message"] == (
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
        "with 'tool_calls'."
    )


def test_wrong_tool_call_id(client_for):
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    body = with_(
        OPENAI_BASIC,
        tools=[TOOL],
        messages=[
            *ASK,
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "content": "sunny", "tool_call_id": "call_9"},
        ],
    )
    with pytest.raises(openai.BadRequestError) as caught:
        post(client_for(), body)
    assert caught.value.param == "messages[2].tool_call_id"


def test_unknown_profile_is_404(client_for):
    with pytest.raises(openai.NotFoundError) as caught:
        post(client_for("nosuch"), OPENAI_BASIC)
    assert "known profiles" in caught.value.body["message"]


def test_profile_not_served_at_that_base(client_for):
    with pytest.raises(openai.NotFoundError):
        post(client_for("openai", base="/api/v1"), OPENAI_BASIC)


def test_error_body_shape(client_for):
    with pytest.raises(openai.BadRequestError) as caught:
        post(client_for(), with_(OPENAI_BASIC, n=0))
    assert set(json.loads(caught.value.response.text)["error"]) == {
        "message",
        "type",
        "param",
        "code",
    }


@pytest.mark.parametrize(
    ("extra", "param", "code", "message"),
    [
        (
            {"model": "o3", "temperature": 0.7},
            "temperature",
            "unsupported_value",
            "Unsupported value: 'temperature' does not support 0.7 with this model. Only the "
            "default (1) value is supported.",
        ),
        (
            {"model": "gpt-5-mini", "temperature": 0},
            "temperature",
            "unsupported_value",
            "Unsupported value: 'temperature' does not support 0 with this model. Only the "
            "default (1) value is supported.",
        ),
        (
            {"model": "o4-mini-2025-04-16", "top_p": 0.9},
            "top_p",
            "unsupported_value",
            "Unsupported value: 'top_p' does not support 0.9 with this model. Only the default "
            "(1) value is supported.",
        ),
        (
            {"model": "gpt-5", "max_tokens": 32},
            "max_tokens",
            "unsupported_parameter",
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
        ),
        (
            {"model": "gpt-4o", "reasoning_effort": "low"},
            "reasoning_effort",
            "unsupported_parameter",
            "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
        ),
        (
            {"model": "o4-mini", "stop": ["\n"]},
            "stop",
            "unsupported_parameter",
            "Unsupported parameter: 'stop' is not supported with this model.",
        ),
        (
            {"model": "o3-2025-04-16", "reasoning_effort": "minimal"},
            "reasoning_effort",
            "unsupported_value",
            "Unsupported value: 'reasoning_effort' does not support 'minimal' with this model. "
            "Supported values are: 'low', 'medium', and 'high'.",
        ),
        (
            {"model": "gpt-5", "reasoning_effort": "none"},
            "reasoning_effort",
            "unsupported_value",
            "Unsupported value: 'reasoning_effort' does not support 'none' with this model. "
            "Supported values are: 'minimal', 'low', 'medium', and 'high'.",
        ),
        (
            {"model": "gpt-4o-2024-08-06", "verbosity": "low"},
            "verbosity",
            "unsupported_value",
            "Unsupported value: 'verbosity' does not support 'low' with this model. Supported "
            "values are: 'medium'.",
        ),
        (
            {"model": "o4-mini", "verbosity": "high"},
            "verbosity",
            "unsupported_value",
            "Unsupported value: 'verbosity' does not support 'high' with this model. Supported "
            "values are: 'medium'.",
        ),
    ],
)
def test_a_reasoning_model_refuses_sampling_settings(client_for, extra, param, code, message):
    """In the live API's words, as its users quote them; the defaults pass, and so does a model
    the profile does not list as reasoning."""
    with pytest.raises(openai.BadRequestError) as caught:
        post(client_for(), with_(OPENAI_BASIC, **extra))
    assert (caught.value.body["param"], caught.value.body["code"]) == (param, code)
    assert caught.value.body["message"] == message
    post(client_for(), with_(OPENAI_BASIC, model="o3", temperature=1, top_p=1.0))
    post(client_for(), with_(OPENAI_BASIC, model="gpt-4o", temperature=0.7, max_tokens=32))
    post(client_for(), with_(OPENAI_BASIC, model="o3", reasoning_effort="high"))
    post(client_for(), with_(OPENAI_BASIC, model="gpt-5-mini", reasoning_effort="minimal"))
    post(client_for(), with_(OPENAI_BASIC, model="my-own-model", reasoning_effort="high"))
    post(client_for(), with_(OPENAI_BASIC, model="gpt-5-nano", verbosity="low"))
    post(client_for(), with_(OPENAI_BASIC, model="gpt-4o", verbosity="medium"))
    post(client_for(), with_(OPENAI_BASIC, model="my-own-model", verbosity="high"))
    with pytest.raises(openai.BadRequestError):  # a snapshot as its alias
        post(client_for(), with_(OPENAI_BASIC, model="gpt-4o-2024-08-06", reasoning_effort="low"))


@pytest.mark.parametrize(
    ("profile", "model"),
    [
        ("deepseek", "deepseek-reasoner"),
        ("deepseek", "deepseek-chat"),
        ("google", "gemini-2.5-pro"),
    ],
)
def test_a_profile_naming_no_reasoning_models_takes_an_effort_for_any(client_for, profile, model):
    """Only a profile that names its reasoning models knows which of its models do not reason."""
    asked = {"model": model, "messages": [{"role": "user", "content": "Hello"}]}
    post(client_for(profile), {**asked, "reasoning_effort": "low"})


def test_a_reasoning_model_refuses_logprobs(client_for):
    """A 403 in the live API's words (an o4-mini answer quoted in confident-ai/deepeval#2184);
    ``logprobs: false`` passes."""
    with pytest.raises(openai.PermissionDeniedError) as caught:
        post(client_for(), with_(OPENAI_BASIC, model="o4-mini", logprobs=True, top_logprobs=2))
    assert caught.value.body == {
        "message": "You are not allowed to request logprobs from this model",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    post(client_for(), with_(OPENAI_BASIC, model="o4-mini", logprobs=False))


def test_parallel_tool_calls_without_tools_is_refused_in_openais_words(client_for):
    """As OpenAI's users quote it (LiteLLM sends the field with no tools); with tools it
    passes, and a profile that does not know OpenAI's rules takes it."""
    with pytest.raises(openai.BadRequestError) as caught:
        post(client_for(), with_(OPENAI_BASIC, parallel_tool_calls=False))
    assert caught.value.body == {
        "message": "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only "
        "allowed when 'tools' are specified.",
        "type": "invalid_request_error",
        "param": "parallel_tool_calls",
        "code": None,
    }
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    post(client_for(), with_(OPENAI_BASIC, parallel_tool_calls=False, tools=[tool]))
