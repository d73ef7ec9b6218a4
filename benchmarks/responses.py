"""The Responses API beside chat completions, on one server, same load: plain and streamed.

    python benchmarks/responses.py [--seconds 5] [--streams 500] [--rounds 3] [--distinct]

The same question sent both ways — ``POST /v1/chat/completions`` (workload A16 of the shared
harness: one body repeated, 16 connections, wrk) and ``POST /v1/responses`` (the same prompt as
``input``, stored as a response would be by default) — then 100-event streams of each, from the
Python client. Each round runs both back to back against one server; the ratio responses/chat
is taken per round and its median reported. ``--distinct`` gives every non-streaming request a
body of its own (workload D16). Without wrk, the Python client drives the non-streaming load
too (it saturates first: read the ratios, not the rates).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics

from harness import COUNTER, WRK, drive, start_mock, wrk_drive

PROMPT = "Hello!"
SYSTEM = "You are a helpful assistant."
CHAT = {
    "model": "gpt-4o",
    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": PROMPT}],
    "temperature": 0.7,
    "max_tokens": 256,
}
RESPONSES = {
    "model": "gpt-4o",
    "instructions": SYSTEM,
    "input": PROMPT,
    "temperature": 0.7,
    "max_output_tokens": 256,
}
# A prompt whose echo streams as some 100 events either way.
LONG = "Mock" + " mock" * 92
STREAMS = {
    "chat": (
        "/v1/chat/completions",
        {"model": "gpt-4o", "messages": [{"role": "user", "content": LONG}], "stream": True},
    ),
    "responses": ("/v1/responses", {"model": "gpt-4o", "input": LONG, "stream": True}),
}
PLAIN = {"chat": ("/v1/chat/completions", CHAT), "responses": ("/v1/responses", RESPONSES)}


def body(payload: dict, distinct: bool) -> bytes:
    data = json.dumps(payload)
    return (data.replace(PROMPT, f"{PROMPT} {COUNTER}") if distinct else data).encode()


def one_round(args) -> dict[str, dict[str, float]]:
    server = start_mock()
    try:
        out: dict[str, dict[str, float]] = {}
        for name, (path, payload) in PLAIN.items():
            url = server.url + path
            asyncio.run(drive(url, json.dumps(payload).encode(), 300, 16, False))  # warm-up
            if WRK:
                plain = wrk_drive(url, body(payload, args.distinct), args.seconds, 16)
            else:
                plain = asyncio.run(drive(url, json.dumps(payload).encode(), 3000, 16, False))
            stream_path, stream_payload = STREAMS[name]
            streams = asyncio.run(
                drive(
                    server.url + stream_path,
                    json.dumps(stream_payload).encode(),
                    args.streams,
                    16,
                    True,
                )
            )
            out[name] = {
                "req/s": plain.rate,
                "p50": plain.percentile(0.5),
                "streams/s": streams.rate,
            }
        return out
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk run length")
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--distinct", action="store_true", help="every request its own body")
    args = parser.parse_args()
    rounds = [one_round(args) for _ in range(args.rounds)]

    def median(api: str, metric: str) -> float:
        return statistics.median(r[api][metric] for r in rounds)

    def ratio(metric: str) -> float:
        return statistics.median(r["responses"][metric] / r["chat"][metric] for r in rounds)

    workload = "D16 (every body new)" if args.distinct else "A16 (one body repeated)"
    load = f"wrk, {args.seconds} s" if WRK else "the Python client (wrk is not installed)"
    print(f"{workload}, 16 connections, {load}; {args.streams} streams; {args.rounds} rounds\n")
    print(f"{'API':<10} {'req/s':>8} {'p50 ms':>7} {'streams/s':>10}")
    for api in PLAIN:
        print(
            f"{api:<10} {median(api, 'req/s'):8.0f} {median(api, 'p50'):7.2f} "
            f"{median(api, 'streams/s'):10.0f}"
        )
    print(f"\nresponses / chat: req/s {ratio('req/s'):.2f}x, streams/s {ratio('streams/s'):.2f}x")


if __name__ == "__main__":
    main()
