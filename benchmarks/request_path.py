"""Where a non-streaming request's time goes: each stage of the request path, in isolation.

    python benchmarks/request_path.py [--repeat 20000] [--between KIB]

Times, in one process and without sockets, the stages a chat-completions request passes through for
the body ``throughput.py`` sends (answered by the bundled ``greeting`` scenario): parsing, schema
and semantic checks, matching, building the reply (usage included) and encoding it; then whole
requests, from the parsed HTTP message to the bytes of the answer, as the connection's shortcut
answers them (``server/connection.py``; the request log off): each with a body of its own, and the
same body again; and an agent's turn (12 messages of tool calls and results, 3 tools with JSON
Schemas, the shared harness's workload E16), each body new. Figures are microseconds per call, best
of three runs.

``--between KIB`` writes to KIB kibibytes of memory between two whole requests (outside the
timing), as a server under load finds its caches after the kernel's network stack and the
other connections have run: what the same requests then cost.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import timeit

from throughput import CHAT

from mock_server.checks.body import parse_body
from mock_server.checks.request import check_request
from mock_server.checks.verdicts import WARM_UP
from mock_server.engine.request_view import RequestView
from mock_server.jsonio import dumps
from mock_server.server.apis.chat_completions import CHAT_COMPLETIONS
from mock_server.server.app import create_app
from mock_server.server.connection import Shortcut
from mock_server.server.state import STATE
from mock_server.wire.completions import new_completion


def _tool(name: str, properties: dict, required: list[str]) -> dict:
    parameters = {"type": "object", "properties": properties, "required": required}
    return {
        "type": "function",
        "function": {"name": name, "description": name, "parameters": parameters},
    }


def _agent_turn() -> bytes:
    """A system message, five tool calls each with its result, the user's question; 3 tools."""
    tools = [
        _tool("get_weather", {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}}, ["city"]),
        _tool(
            "search_flights",
            {"origin": {"type": "string"}, "destination": {"type": "string"},
             "passengers": {"type": "integer", "minimum": 1, "maximum": 9}},
            ["origin", "destination"],
        ),
        _tool(
            "book_hotel",
            {"city": {"type": "string"}, "nights": {"type": "integer", "minimum": 1},
             "guests": {"type": "array", "items": {"type": "object"}}},
            ["city", "nights"],
        ),
    ]  # fmt: skip
    history = []
    for index, (name, arguments, result) in enumerate(
        [
            ("get_weather", {"city": "Oslo"}, {"temp": 4}),
            ("search_flights", {"origin": "OSL", "destination": "LIS"}, {"flights": ["TP1203"]}),
            ("get_weather", {"city": "Lisbon"}, {"temp": 17}),
            ("book_hotel", {"city": "Lisbon", "nights": 3}, {"booking": "H-99812"}),
            ("search_flights", {"origin": "LIS", "destination": "OSL"}, {"flights": ["TP1204"]}),
        ]
    ):
        call = {
            "id": f"call_{index}",
            "type": "function",
            "function": {"name": name, "arguments": dumps(arguments).decode()},
        }
        history.append({"role": "assistant", "content": None, "tool_calls": [call]})
        history.append(
            {"role": "tool", "tool_call_id": call["id"], "content": dumps(result).decode()}
        )
    messages = [
        {"role": "system", "content": "You plan trips."},
        *history,
        {"role": "user", "content": "Hello!"},
    ]
    return dumps({"model": "gpt-4o", "messages": messages, "tools": tools, "temperature": 0.7})


AGENT = _agent_turn()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20000)
    parser.add_argument("--between", type=int, default=0, metavar="KIB")
    args = parser.parse_args()

    state = create_app()[STATE]
    profile = state.profiles.default
    body = parse_body(CHAT, "application/json")
    scenarios = state.tenants.get(None).scenarios

    def match():
        scenarios.served.clear()  # the greeting scenario has one reply; keep it matching
        return state.engine.choose(RequestView(body, {}, profile.name), scenarios)

    reply = match().reply
    view = RequestView(body, {}, profile.name)

    def build():
        choices = reply.messages(view, CHAT_COMPLETIONS.fallback)
        completion = new_completion(body, profile, choices, state.ids, usage_override=reply.usage)
        completion.usage()
        return completion

    completion = build()
    stages = {
        "parse JSON body": lambda: parse_body(CHAT, "application/json"),
        "schema + semantic checks": lambda: check_request(body, profile),
        "match a scenario": match,
        "build the reply (usage too)": build,
        "encode the body": lambda: dumps(completion.body()),
    }
    total = 0.0
    print(f"{'stage':<30} {'us/call':>8}")
    for name, stage in stages.items():
        best = min(timeit.repeat(stage, number=args.repeat, repeat=3)) / args.repeat * 1e6
        total += best
        print(f"{name:<30} {best:8.2f}")
    print(f"{'sum':<30} {total:8.2f}")
    print()
    wholes = (
        ("whole request, new body", CHAT, True),
        ("whole request, same body", CHAT, False),
        ("agent turn, new body", AGENT, True),
    )
    for name, sent, distinct in wholes:
        best = min(
            asyncio.run(_whole_requests(sent, args.repeat, distinct, args.between))
            for _ in range(3)
        )
        print(f"{name:<30} {best:8.2f}")


class _Connection:
    """What the shortcut writes to: nothing."""

    def send(self, data: bytes) -> None:
        pass


class _Transport:
    """What aiohttp's parser tells about flow control: nothing."""

    _reading_paused = False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass


async def _whole_requests(sent: bytes, count: int, distinct: bool, between: int = 0) -> float:
    """µs a request (``sent``) takes from its parsed HTTP message to its answer's bytes, with
    ``between`` KiB of memory written to before each (untimed)."""
    from aiohttp.http_parser import HttpRequestParser

    app = create_app()
    app.freeze()
    shortcut = Shortcut(app)
    parser = HttpRequestParser(_Transport(), asyncio.get_running_loop(), 2**16)
    messages = []
    # Untimed first: the bodies after which a schema's fast validator is built, as a server
    # under load has built it.
    for number in range(-WARM_UP, count):
        # As the shared harness's D16 and E16: a counter in the system prompt.
        body = sent.replace(b'"You ', b'"(%d) You ' % number, 1) if distinct else sent
        head = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b"\r\nAuthorization: Bearer sk-bench\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        messages.extend(parser.feed_data(head + body)[0])
    connection = _Connection()
    memory = bytearray(between * 1024)
    lines = bytes(len(memory[::64]))
    spent = 0.0
    for number, (message, payload) in enumerate(messages, -WARM_UP):
        memory[::64] = lines  # a byte of every cache line
        started = time.perf_counter()
        route = shortcut.decide(message, payload)
        assert route is not None and shortcut.take(connection, message, payload, route)
        if number >= 0:
            spent += time.perf_counter() - started
    return spent / count * 1e6


if __name__ == "__main__":
    main()
