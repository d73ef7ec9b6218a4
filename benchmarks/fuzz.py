"""Hostile input at volume: the test suite's fuzz strategies against one server process.

    python benchmarks/fuzz.py [--cases 12000] [--seed N]

Starts ``mock-server`` (bundled scenarios, server-wide rate limits, its stderr captured), sends
``--cases`` requests drawn from ``tests/fuzzing.py`` — broken bodies on every profile's paths with
hostile headers (3/10), valid requests at the edges with every shape of client schema, hostile
ones among them (2/10), tool-call arguments nested past any parser, valid requests each with an
API key of its own, raw bodies that are not JSON objects, odd paths and methods, scenario
documents through the admin API (1/10 each) — and prints the status histogram, the 5xx nobody
asked for, error answers without a message, and the tracebacks in the server's stderr. The goal
for the last three is 0.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness import free_port, start
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fuzzing import (
    LIMITS,
    VALID_BODIES,
    Sender,
    broken_bodies,
    chat_paths,
    deep_argument_bodies,
    distinct_key_headers,
    encode,
    methods,
    odd_paths,
    odd_valid_bodies,
    problems_of,
    raw_bodies,
    request_headers,
    scenario_documents,
)

AUTH = {"Authorization": "Bearer sk-fuzz", "Content-Type": "application/json"}
CHAT = "/v1/chat/completions"
CASES = st.one_of(
    *[st.tuples(st.just("body"), broken_bodies(), chat_paths(), request_headers())] * 3,
    *[st.tuples(st.just("body"), odd_valid_bodies(), st.just(CHAT), st.just(AUTH))] * 2,
    st.tuples(st.just("body"), deep_argument_bodies, st.just(CHAT), st.just(AUTH)),
    st.tuples(st.just("body"), st.sampled_from(VALID_BODIES), st.just(CHAT), distinct_key_headers),
    st.tuples(st.just("raw"), raw_bodies, st.just(CHAT), request_headers()),
    st.tuples(st.just("path"), methods, odd_paths, st.just({"Authorization": "Bearer sk-x"})),
    st.tuples(st.just("scenarios"), scenario_documents(), st.just(""), st.just({})),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryFile() as stderr:
        config = Path(scratch) / "mock-server.yaml"
        config.write_text(json.dumps({"limits": LIMITS}))  # JSON is YAML
        fuzz(args.cases, args.seed, config, stderr)


def fuzz(cases: int, seed_: int, config: Path, stderr: Any) -> None:
    port = free_port()
    command = [sys.executable, "-m", "mock_server", "--port", str(port), "--config", str(config)]
    server = start(command, port, stderr=stderr)
    sender = Sender("127.0.0.1", port)
    statuses: collections.Counter[int] = collections.Counter()
    problems: collections.Counter[str] = collections.Counter()
    examples: dict[str, str] = {}

    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @seed(seed_)
    @given(case=CASES)
    def run(case):
        kind, first, second, headers = case
        if kind in ("body", "raw"):
            payload = encode(first) if kind == "body" else first
            path = second if kind == "body" else CHAT
            outcome = sender.send("POST", path, payload, headers)
        elif kind == "path":
            outcome = sender.send(first, second, None if first == "GET" else b"{}", headers)
            if first == "HEAD":
                outcome.body = b'{"error": {"message": "(HEAD: no body)"}}'
        else:
            outcome = sender.send("POST", "/t/fuzz/__admin/scenarios", first.encode(), {})
        statuses[outcome.status] += 1
        for problem in problems_of(outcome, headers):
            kind_of_problem = problem.split(" with ")[0]
            problems[kind_of_problem] += 1
            examples.setdefault(kind_of_problem, f"{kind}: {case!r}"[:300])

    try:
        run()
    finally:
        sender.close()
        server.stop()
    stderr.seek(0)
    log = stderr.read().decode("utf-8", "replace")
    total = sum(statuses.values())
    print(f"{total} cases against one server")
    print("status histogram: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    unasked = sum(n for p, n in problems.items() if p.startswith("unasked"))
    empty = sum(n for p, n in problems.items() if "empty error message" in p)
    print(f"5xx nobody asked for: {unasked}")
    print(f"error answers with an empty message: {empty}")
    print(f"other problems: {sum(problems.values()) - unasked - empty}")
    print(f"tracebacks in the server's stderr: {log.count('Traceback')}")
    for problem, example in examples.items():
        print(f"  {problems[problem]} x {problem}; e.g. {example}")
    if "Traceback" in log:
        print(log[log.index("Traceback") :][:3000])


if __name__ == "__main__":
    main()
