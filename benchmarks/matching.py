"""Matching cost against the number of loaded scenarios: 10 versus 10,000.

    python benchmarks/matching.py [--requests 2000]

Scenarios whose conditions can be looked up exactly (``last_user_message: {equals: ...}``, a
model without wildcards) are indexed; the rest (contains, regex, globs, other conditions) are
scanned in rank order. Each set mixes both kinds: indexed scenarios plus ten scanned ones. The
last table row loads 10,000 scanned-only scenarios, to show the cost the index avoids.
Requests are sent one at a time, so the figures are latencies, not throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import aiohttp
from harness import HEADERS, start_mock


def scenarios(count: int, scanned: int) -> list[dict]:
    out = []
    for i in range(count - scanned):
        if i % 2:
            match = {"last_user_message": {"equals": f"question {i}"}}
        else:
            match = {"model": f"model-{i}"}
        out.append({"name": f"s{i}", "match": match, "reply": {"content": f"answer {i}"}})
    for i in range(scanned):
        out.append(
            {
                "name": f"scan{i}",
                "match": {"last_user_message": {"contains": f"needle {i} "}},
                "reply": {"content": f"scanned {i}"},
            }
        )
    return out


def request_body(i: int, count: int, scanned: int) -> bytes:
    target = (i * 7919) % (count - scanned) if count > scanned else None
    if target is None:
        text, model = f"needle {i % scanned} here", "gpt-4o"
    elif target % 2:
        text, model = f"question {target}", "gpt-4o"
    else:
        text, model = "hello there", f"model-{target}"
    return json.dumps({"model": model, "messages": [{"role": "user", "content": text}]}).encode()


async def measure(url: str, count: int, scanned: int, requests: int) -> list[float]:
    latencies = []
    async with aiohttp.ClientSession() as session:
        for i in range(requests):
            body = request_body(i, count, scanned)
            began = time.perf_counter()
            async with session.post(url, data=body, headers=HEADERS) as response:
                payload = await response.json()
            latencies.append(time.perf_counter() - began)
            assert response.status == 200, payload
            assert payload["choices"][0]["message"]["content"].split()[0] in ("answer", "scanned")
    return latencies


def run(count: int, scanned: int, requests: int) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scenarios.json"
        path.write_text(json.dumps({"scenarios": scenarios(count, scanned)}))
        server = start_mock("--scenarios", str(path))
        try:
            url = server.url + "/v1/chat/completions"
            asyncio.run(measure(url, count, scanned, 200))  # warm-up
            latencies = sorted(asyncio.run(measure(url, count, scanned, requests)))
        finally:
            server.stop()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return p50, p99, server.startup_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    rows = [(10, 10), (10_000, 10), (10_000, 10_000)]
    results = {}
    print(f"{'scenarios':>10} {'scanned':>8} {'p50 ms':>8} {'p99 ms':>8} {'start-up s':>11}")
    for count, scanned in rows:
        p50, p99, startup = run(count, scanned, args.requests)
        results[(count, scanned)] = p50
        print(f"{count:>10} {scanned:>8} {p50:8.3f} {p99:8.3f} {startup:11.2f}")
    ratio = results[(10_000, 10)] / results[(10, 10)]
    print(f"\np50 with 10,000 indexed scenarios / with 10: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
