"""Every reply field, templating and its sandbox, scripted errors, and the fallback reply."""

from __future__ import annotations

import json
import math
import time
import timeit

import jsonschema
import openai
import pytest
from conftest import STRICT_WEATHER
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.reply import Message
from mock_server.tokens import CACHED_TEXT, EXACT_CHARS, TOKEN, count_tokens, cut_to, split_tokens

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me about Paris"}]}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "hourly": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            },
            "required": ["location", "unit"],
            "additionalProperties": False,
        },
    },
}


def reply_to(tenant, reply: dict, body: dict = BODY, profile: str | None = None) -> dict:
    tenant.add({"name": "it", "priority": 10, "reply": reply})
    response = tenant.post(body, profile=profile)
    assert response.status == 200, response.body
    return response.json()


def test_content_is_templated_from_the_request(tenant):
    body = reply_to(
        tenant,
        {"content": "{{ model | upper }} on '{{ request.messages[-1].content }}' (turn {{turn}})"},
    )
    assert body["choices"][0]["message"]["content"] == "GPT-4O on 'Tell me about Paris' (turn 1)"


def test_arguments_written_as_a_mapping_stay_json_whatever_a_template_brings(tenant):
    """Each text of a mapping is filled in, then the mapping written as JSON: a quote, a
    backslash or a line break the request brings is escaped where it lands."""
    arguments = {"city": "{{ last_user_message }}", "days": 2, "tags": ["{{ model }}"]}
    tenant.add({"name": "call", "reply": {"tool_calls": [{"name": "f", "arguments": arguments}]}})
    said = 'Paris "the city"\nback\\slash'
    client = tenant.client()
    answer = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": said}]
    )
    written = answer.choices[0].message.tool_calls[0].function.arguments
    assert json.loads(written) == {"city": said, "days": 2, "tags": ["gpt-4o"]}


def test_template_reads_tool_call_arguments_and_results(tenant):
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "-3C"},
    ]
    content = (
        "{{ tool_calls[0].arguments.location }}: {{ tool_results | last }}"
        " [{{ tool_results | join(' | ') }}] {{ request['nothing|here'] | default(\"a|b\") }}"
        " {{ request.nothing | default('}}') }}"
    )  # a '|' inside quotes is not a filter's, nor '}}' the expression's end
    body = reply_to(
        tenant, {"content": content}, {**BODY, "messages": messages, "tools": [WEATHER]}
    )
    assert body["choices"][0]["message"]["content"] == "Oslo: -3C [-3C] a|b }}"


@pytest.mark.parametrize(
    "template",
    [
        "{{ request.__class__.__mro__ }}",
        "{{ request['__globals__'] }}",
        "{{ ''.__class__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% import os %}",
        "{{ request.model | attr('__class__') }}",
    ],
)
def test_sandbox_escapes_are_refused_at_load(tenant, template):
    response = tenant.admin("POST", "/scenarios", {"name": "evil", "reply": {"content": template}})
    assert response.status == 400
    assert "bad template" in response.json()["error"]["message"]


def test_a_template_of_many_openings_is_refused_at_once(tenant):
    started = time.process_time()
    response = tenant.admin(
        "POST", "/scenarios", {"name": "x", "reply": {"content": "{{" * 20_000}}
    )
    assert response.status == 400 and time.process_time() - started < 1


def test_a_quote_left_open_is_refused_at_load(tenant):
    reply = {"content": "{{ model | default('open) }}"}
    response = tenant.admin("POST", "/scenarios", {"name": "open", "reply": reply})
    assert response.status == 400
    assert "(or a quote in it is not closed)" in response.json()["error"]["message"]


def test_missing_template_values_render_empty(tenant):
    body = reply_to(tenant, {"content": "[{{ request.nothing.here }}]"})
    assert body["choices"][0]["message"]["content"] == "[]"


def test_reasoning_content_on_profiles_that_have_it(tenant):
    reply = {"reasoning_content": "Think first.", "content": "Answer."}
    deepseek = reply_to(tenant, reply, profile="deepseek")
    message = deepseek["choices"][0]["message"]
    assert message["reasoning_content"] == "Think first."
    assert deepseek["usage"]["completion_tokens_details"]["reasoning_tokens"] == 3
    openai_body = tenant.post(BODY).json()
    assert "reasoning_content" not in openai_body["choices"][0]["message"]


def test_refusal(tenant):
    body = reply_to(tenant, {"refusal": "I can't help with that.", "content": None})
    message = body["choices"][0]["message"]
    assert (message["content"], message["refusal"]) == (None, "I can't help with that.")


def test_tool_calls_get_ids_and_json_arguments(tenant):
    body = reply_to(
        tenant,
        {
            "tool_calls": [
                {"name": "get_weather", "arguments": {"location": "Paris", "unit": "celsius"}},
                {"name": "get_weather", "arguments": '{"location": "Rome"}', "id": "call_fixed"},
            ]
        },
        {**BODY, "tools": [WEATHER]},
    )
    choice = body["choices"][0]
    calls = choice["message"]["tool_calls"]
    assert choice["finish_reason"] == "tool_calls"
    assert calls[0]["id"].startswith("call_") and len(calls[0]["id"]) == 29
    assert calls[1]["id"] == "call_fixed"
    assert json.loads(calls[0]["function"]["arguments"]) == {"location": "Paris", "unit": "celsius"}
    assert calls[1]["function"]["arguments"] == '{"location": "Rome"}'
    assert choice["message"]["content"] is None


def test_finish_reason_length_truncates_to_max_tokens(tenant):
    body = reply_to(tenant, {"content": "one two three four five"}, {**BODY, "max_tokens": 2})
    choice = body["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ("one two", "length")
    assert body["usage"]["completion_tokens"] == 2


REASONED = {"reasoning_content": "step " * 30, "content": "The answer."}
LOOKUP = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


def test_max_completion_tokens_hold_the_reasoning_and_the_calls(tenant):
    # OpenAI's max_completion_tokens counts reasoning: spent on it, there is no answer.
    tenant.add({"name": "reasoned", "match": {"model": "o4-mini"}, "reply": REASONED})
    client = tenant.client()
    asked = {"model": "o4-mini", "messages": BODY["messages"], "max_completion_tokens": 16}
    answer = client.chat.completions.create(**asked)
    assert (answer.choices[0].message.content, answer.choices[0].finish_reason) == ("", "length")
    assert answer.usage.completion_tokens_details.reasoning_tokens == 16
    assert answer.usage.completion_tokens == 16
    # A call's arguments are output too: cut short, the call keeps what it wrote.
    calls = [{"name": "lookup", "arguments": {"query": "alpha " * 20}}, {"name": "lookup"}]
    tenant.add({"name": "calls", "priority": 5, "reply": {"tool_calls": calls}})
    answer = client.chat.completions.create(**BODY, tools=[LOOKUP], max_tokens=10)
    (call,) = answer.choices[0].message.tool_calls
    assert answer.choices[0].finish_reason == "length"
    assert call.function.arguments == '{"query":"alpha alpha alpha'


def test_a_limit_holds_a_refusal_and_a_calls_name_too(tenant):
    client = tenant.client()
    refusing = {"reasoning_content": "step " * 30, "refusal": "I can't help with that."}
    tenant.add({"name": "refusing", "match": {"model": "o4-mini"}, "reply": refusing})
    asked = {"model": "o4-mini", "messages": BODY["messages"], "max_completion_tokens": 5}
    answer = client.chat.completions.create(**asked)
    assert (answer.choices[0].message.refusal, answer.usage.completion_tokens) == (None, 5)
    named = {"tool_calls": [{"name": "a_very_long_function_name_here_x", "arguments": ""}]}
    tenant.add({"name": "named", "priority": 5, "match": {"model": "gpt-4o"}, "reply": named})
    answer = client.chat.completions.create(**BODY, max_tokens=2)
    assert answer.choices[0].finish_reason == "length"
    assert not answer.choices[0].message.tool_calls


def test_an_image_counts_as_a_low_detail_image(tenant):
    client = tenant.client()
    text = {"type": "text", "text": "What is this?"}
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}

    def prompt(*parts: dict) -> int:
        messages = [{"role": "user", "content": list(parts)}]
        return client.chat.completions.create(model="gpt-4o", messages=messages).usage.prompt_tokens

    assert prompt(text, image, image) - prompt(text) == 2 * 85
    responses_image = {"type": "input_image", "image_url": "https://example.com/cat.png"}
    asked = [{"role": "user", "content": [{"type": "input_text", "text": "What is this?"}]}]
    plain = client.responses.create(model="gpt-4o", input=asked).usage.input_tokens
    asked[0]["content"].append(responses_image)
    assert client.responses.create(model="gpt-4o", input=asked).usage.input_tokens == plain + 85


def test_a_long_answer_cut_to_a_few_tokens_is_not_read_to_its_end():
    # Cutting takes the first tokens one by one: cutting 4 MB to one token costs about what
    # counting them does (it tokenised the whole text first, some five times that).
    long = Message(content=". " * 2_000_000)

    def best(work) -> float:
        return min(timeit.repeat(work, number=1, repeat=3))

    assert cut_to(long, 1).content == "."
    counting = best(lambda: TOKEN.subn("", long.content))  # what counting does, uncached
    assert best(lambda: cut_to(long, 1)) < 3 * counting


def test_either_limit_holds_the_reasoning_on_the_openai_profile(tenant):
    # Scripted reasoning counts in max_tokens as in max_completion_tokens: a chat answer then
    # ends as a response to the same limit does, never past it.
    tenant.add({"name": "reasoned", "reply": REASONED})
    client = tenant.client()
    for limit in ({"max_tokens": 16}, {"max_completion_tokens": 16}):
        answer = client.chat.completions.create(**BODY, **limit)
        assert (answer.choices[0].message.content, answer.usage.completion_tokens) == ("", 16)
    response = client.responses.create(model="gpt-4o", input="x", max_output_tokens=16)
    assert (response.output_text, response.usage.output_tokens) == ("", 16)


def test_a_limit_holds_no_reasoning_where_the_profile_names_no_reasoning_models(tenant):
    tenant.add({"name": "reasoned", "reply": REASONED})
    asked = {"model": "deepseek-reasoner", "messages": BODY["messages"], "max_tokens": 3}
    answer = tenant.client("deepseek").chat.completions.create(**asked)
    assert (answer.choices[0].message.content, answer.choices[0].finish_reason) == (
        "The answer.",
        "stop",
    )


@pytest.mark.parametrize(
    ("stop", "max_tokens", "content", "finish_reason"),
    [
        (
            ["four", " two"],
            None,
            "one",
            "stop",
        ),  # the first in the text ends it, not the first listed
        ("three", None, "one two ", "stop"),
        ("three", 1, "one", "length"),  # the token limit comes first
        ("eleven", None, "one two three four five", "stop"),
    ],
)
def test_a_stop_sequence_ends_the_content_before_it(
    tenant, stop, max_tokens, content, finish_reason
):
    body = {**BODY, "stop": stop, "max_tokens": max_tokens}
    answer = reply_to(tenant, {"content": "one two three four five"}, body)
    choice = answer["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == (content, finish_reason)
    streamed = tenant.client().chat.completions.create(**{**body, "stream": True})
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == content


def test_a_body_kept_for_one_stop_sequence_is_not_answered_to_another(tenant):
    tenant.add({"name": "fixed", "reply": {"content": "one two three"}})
    for stop, content in ((" two", "one"), (None, "one two three"), (" three", "one two")):
        answer = tenant.client().chat.completions.create(**BODY, stop=stop)
        assert answer.choices[0].message.content == content


def test_explicit_finish_reason(tenant):
    body = reply_to(tenant, {"content": "...", "finish_reason": "content_filter"})
    assert body["choices"][0]["finish_reason"] == "content_filter"


def test_n_replicates_one_answer(tenant):
    body = reply_to(tenant, {"content": "same"}, {**BODY, "n": 3})
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert {c["message"]["content"] for c in body["choices"]} == {"same"}


def test_explicit_choices(tenant):
    body = reply_to(tenant, {"choices": [{"content": "A"}, {"content": "B"}]}, {**BODY, "n": 2})
    assert [c["message"]["content"] for c in body["choices"]] == ["A", "B"]


@pytest.mark.parametrize("profile", ["openai", "deepseek"])
def test_reasoning_and_cached_tokens_are_scripted(tenant, profile):
    usage = {"prompt_tokens": 30, "reasoning_tokens": 9, "cached_tokens": 20}
    body = reply_to(tenant, {"content": "Hi", "usage": usage}, profile=profile)["usage"]
    assert (body["prompt_tokens"], body["completion_tokens"]) == (30, 1 + 9)
    if profile == "openai":
        assert body["completion_tokens_details"]["reasoning_tokens"] == 9
        assert body["prompt_tokens_details"]["cached_tokens"] == 20
    else:  # DeepSeek's own fields
        assert (body["prompt_cache_hit_tokens"], body["prompt_cache_miss_tokens"]) == (20, 10)


def test_usage_is_consistent_and_overridable(tenant):
    body = reply_to(tenant, {"content": "Paris is the capital of France."})
    usage = body["usage"]
    assert usage["completion_tokens"] == 7  # Paris| is| the| capital| of| France|.
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    body = reply_to(
        tenant, {"content": "x", "usage": {"prompt_tokens": 100, "completion_tokens": 5}}
    )
    assert body["usage"]["total_tokens"] == 105


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("ab Z09 \t\n\x1c.,é中\u3000"), max_size=200) | st.text(max_size=200))
def test_a_text_counts_as_many_tokens_as_a_stream_cuts_it_into(text):
    assert count_tokens(text) == len(split_tokens(text))
    longer = text * (CACHED_TEXT // max(len(text), 1) + 1)  # counted afresh, not kept
    assert count_tokens(longer) == len(split_tokens(longer))


def test_a_text_past_a_million_characters_is_counted_on_its_start(tenant):
    # One token a character, then one every eight: counted whole, 9/8 of EXACT_CHARS.
    prompt = "." * EXACT_CHARS + "a" * EXACT_CHARS
    response = tenant.post({**BODY, "messages": [{"role": "user", "content": prompt}]})
    assert response.status == 200
    assert response.json()["usage"]["prompt_tokens"] == 3 + 3 + 2 * EXACT_CHARS


@pytest.mark.parametrize("alternatives", [2, 20])
def test_logprobs_when_requested(tenant, alternatives):
    """Each token's log probability, and its alternatives: distinct tokens at one position,
    less likely, whose probabilities add up to no more than 1."""
    asked = {**BODY, "logprobs": True, "top_logprobs": alternatives}
    body = reply_to(tenant, {"content": "Bonjour Paris"}, asked)
    entries = body["choices"][0]["logprobs"]["content"]
    assert "".join(e["token"] for e in entries) == "Bonjour Paris"
    for entry in entries:
        assert entry["logprob"] <= 0
        assert bytes(entry["bytes"]).decode() == entry["token"]
        top = [alternative["logprob"] for alternative in entry["top_logprobs"]]
        assert len(top) == alternatives and top == sorted(top, reverse=True)
        assert top[0] == entry["logprob"] and sum(math.exp(p) for p in top) <= 1
        leading = entry["token"][: len(entry["token"]) - len(entry["token"].lstrip())]
        assert all(a["token"].startswith(leading) for a in entry["top_logprobs"])  # " Paris_1"
    again = tenant.post(asked).json()
    assert again["choices"][0]["logprobs"] == body["choices"][0]["logprobs"]


def test_scripted_error_in_profile_wording(tenant):
    tenant.add({"name": "broke", "reply": {"status": 402}})
    with pytest.raises(openai.APIStatusError) as caught:
        tenant.client("deepseek").chat.completions.create(**BODY)
    assert caught.value.status_code == 402
    assert caught.value.body == {
        "message": "Insufficient Balance",
        "type": "unknown_error",
        "param": None,
        "code": "invalid_request_error",
    }


def test_scripted_error_overrides_and_headers(tenant):
    tenant.add(
        {
            "name": "custom",
            "reply": {
                "status": 400,
                "error": {"message": "Nope.", "param": "messages", "code": "custom_code"},
                "headers": {"x-custom": "1"},
            },
        }
    )
    with pytest.raises(openai.BadRequestError) as caught:
        tenant.client().chat.completions.create(**BODY)
    error = caught.value
    assert (error.body["message"], error.param, error.code, error.type) == (
        "Nope.",
        "messages",
        "custom_code",
        "invalid_request_error",
    )
    assert error.response.headers["x-custom"] == "1"


def test_reply_headers_on_success(tenant):
    tenant.add({"name": "h", "reply": {"content": "ok", "headers": {"openai-processing-ms": "42"}}})
    assert tenant.post(BODY).headers["openai-processing-ms"] == "42"


def test_fallback_tool_arguments_follow_the_tool_schema(tenant):
    body = {**BODY, "tools": [WEATHER], "tool_choice": "required"}
    call = tenant.post(body).json()["choices"][0]["message"]["tool_calls"][0]
    arguments = json.loads(call["function"]["arguments"])
    jsonschema.validate(arguments, WEATHER["function"]["parameters"])


def test_fallback_named_tool_choice(tenant):
    other = {"type": "function", "function": {"name": "other"}}
    body = {
        **BODY,
        "tools": [other, WEATHER],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }
    call = tenant.post(body).json()["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"


@pytest.mark.parametrize(("mode", "called"), [("required", ["get_weather"]), ("auto", [])])
def test_fallback_allowed_tools(tenant, mode, called):
    """``allowed_tools`` (openai-python's ``ChatCompletionAllowedToolChoiceParam``): in mode
    ``required`` the fallback calls a tool it allows, in ``auto`` it answers in words."""
    other = {"type": "function", "function": {"name": "other"}}
    allowed = {"mode": mode, "tools": [{"type": "function", "function": {"name": "get_weather"}}]}
    with tenant.client() as client:
        message = (
            client.chat.completions.create(
                **BODY,
                tools=[other, WEATHER],
                tool_choice={"type": "allowed_tools", "allowed_tools": allowed},
            )
            .choices[0]
            .message
        )
    assert [call.function.name for call in message.tool_calls or ()] == called


def test_parts_of_2026_are_taken(tenant):
    """A part ending a cacheable prefix, an image at its ``original`` detail, a custom voice
    (openai-python's chat types)."""
    breakpoint_ = {"mode": "explicit"}
    content = [
        {"type": "text", "text": "Describe", "prompt_cache_breakpoint": breakpoint_},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "original"}},
    ]  # fmt: skip
    body = {
        **BODY,
        "messages": [{"role": "user", "content": content}],
        "modalities": ["text", "audio"],
        "audio": {"voice": {"id": "voice_1234"}, "format": "mp3"},
    }
    assert tenant.post(body).status == 200


def test_fallback_json_schema_content_validates(tenant):
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 12},
            "code": {"type": "string", "maxLength": 3},
            "rank": {"type": "integer", "maximum": -1},
            "population": {"type": "integer", "minimum": 1000},
            "districts": {"type": "array", "items": {"type": "string"}},
            "kind": {"anyOf": [{"const": "capital"}, {"type": "null"}]},
        },
        "required": ["city", "population", "districts", "kind", "code", "rank"],
        "additionalProperties": False,
    }
    body = {
        **BODY,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": schema, "strict": True},
        },
    }
    content = tenant.post(body).json()["choices"][0]["message"]["content"]
    jsonschema.validate(json.loads(content), schema)


def test_fallback_json_object(tenant):
    asked = [{"role": "system", "content": "Answer in JSON."}, *BODY["messages"]]
    body = {**BODY, "messages": asked, "response_format": {"type": "json_object"}}
    assert isinstance(
        json.loads(tenant.post(body).json()["choices"][0]["message"]["content"]), dict
    )


def test_json_mode_asks_for_the_word_json_in_the_messages(tenant):
    """As OpenAI answers it (a client project's recorded answer; users' reports, 2024-2026)."""
    with tenant.client() as client, pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**BODY, response_format={"type": "json_object"})
    assert caught.value.body == {
        "message": "'messages' must contain the word 'json' in some form, to use "
        "'response_format' of type 'json_object'.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": None,
    }


def test_delay_ms(tenant):
    import time

    tenant.add({"name": "slow", "reply": {"content": "late", "latency": {"delay_ms": 300}}})
    started = time.monotonic()
    assert tenant.post(BODY).status == 200
    assert time.monotonic() - started >= 0.29


def test_fields_the_sdk_sends_are_taken(tenant):
    """Fields OpenAI's API gained in 2026 (openai-python's ``CompletionCreateParams``)."""
    completion = tenant.client().chat.completions.create(
        model="gpt-4o",
        messages=BODY["messages"],
        service_tier="fast",
        prompt_cache_retention="24h",
        prompt_cache_options={"mode": "explicit", "ttl": "30m"},
        moderation={"model": "omni-moderation-latest", "policy": {"input": {"mode": "block"}}},
    )
    assert completion.service_tier == "priority"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 128, None),
        (
            "a" * 129,
            "Invalid 'tools[0].function.name': string too long. Expected a string with maximum "
            "length 128, but got a string with length 129 instead.",
        ),
        (
            "db.read",
            "Invalid 'tools[0].function.name': string does not match pattern. Expected a string "
            "that matches the pattern '^[a-zA-Z0-9_-]+$'.",
        ),
    ],
)
def test_function_names_as_the_live_api_bounds_them(tenant, name, message):
    """Up to 128 characters of ``[a-zA-Z0-9_-]``, as users measured the live API (64 is the
    documented bound, but 65 to 128 pass)."""
    tool = {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    response = tenant.post({**BODY, "tools": [tool]})
    if message is None:
        assert response.status == 200
    else:
        assert response.status == 400
        assert response.json()["error"]["message"] == message


CALLS = {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}
TWO_CALLS = {"tool_calls": [CALLS["tool_calls"][0], {"name": "get_weather", "arguments": {"city": "Rome"}}]}  # fmt: skip


# (a scripted reply, what the request asks besides BODY, the warning it gets)
RULED_OUT = [
    (CALLS, {}, "the reply calls 'get_weather', which the request does not offer (none)"),
    (
        CALLS,
        {"tools": [STRICT_WEATHER], "tool_choice": "none"},
        "the reply calls a tool, but the request's tool_choice is 'none'",
    ),
    (
        {"content": "Sunny."},
        {"tools": [STRICT_WEATHER], "tool_choice": "required"},
        "the reply calls no tool, but the request's tool_choice is 'required'",
    ),
    (
        {"content": "Sunny."},
        {
            "tools": [STRICT_WEATHER],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
        "the reply calls no tool, but the request's tool_choice forces 'get_weather'",
    ),
    (
        TWO_CALLS,
        {"tools": [STRICT_WEATHER], "parallel_tool_calls": False},
        "the reply makes 2 tool calls, but the request sets parallel_tool_calls to false",
    ),
    (
        {"tool_calls": [{"name": "get_weather", "arguments": {"location": "Oslo"}}]},
        {"tools": [STRICT_WEATHER]},
        "the call to 'get_weather' breaks the schema at the root: 'city' is a required "
        "property (strict: true)",
    ),
    (
        {"content": "not json"},
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "a",
                    "strict": True,
                    "schema": STRICT_WEATHER["function"]["parameters"],
                },
            }
        },
        "the content is not JSON (strict: true)",
    ),
    (
        {"choices": [{"content": "A"}, {"content": "B"}]},
        {"n": 3},
        "the reply has 2 choices, but the request asks for 3",
    ),
    (
        {"choices": [{"content": "A"}, {"content": "B"}]},
        {},
        "the reply has 2 choices, but the request asks for 1",
    ),
]
RULED_OUT_IDS = [
    "not offered",
    "none",
    "required",
    "forced",
    "parallel",
    "strict arguments",
    "strict content",
    "choices past n",
    "choices without n",
]


@pytest.mark.parametrize(("reply", "asked", "warning"), RULED_OUT, ids=RULED_OUT_IDS)
def test_a_reply_the_request_rules_out_goes_out_with_a_warning(tenant, reply, asked, warning):
    """A scripted reply the live API could not give for this request is sent as scripted, and
    said to be so: in a header, the journal and the request log."""
    tenant.add({"name": "scripted", "priority": 10, "reply": reply})
    for _ in range(2):  # the second time too (no kept body hides it)
        response = tenant.post({**BODY, **asked})
        assert response.status == 200, response.body
        assert response.headers["x-mock-scenario-warning"] == warning
    assert tenant.requests()[-1]["warnings"] == [warning]


@pytest.mark.parametrize(("reply", "asked", "warning"), RULED_OUT, ids=RULED_OUT_IDS)
def test_a_scenario_may_step_aside_for_a_request_that_rules_its_reply_out(
    tenant, reply, asked, warning
):
    """With ``on_ruled_out: no_match``, a reply the request rules out is not sent: the scenario
    does not match (the next one, or the fallback, answers), its step is not taken, and strict
    mode's near-miss report says why."""
    tenant.add(
        [
            {"name": "scripted", "priority": 10, "on_ruled_out": "no_match", "reply": reply},
            {"name": "next", "priority": 5, "reply": {"content": "next in line"}},
        ]
    )
    asked = {**BODY, **asked}
    response = tenant.post(asked)
    assert response.status == 200, response.body
    assert tenant.requests()[-1]["scenario"] == "next"  # which answers as scripted, warned or not
    tenant.admin("DELETE", "/scenarios/next")
    tenant.admin("POST", "/settings", {"strict": True})
    refused = tenant.post(asked)
    assert refused.status == 404
    assert (
        f"reply ruled out (on_ruled_out: no_match): {warning}" in refused.json()["error"]["message"]
    )
    listed = {s["name"]: s for s in tenant.admin("GET", "/scenarios").json()["scenarios"]}
    assert (listed["scripted"]["served"], listed["scripted"]["on_ruled_out"]) == (0, "no_match")


def test_a_scenario_stepping_aside_keeps_its_place_in_its_sequence(tenant):
    tenant.add(
        {
            "name": "weather",
            "on_ruled_out": "no_match",
            "sequence": [CALLS, {"content": "It is sunny."}],
        }
    )
    tools = {**BODY, "tools": [STRICT_WEATHER]}
    fallback = tenant.post({**tools, "tool_choice": "none"}).json()["choices"][0]["message"]
    assert fallback["content"].startswith("This is a mock response to")
    called = tenant.post(tools).json()["choices"][0]["message"]
    assert called["tool_calls"][0]["function"]["arguments"] == '{"city":"Oslo"}'


def test_allowed_tools_of_other_kinds_are_read_without_a_fault(tenant):
    """Chat's ``allowed_tools`` may list entries that name no function (a custom tool's): a
    reply calling a tool outside the list is warned about, not a 500."""
    tenant.add({"name": "scripted", "priority": 10, "reply": CALLS})
    other = {"type": "function", "function": {"name": "lookup"}}
    odd = [{"type": "custom", "custom": {"name": "zz"}}, {"type": "function", "function": "x"}]
    allowed = {"mode": "auto", "tools": [other, *odd]}
    asked = {**BODY, "tools": [STRICT_WEATHER, other]}
    response = tenant.post(
        {**asked, "tool_choice": {"type": "allowed_tools", "allowed_tools": allowed}}
    )
    assert response.status == 200, response.body
    assert response.headers["x-mock-scenario-warning"] == (
        "the reply calls 'get_weather', which allowed_tools leaves out (lookup)"
    )


def test_a_reply_the_request_allows_has_no_warning(tenant):
    tenant.add({"name": "scripted", "priority": 10, "reply": CALLS})
    asked = {**BODY, "tools": [STRICT_WEATHER], "tool_choice": "required"}
    response = tenant.post(asked)
    assert "x-mock-scenario-warning" not in response.headers
    assert tenant.requests()[-1]["warnings"] == []
    two = {
        "name": "two",
        "priority": 20,
        "reply": {"choices": [{"content": "A"}, {"content": "B"}]},
    }
    tenant.add(two)
    assert "x-mock-scenario-warning" not in tenant.post({**BODY, "n": 2}).headers


def test_a_strict_schema_past_the_checks_bounds_is_said_unchecked(tenant):
    """A strict schema too large for the check of a scripted reply (1,000 objects, or an
    ``enum`` searched 450 times over) is not a 500 nor a stalled server: the reply goes out
    with a warning that it was not checked; not checked is not ruled out, so a scenario that
    steps aside for a reply the request rules out answers all the same."""
    tenant.add(
        {
            "name": "scripted",
            "priority": 10,
            "on_ruled_out": "no_match",
            "reply": {"content": '{"k0": "x"}'},
        }
    )
    wide = {f"k{i}": {"type": "string"} for i in range(1000)}
    names = {"type": "string", "enum": [f"name {i}" for i in range(4000)]}
    chain = {"anyOf": [{"$ref": "#/$defs/names"}] * 450}
    for schema, said in (
        (
            {"type": "object", "properties": wide, "required": list(wide)},
            "the content was not checked: the schema holds more than 1000 objects",
        ),
        (
            {"type": "object", "properties": {"k0": chain}, "required": ["k0"],
             "$defs": {"names": names}},
            "the content was not checked: it takes over 20000 steps",
        ),
    ):  # fmt: skip
        schema["additionalProperties"] = False
        response_format = {
            "type": "json_schema",
            "json_schema": {"name": "a", "strict": True, "schema": schema},
        }
        started = time.process_time()
        response = tenant.post({**BODY, "response_format": response_format})
        assert time.process_time() - started < 2
        assert response.status == 200, response.body[:300]
        assert response.headers["x-mock-scenario-warning"].startswith(said)
        assert tenant.requests()[-1]["scenario"] == "scripted"
