"""A multi-turn agent loop through the official SDK, driven by the bundled scenarios.

The model asks for two tools in parallel; the client runs them and sends both results; the mock
answers with the final text. Each turn is matched by the conversation's shape (who spoke last,
which tools are offered), not by counting requests.
"""

from __future__ import annotations

import json

import pytest

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather of a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "unit": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
]
FAKE_WEATHER = {"Beijing": "22°C and sunny in Beijing", "Shanghai": "25°C and humid in Shanghai"}


def run_tool(call) -> str:
    return FAKE_WEATHER[json.loads(call.function.arguments)["location"]]


def test_parallel_tool_loop_with_sync_client(tenant):
    client = tenant.client()
    messages = [{"role": "user", "content": "What's the weather in Beijing and Shanghai?"}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    calls = first.choices[0].message.tool_calls
    assert first.choices[0].finish_reason == "tool_calls"
    assert [json.loads(c.function.arguments)["location"] for c in calls] == ["Beijing", "Shanghai"]
    assert len({c.id for c in calls}) == 2

    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    for call in calls:
        messages.append({"role": "tool", "tool_call_id": call.id, "content": run_tool(call)})
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == (
        "Here is the weather: 22°C and sunny in Beijing, 25°C and humid in Shanghai."
    )
    scenarios = [entry["scenario"] for entry in tenant.requests()]
    assert scenarios == ["weather-two-cities", "weather-answer"]


@pytest.mark.asyncio
async def test_single_tool_loop_with_async_client(tenant):
    client = tenant.async_client()
    messages = [{"role": "user", "content": "How is the weather today?"}]
    first = await client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    (call,) = first.choices[0].message.tool_calls
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": run_tool(call)})
    final = await client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
    assert final.choices[0].message.content == "Here is the weather: 22°C and sunny in Beijing."
    await client.close()


def test_rate_limit_scenario_retries_through_the_sdk(tenant):
    client = tenant.client(max_retries=2)
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "rate limit demo"}]
    )
    assert completion.choices[0].message.content == "Succeeded after the retry."
    assert [entry["status"] for entry in tenant.requests()] == [429, 200]
