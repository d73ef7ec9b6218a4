"""Our server against a bare aiohttp handler, same load from one client, in one run.

    python benchmarks/throughput.py [--requests 4000] [--concurrency 32] [--rounds 3]

Prints, for each side: non-streaming req/s with p50/p99, 100-chunk streams/s, start-up time and
idle RSS, then the ratios ours/bare that the project's targets are stated in. Rounds alternate
between the two servers so that drift of the machine hits both alike; the best round counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from harness import drive, start_bare, start_mock

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
# A prompt whose echo streams as 100 data events with include_usage off: role, 97 content, finish.
STREAM = json.dumps(
    {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Mock " * 90}],
        "stream": True,
    }
).encode()


def best(results):
    return max(results, key=lambda r: r.rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    sides = {"bare": start_bare, "mock": start_mock}
    plain = {name: [] for name in sides}
    streams = {name: [] for name in sides}
    startup = {name: [] for name in sides}
    rss = {}
    for _ in range(args.rounds):
        for name, start in sides.items():
            server = start()
            startup[name].append(server.startup_seconds)
            url = server.url + "/v1/chat/completions"
            try:
                asyncio.run(drive(url, CHAT, 200, args.concurrency, False))  # warm-up
                rss[name] = server.rss_mib()
                plain[name].append(
                    asyncio.run(drive(url, CHAT, args.requests, args.concurrency, False))
                )
                streams[name].append(
                    asyncio.run(drive(url, STREAM, args.streams, args.concurrency, True))
                )
            finally:
                server.stop()

    print(
        f"{args.requests} requests, {args.streams} streams, concurrency {args.concurrency}, "
        f"best of {args.rounds} rounds\n"
    )
    for name in sides:
        print(best(plain[name]).line(name))
    for name in sides:
        print(best(streams[name]).line(name, "streams/s"))
    for name in sides:
        seconds = min(startup[name])
        print(f"{name:<10} start-up {seconds * 1000:6.0f} ms   idle RSS {rss[name]:6.1f} MiB")
    ratio = {
        "req/s (target >= 0.8)": best(plain["mock"]).rate / best(plain["bare"]).rate,
        "streams/s (target >= 0.8)": best(streams["mock"]).rate / best(streams["bare"]).rate,
        "start-up (target <= 1.2)": min(startup["mock"]) / min(startup["bare"]),
        "idle RSS (target <= 1.3)": rss["mock"] / rss["bare"],
    }
    print("\nours / bare")
    for label, value in ratio.items():
        print(f"  {label:<28} {value:5.2f}x")


if __name__ == "__main__":
    main()
