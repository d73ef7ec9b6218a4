"""A multi-turn agent loop through the official SDK, driven by the bundled scenarios.

The model asks for two tools in parallel; the client runs them and sends both results; the mock
answers with the final text. Each turn is matched by the conversation's shape (who spoke last,
which tools are offered), not by counting requests.
"""

from __future__ import annotations

import json

import pytest
from conftest import STRICT_WEATHER

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


@pytest.mark.parametrize(
    ("tools", "tool_choice"),
    [([STRICT_WEATHER], None), (TOOLS, "none")],
    ids=["arguments the schema refuses", "tool_choice none"],
)
def test_the_bundled_weather_loop_steps_aside_for_a_request_that_rules_it_out(
    tenant, tools, tool_choice
):
    """The bundled weather scenario calls get_weather with a location: a request whose tool
    takes a city (strictly), or that asks for no tool call, gets the fallback instead of a
    call a live model would not make."""
    client = tenant.client()
    messages = [{"role": "user", "content": "What's the weather in Paris?"}]
    choice = {} if tool_choice is None else {"tool_choice": tool_choice}
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=messages, tools=tools, **choice
    )
    answer = raw.parse().choices[0]
    assert answer.message.tool_calls is None
    assert answer.message.content == "This is a mock response to: What's the weather in Paris?"
    assert "x-mock-scenario-warning" not in raw.headers
    assert tenant.requests()[-1]["scenario"] is None


def test_a_required_call_goes_on_to_a_function_not_called_yet(tenant):
    # LangChain's ToolStrategy offers its output type as a last tool and requires a call each
    # turn: the fallback calls the lookup first, then, with its result, the output tool.
    def tool(name: str) -> dict:
        parameters = {"type": "object", "properties": {"q": {"type": "string"}}}
        return {"type": "function", "function": {"name": name, "parameters": parameters}}

    client = tenant.client()
    asked = {
        "model": "gpt-4o",
        "tools": [tool("lookup"), tool("Answer")],
        "tool_choice": "required",
    }
    messages = [{"role": "user", "content": "Find it, then answer."}]
    first = client.chat.completions.create(**asked, messages=messages).choices[0].message
    assert [call.function.name for call in first.tool_calls] == ["lookup"]
    messages += [
        first.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": first.tool_calls[0].id, "content": "found"},
    ]
    second = client.chat.completions.create(**asked, messages=messages).choices[0].message
    assert [call.function.name for call in second.tool_calls] == ["Answer"]


@pytest.mark.parametrize("api", ["chat_completions", "responses"])
def test_a_tool_loops_answer_is_asked_for_again_as_json_but_not_given_to_the_next_turn(tenant, api):
    """docs/agents.md's scenarios of a tool loop: the answer asked for again as JSON (as
    LangGraph does, the answer in the history) still reads the tool's result; the user's
    ``Thanks!`` after it (offering no tools, so that ``asks`` steps aside) does not."""
    tenant.add(
        [
            {
                "name": "asks",
                "match": {"last_message_role": "user", "tools": ["get_weather"]},
                "reply": {
                    "tool_calls": [
                        {"id": "call_w1", "name": "get_weather", "arguments": {"location": "Oslo"}}
                    ]
                },
            },
            {
                "name": "answers",
                "match": {
                    "tool_call_id": "call_w1",
                    "tool_result": {"contains": "sunny"},
                    "response_format": "text",
                },
                "reply": {"content": "It is sunny in Oslo."},
            },
            {
                "name": "answers-as-json",
                "match": {"tool_call_id": "call_w1", "response_format": "json_schema"},
                "reply": {"content": '{"sky": "sunny"}'},
            },
            {
                "name": "thanks",
                "match": {"last_user_message": {"contains": "Thanks"}},
                "reply": {"content": "You're welcome!"},
            },
        ]
    )
    client = tenant.client()
    sky = {"type": "object", "properties": {"sky": {"type": "string"}}, "required": ["sky"]}
    sky["additionalProperties"] = False
    as_json = {"type": "json_schema", "name": "sky", "schema": sky, "strict": True}
    if api == "responses":
        tools = [{"type": "function", **TOOLS[0]["function"]}]
        first = client.responses.create(model="gpt-4o", input="Weather in Oslo?", tools=tools)
        (call,) = first.output
        turn = [
            {"role": "user", "content": "Weather in Oslo?"},
            call.model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 12°C"},
        ]
        answer = client.responses.create(model="gpt-4o", input=turn, tools=tools)
        turn += [item.model_dump(exclude_none=True) for item in answer.output]
        again = client.responses.create(model="gpt-4o", input=turn, text={"format": as_json})
        thanks = [*turn, {"role": "user", "content": "Thanks!"}]
        said = [answer.output_text, again.output_text]
        said.append(client.responses.create(model="gpt-4o", input=thanks).output_text)
    else:
        messages = [{"role": "user", "content": "Weather in Oslo?"}]
        first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
        messages.append(first.choices[0].message.model_dump(exclude_none=True))
        call = first.choices[0].message.tool_calls[0]
        messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny, 12°C"})
        answer = client.chat.completions.create(model="gpt-4o", messages=messages, tools=TOOLS)
        messages.append(answer.choices[0].message.model_dump(exclude_none=True))
        chat_json = {
            "type": "json_schema",
            "json_schema": {k: v for k, v in as_json.items() if k != "type"},
        }
        again = client.chat.completions.create(
            model="gpt-4o", messages=messages, response_format=chat_json
        )
        messages.append({"role": "user", "content": "Thanks!"})
        thanks = client.chat.completions.create(model="gpt-4o", messages=messages)
        said = [answer.choices[0].message.content, again.choices[0].message.content]
        said.append(thanks.choices[0].message.content)
    assert said == ["It is sunny in Oslo.", '{"sky": "sunny"}', "You're welcome!"]
    scenarios = [entry["scenario"] for entry in tenant.requests()]
    assert scenarios == ["asks", "answers", "answers-as-json", "thanks"]
