"""How long the largest bodies and documents the server takes keep it busy, and the event loop.

    python benchmarks/large_work.py [--items 270000] [--steps 200000] [--rounds 3]

On one server, each in a tenant of its own: a chat request of ``--items`` messages and a
Responses request of as many input items (some 10 MB each, under ``max_body_bytes``), and a
scenario document of ``--steps`` sequence steps added through the admin API. While each runs, a
client asks ``GET /__admin/health`` every 20 ms: its longest wait is what any other request
waited at worst. Figures are the median of ``--rounds``; last, how long the server, holding
all it was given, takes to exit on SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time

from harness import HEADERS, Server, free_port, start


def _exchange(port: int, path: str, body: bytes, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def timed(server: Server, path: str, body: bytes, headers: dict[str, str]) -> tuple[float, float]:
    """Seconds ``POST path`` took, and the longest wait of a health check meanwhile."""
    waits: list[float] = []
    done = threading.Event()

    def beat() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        while not done.is_set():
            asked = time.perf_counter()
            connection.request("GET", "/__admin/health")
            connection.getresponse().read()
            waits.append(time.perf_counter() - asked)
            done.wait(0.02)
        connection.close()

    beating = threading.Thread(target=beat, daemon=True)
    beating.start()
    began = time.perf_counter()
    try:
        status = _exchange(server.port, path, body, headers)
    finally:
        took = time.perf_counter() - began
        done.set()
        beating.join()
    if status not in (200, 201):
        sys.exit(f"{path}: HTTP {status}")
    return took, max(waits, default=0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=270_000)
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    turns = [
        {"role": "user", "content": "hi"} if n % 2 == 0 else {"role": "assistant", "content": "ok"}
        for n in range(args.items)
    ]
    steps = "".join(f"      - content: step {n}\n" for n in range(args.steps))
    work = {
        f"chat, {args.items:,} messages": (
            "/v1/chat/completions",
            json.dumps({"model": "gpt-4o", "messages": turns}).encode(),
            HEADERS,
        ),
        f"Responses, {args.items:,} input items": (
            "/v1/responses",
            json.dumps({"model": "gpt-4o", "input": turns}).encode(),
            HEADERS,
        ),
        f"admin add, {args.steps:,} steps": (
            "/__admin/scenarios",
            f"scenarios:\n  - name: long\n    sequence:\n{steps}".encode(),
            {"Content-Type": "application/yaml"},
        ),
    }
    port = free_port()
    server = start([sys.executable, "-m", "mock_server", "--port", str(port), "--quiet"], port)
    try:
        print(f"{'work':<32} {'MB':>5} {'seconds':>8} {'longest wait ms':>16}")
        for index, (name, (path, body, headers)) in enumerate(work.items()):
            figures = [
                timed(server, f"/t/work{index}-{n}{path}", body, headers)
                for n in range(args.rounds)
            ]
            took = statistics.median(f[0] for f in figures)
            waited = statistics.median(f[1] for f in figures)
            print(f"{name:<32} {len(body) / 1e6:>5.1f} {took:>8.2f} {waited * 1000:>16.0f}")
        stopping = time.perf_counter()
        server.process.terminate()
        server.process.wait(timeout=300)
        print(f"SIGTERM to exit, holding all that: {time.perf_counter() - stopping:.2f} s")
    finally:
        if server.process.poll() is None:
            server.stop()


if __name__ == "__main__":
    main()
