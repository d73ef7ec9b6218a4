"""Where a non-streaming request's time goes: each stage of the request path, in isolation.

    python benchmarks/request_path.py [--repeat 20000]

Times, in one process and without sockets, the stages a chat-completions request passes through
for the body ``throughput.py`` sends (answered by the bundled ``greeting`` scenario): parsing,
schema and semantic checks, matching, building the reply (usage included) and encoding it.
Figures are microseconds per call, best of three runs.
"""

from __future__ import annotations

import argparse
import timeit

from throughput import CHAT

from mock_server.checks.body import parse_body
from mock_server.checks.request import check_request
from mock_server.engine.request_view import RequestView
from mock_server.jsonio import dumps
from mock_server.server.app import create_app
from mock_server.server.state import STATE
from mock_server.wire.completions import new_completion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20000)
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
        choices = reply.choices(view)
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


if __name__ == "__main__":
    main()
