"""Our server against a bare aiohttp handler, same load, in one run.

    python benchmarks/throughput.py [--seconds 5] [--requests 3000] [--streams 500] [--rounds 5]
                                    [--distinct]

Measures, for each side: non-streaming req/s with p50/p99 and the server's CPU time per request,
100-chunk streams/s, start-up time (spawn to first answer) and idle RSS, then the ratios
ours/bare that the project's targets are stated in. Non-streaming load comes from wrk when it
is installed (``--seconds`` each, pinned to the last CPU): a C client, so the server is the
limit. Without wrk it comes from a Python client on the same cores, which saturates before the
bare handler does: its req/s ratio then flatters us, and the server CPU per request is the
figure to read. This machine's speed drifts from minute to minute, so each round runs both
servers back to back (alternating which goes first), a ratio is taken per round, and the median
round ratio is reported next to the median figures. The side-by-side harness the targets are
measured with is ``../shared/bench/bench.py`` (docs/performance.md).

The same request again is answered from what the server remembers of it (its checks passed,
its completion body kept as bytes); ``--distinct`` (with wrk) gives every request its own last
user message, so that nothing repeats and every request takes the whole path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics

from harness import COUNTER, WRK, drive, start_bare, start_mock, wrk_drive

CHAT = json.dumps(
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"},
        ],
        "temperature": 0.7,
        "max_tokens": 256,
    }
).encode()
# A prompt whose echo streams as 100 data events: the role chunk, 98 content chunks, the finish.
STREAM = json.dumps(
    {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Mock" + " mock" * 92}],
        "stream": True,
    }
).encode()
SIDES = {"bare": start_bare, "mock": start_mock}


def one_round(name: str, args) -> dict[str, float]:
    server = SIDES[name]()
    url = server.url + "/v1/chat/completions"
    try:
        asyncio.run(drive(url, CHAT, 300, args.concurrency, False))  # warm-up
        rss = server.rss_mib()
        cpu_before = server.cpu_seconds()
        if WRK:
            body = CHAT.replace(b"Hello!", b"Hello! " + COUNTER.encode()) if args.distinct else CHAT
            plain = wrk_drive(url, body, args.seconds, args.concurrency)
        else:
            plain = asyncio.run(drive(url, CHAT, args.requests, args.concurrency, False))
        cpu_per_request = (server.cpu_seconds() - cpu_before) / plain.requests * 1e6
        streams = asyncio.run(drive(url, STREAM, args.streams, args.concurrency, True))
    finally:
        server.stop()
    return {
        "req/s": plain.rate,
        "p50": plain.percentile(0.5),
        "p99": plain.percentile(0.99),
        "cpu": cpu_per_request,
        "streams/s": streams.rate,
        "events": streams.chunks / streams.requests,
        "start-up": server.startup_seconds * 1000,
        "RSS": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk run length")
    parser.add_argument("--requests", type=int, default=3000, help="without wrk")
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--distinct", action="store_true", help="every request its own body (needs wrk)"
    )
    args = parser.parse_args()

    one_round("mock", args)  # compiles and caches the package's bytecode, as an install would
    rounds = []
    for index in range(args.rounds):
        order = ("bare", "mock") if index % 2 == 0 else ("mock", "bare")
        rounds.append({name: one_round(name, args) for name in order})

    def median(side: str, metric: str) -> float:
        return statistics.median(r[side][metric] for r in rounds)

    def ratio(metric: str) -> float:
        return statistics.median(r["mock"][metric] / r["bare"][metric] for r in rounds)

    load = (
        f"wrk for {args.seconds} s"
        if WRK
        else f"{args.requests} requests from the Python client (wrk is not installed: the "
        "client saturates first, so read server CPU per request, not the req/s ratio)"
    )
    print(
        f"non-streaming load: {load}; {args.streams} streams per round; concurrency "
        f"{args.concurrency}, {args.rounds} rounds; medians\n"
    )
    for side in SIDES:
        print(
            f"{side:<5} {median(side, 'req/s'):7.0f} req/s  p50 {median(side, 'p50'):5.2f} ms  "
            f"p99 {median(side, 'p99'):5.2f} ms  {median(side, 'streams/s'):6.0f} streams/s "
            f"({median(side, 'events'):.0f} events)  start-up {median(side, 'start-up'):4.0f} ms  "
            f"idle RSS {median(side, 'RSS'):5.1f} MiB  "
            f"server CPU {median(side, 'cpu'):3.0f} us/request"
        )
    print("\nours / bare (median of per-round ratios)")
    for label, metric, target in (
        ("req/s", "req/s", ">= 0.8"),
        ("100-chunk streams/s", "streams/s", ">= 0.8"),
        ("start-up time", "start-up", "<= 1.2"),
        ("idle RSS", "RSS", "<= 1.3"),
        ("server CPU / request", "cpu", "-"),
    ):
        print(f"  {label:<20} {ratio(metric):5.2f}x  (target {target})")


if __name__ == "__main__":
    main()
