"""The Agents SDK's default model, LangChain's ChatOpenAI with use_responses_api=True and
pydantic-ai's OpenAIResponsesModel, each with a function tool, against a real server."""

from __future__ import annotations

import asyncio

from agents import (
    Agent,
    ModelSettings,
    OpenAIConversationsSession,
    Runner,
    function_tool,
    set_default_openai_client,
    set_tracing_disabled,
)
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from openai import AsyncOpenAI
from pydantic_ai import Agent as PydanticAgent
from pydantic_ai.models.openai import OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider
from weather import answered, weather_server

LOOP = [("responses", "asks", 200), ("responses", "answers", 200)]


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def weather_agent(server, **options) -> tuple[AsyncOpenAI, Agent]:
    """An Agents SDK agent with the weather tool, its default client pointed at ``server``
    (``options``: the agent's model and settings)."""
    client = AsyncOpenAI(base_url=server.base_url, api_key=server.api_key)
    set_default_openai_client(client, use_for_tracing=False)
    agent = Agent(
        name="weather",
        instructions="Answer about the weather.",
        tools=[function_tool(get_weather)],
        **options,
    )
    return client, agent


def test_the_agents_sdk_default_model_plain_and_streamed():
    set_tracing_disabled(True)

    async def run(server) -> tuple[str, str, list[str]]:
        # A model's name: the SDK's default model class, on the Responses API.
        client, agent = weather_agent(server, model="gpt-4o")
        plain = await Runner.run(agent, "Weather in Oslo?")
        streamed = Runner.run_streamed(agent, "Weather in Oslo?")
        kinds = [event.type async for event in streamed.stream_events()]
        await client.close()
        return plain.final_output, streamed.final_output, kinds

    with weather_server() as server:
        plain, streamed, kinds = asyncio.run(run(server))
        assert plain == streamed == "It is sunny in Oslo."
        assert "raw_response_event" in kinds
        assert answered(server) == LOOP * 2


def test_the_agents_sdk_without_storage_sends_its_reasoning_back_sealed():
    """``store: false``: nothing is kept, so the reasoning item the SDK sends back on the next
    turn is taken for its ``encrypted_content`` alone (by its id it would be OpenAI's 404)."""
    set_tracing_disabled(True)

    async def run(server) -> str:
        client, agent = weather_agent(
            server, model="o4-mini", model_settings=ModelSettings(store=False)
        )
        answer = await Runner.run(agent, "Weather in Oslo?")
        await client.close()
        return answer.final_output

    with weather_server(reasoning="The user wants the weather.") as server:
        assert asyncio.run(run(server)) == "It is sunny in Oslo."
        assert answered(server) == LOOP
        sent_back = server.requests[1]["body"]["input"]
        (reasoning,) = [item for item in sent_back if item.get("type") == "reasoning"]
        assert reasoning["encrypted_content"].startswith("gAAAAA")


def test_the_agents_sdk_keeps_history_in_a_conversation():
    """``OpenAIConversationsSession`` (the Conversations API: the session's items created, listed
    and added), then ``conversation_id`` (the conversation named in each response request): the
    second run of each goes on from the first's items."""
    set_tracing_disabled(True)

    async def run(server) -> tuple[list[str], list[str]]:
        client, agent = weather_agent(server, model="gpt-4o")
        session = OpenAIConversationsSession(openai_client=client)
        first = await Runner.run(agent, "Weather in Oslo?", session=session)
        second = await Runner.run(agent, "Weather in Oslo?", session=session)
        kept = [item.get("type", "message") for item in await session.get_items()]
        conversation = await client.conversations.create()
        by_id = [
            (
                await Runner.run(agent, "Weather in Oslo?", conversation_id=conversation.id)
            ).final_output
            for _ in range(2)
        ]
        await client.close()
        return [first.final_output, second.final_output, *by_id], kept

    with weather_server() as server:
        answers, kept = asyncio.run(run(server))
        assert answers == ["It is sunny in Oslo."] * 4
        # Each run: the question, the call, its output, the answer.
        assert kept == ["message", "function_call", "function_call_output", "message"] * 2
        # The model's turns; the session's own requests (the Conversations API) answer no
        # scenario.
        assert [entry for entry in answered(server) if entry[1] is not None] == LOOP * 4


def test_langchain_with_use_responses_api():
    with weather_server() as server:
        llm = ChatOpenAI(
            model="gpt-4o",
            base_url=server.base_url,
            api_key=server.api_key,
            use_responses_api=True,
            max_retries=0,
        ).bind_tools([tool(get_weather)])
        question = HumanMessage("Weather in Oslo?")
        asked = llm.invoke([question])
        (call,) = asked.tool_calls
        assert (call["name"], call["args"], call["id"]) == (
            "get_weather",
            {"city": "Oslo"},
            "call_w1",
        )
        result = ToolMessage(get_weather(**call["args"]), tool_call_id=call["id"])
        answer = llm.invoke([question, asked, result])
        assert answer.text == "It is sunny in Oslo."
        assert answered(server) == LOOP


def test_pydantic_ai_responses_model():
    async def run(server) -> str:
        client = AsyncOpenAI(base_url=server.base_url, api_key=server.api_key)
        model = OpenAIResponsesModel("gpt-4o", provider=OpenAIProvider(openai_client=client))
        answer = await PydanticAgent(model, tools=[get_weather]).run("Weather in Oslo?")
        await client.close()
        return answer.output

    with weather_server() as server:
        assert asyncio.run(run(server)) == "It is sunny in Oslo."
        assert answered(server) == LOOP
