"""A user's test suite, as it would use the mock_server fixture (run by test_pytest_plugin.py)."""

import json

import openai
import pytest

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
]
HI = [{"role": "user", "content": "hi"}]


def client(mock_server, **options):
    return openai.OpenAI(
        base_url=mock_server.base_url, api_key=mock_server.api_key, max_retries=0, **options
    )


def test_sync_client_with_added_scenario(mock_server):
    mock_server.add({"name": "hello", "reply": {"content": "Hello from the mock"}})
    reply = client(mock_server).chat.completions.create(model="gpt-4o", messages=HI)
    assert reply.choices[0].message.content == "Hello from the mock"


@pytest.mark.asyncio
async def test_async_client(mock_server):
    mock_server.add({"name": "hello", "reply": {"content": "async hello"}})
    async_client = openai.AsyncOpenAI(base_url=mock_server.base_url, api_key=mock_server.api_key)
    reply = await async_client.chat.completions.create(model="gpt-4o", messages=HI)
    assert reply.choices[0].message.content == "async hello"
    await async_client.close()


def test_streaming(mock_server):
    mock_server.add("scenarios:\n  - name: s\n    reply: {content: one two three}\n")
    chunks = client(mock_server).chat.completions.create(model="gpt-4o", messages=HI, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"


@pytest.mark.mock_server(scenarios=["weather.yaml"])
def test_tool_loop_from_marker_scenarios(mock_server):
    api = client(mock_server)
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = api.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    call = first.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18°C"},
    ]
    final = api.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert final.choices[0].message.content == "It is 18°C in Paris."
    assert [r["scenario"] for r in mock_server.requests] == ["weather", "weather-answer"]


@pytest.mark.mock_server(profile="deepseek")
def test_profile_from_marker(mock_server):
    assert mock_server.base_url.endswith("/deepseek/v1")
    with pytest.raises(openai.UnprocessableEntityError):
        client(mock_server).chat.completions.create(model="m", messages=HI, temperature=3)


@pytest.mark.mock_server(strict=True, allow_unmatched=True)  # the 404 is what it expects
def test_strict_mode_answers_404(mock_server):
    with pytest.raises(openai.NotFoundError) as caught:
        client(mock_server).chat.completions.create(model="gpt-4o", messages=HI)
    assert caught.value.type == "mock_no_match"


def test_sequence_starts_fresh_in_each_test_a(mock_server):
    mock_server.add({"name": "seq", "sequence": [{"content": "first"}, {"content": "second"}]})
    assert (
        client(mock_server)
        .chat.completions.create(model="m", messages=HI)
        .choices[0]
        .message.content
        == "first"
    )


def test_sequence_starts_fresh_in_each_test_b(mock_server):
    mock_server.add({"name": "seq", "sequence": [{"content": "first"}, {"content": "second"}]})
    assert (
        client(mock_server)
        .chat.completions.create(model="m", messages=HI)
        .choices[0]
        .message.content
        == "first"
    )


def test_journal_and_reset(mock_server):
    mock_server.add({"name": "any", "reply": {"content": "x"}})
    client(mock_server).chat.completions.create(model="gpt-4o", messages=HI)
    (entry,) = mock_server.requests
    assert entry["scenario"] == "any" and entry["headers"]["authorization"].startswith("Bearer sk-")
    assert mock_server.api_key not in json.dumps(entry)
    mock_server.reset()
    assert mock_server.requests == []


def test_all_consumed(mock_server):
    mock_server.add({"name": "once", "reply": {"content": "x"}})
    client(mock_server).chat.completions.create(model="gpt-4o", messages=HI)
    mock_server.assert_all_consumed()


def test_not_all_consumed(mock_server):
    mock_server.add({"name": "never-used", "reply": {"content": "x"}})
    mock_server.assert_all_consumed()


def test_unmatched_request_fails_at_teardown(mock_server):
    mock_server.add(
        {"name": "only-weather", "match": {"last_user_message": {"contains": "weather"}}}
    )
    client(mock_server).chat.completions.create(model="gpt-4o", messages=HI)


@pytest.mark.mock_server(allow_unmatched=True)
def test_unmatched_allowed(mock_server):
    reply = client(mock_server).chat.completions.create(model="gpt-4o", messages=HI)
    assert reply.choices[0].message.content == "This is a mock response to: hi"
