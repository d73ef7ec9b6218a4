"""1,000 concurrent streams of 200 chunks: without delay, and with 20 ms between chunks.

    python benchmarks/streaming.py [--streams 1000] [--chunks 200] [--interval-ms 20]

Prints, for each run: completed streams, chunks/s, time to first chunk p50/p99, schedule error
p99 (how far each chunk's arrival strays from first-chunk arrival + i x interval, as seen by the
client, so client lag is included), and the server's peak RSS. The client is one aiohttp process
on the same 2-core machine as the server.
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


def scenario_file(folder: Path, chunks: int, interval_ms: float) -> Path:
    content = " tok" * (chunks - 2)  # + the role chunk + the finish chunk
    latency = {"chunk_interval_ms": interval_ms} if interval_ms else {}
    path = folder / "stream.json"
    path.write_text(
        json.dumps(
            {"scenarios": [{"name": "bench", "reply": {"content": content, "latency": latency}}]}
        )
    )
    return path


async def one_stream(session, url, body, interval, results):
    began = time.monotonic()
    arrivals = []
    async with session.post(url, data=body, headers=HEADERS) as response:
        tail = b""
        async for data in response.content.iter_any():
            now = time.monotonic()
            data = tail + data
            arrivals.extend([now] * data.count(b"\n\n"))
            tail = data[data.rfind(b"\n\n") + 2 :]
    arrivals.pop()  # data: [DONE]
    ttfc = arrivals[0] - began
    errors = (
        [abs((t - arrivals[0]) - i * interval) for i, t in enumerate(arrivals)] if interval else []
    )
    results.append((ttfc, len(arrivals), errors))


async def run_streams(url: str, streams: int, chunks: int, interval: float):
    body = json.dumps(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "go"}], "stream": True}
    ).encode()
    results: list = []
    connector = aiohttp.TCPConnector(limit=streams)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.monotonic()
        outcomes = await asyncio.gather(
            *(one_stream(session, url, body, interval, results) for _ in range(streams)),
            return_exceptions=True,
        )
        seconds = time.monotonic() - began
    failures = [o for o in outcomes if isinstance(o, BaseException)]
    return results, seconds, failures


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--chunks", type=int, default=200)
    parser.add_argument("--interval-ms", type=float, default=20)
    args = parser.parse_args()
    print(f"{args.streams} concurrent streams x {args.chunks} chunks\n")
    print(
        f"{'interval':>9} {'complete':>9} {'chunks/s':>9} {'ttfc p50':>9} {'ttfc p99':>9} "
        f"{'sched err p99':>14} {'wall s':>7} {'peak RSS':>9}"
    )
    for interval_ms in (0.0, args.interval_ms):
        with tempfile.TemporaryDirectory() as folder:
            server = start_mock(
                "--scenarios", str(scenario_file(Path(folder), args.chunks, interval_ms))
            )
            try:
                url = server.url + "/v1/chat/completions"
                results, seconds, failures = asyncio.run(
                    run_streams(url, args.streams, args.chunks, interval_ms / 1000)
                )
                peak = next(
                    int(line.split()[1]) / 1024
                    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines()
                    if line.startswith("VmHWM:")
                )
            finally:
                server.stop()
        complete = sum(1 for _, count, _ in results if count == args.chunks)
        chunks = sum(count for _, count, _ in results)
        ttfcs = [r[0] * 1000 for r in results]
        errors = [e * 1000 for r in results for e in r[2]]
        error_p99 = f"{percentile(errors, 0.99):11.1f} ms" if errors else f"{'-':>14}"
        ttfc = f"{percentile(ttfcs, 0.5):7.1f}ms {percentile(ttfcs, 0.99):7.1f}ms"
        print(
            f"{interval_ms:7.0f}ms {complete:>9} {chunks / seconds:9.0f} {ttfc} "
            f"{error_p99} {seconds:7.2f} {peak:6.1f} MiB"
            + (f"  ({len(failures)} failed: {failures[0]!r})" if failures else "")
        )


if __name__ == "__main__":
    main()
