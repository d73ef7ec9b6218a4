"""Memory the server holds for what it remembers: journal entries, tenants, large bodies.

    python benchmarks/journal_memory.py [--requests 10000] [--tenants 1000]

Three measurements of server RSS, each on a fresh server:
1. 10,000 journaled requests in one tenant (journal size raised to the request count), the
   openai SDK's usual shape with a ~300-character prompt;
2. 1,000 tenants with one request each;
3. five echoes of a 5 MB prompt (the fallback answers each with the prompt in it).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import sys

from harness import Server, drive, free_port, start

BODY = json.dumps(
    {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Tell me about the weather in Paris. " * 8},
        ],
    }
).encode()
HEADERS = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}


def _server(**environment: str) -> Server:
    os.environ.update(environment)
    port = free_port()
    return start([sys.executable, "-m", "mock_server", "--port", str(port)], port)


def _post(server: Server, path: str, body: bytes, times: int = 1) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    for _ in range(times):
        connection.request("POST", path, body=body, headers=HEADERS)
        connection.getresponse().read()
    connection.close()


def journal(requests: int) -> None:
    server = _server(MOCK_SERVER_JOURNAL_SIZE=str(requests))
    url = server.url + "/v1/chat/completions"
    try:
        asyncio.run(drive(url, BODY, 200, 16, False))
        before = server.rss_mib()
        asyncio.run(drive(url, BODY, requests, 16, False))
        after = server.rss_mib()
    finally:
        server.stop()
    grown = after - before
    print(
        f"journal: {grown:.1f} MiB per {requests} journaled requests "
        f"({grown * 1024 * 1024 / requests:.0f} bytes each; RSS {before:.1f} -> {after:.1f} MiB)"
    )


def tenants(count: int) -> None:
    server = _server()
    try:
        _post(server, "/t/warm-up/v1/chat/completions", BODY, 50)
        before = server.rss_mib()
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        for index in range(count):
            connection.request(
                "POST", f"/t/tenant-{index}/v1/chat/completions", body=BODY, headers=HEADERS
            )
            connection.getresponse().read()
        connection.close()
        after = server.rss_mib()
    finally:
        server.stop()
    print(
        f"tenants: {after - before:.1f} MiB for {count} one-request tenants "
        f"(RSS {before:.1f} -> {after:.1f} MiB)"
    )


def large_bodies(count: int = 5, size: int = 5 * 1024 * 1024) -> None:
    server = _server()
    prompt = "x" * size
    body = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": prompt}]})
    try:
        _post(server, "/v1/chat/completions", BODY, 50)
        before = server.rss_mib()
        _post(server, "/v1/chat/completions", body.encode(), count)
        after = server.rss_mib()
    finally:
        server.stop()
    print(
        f"large bodies: {after - before:.1f} MiB held after {count} echoes of a "
        f"{size // (1024 * 1024)} MB prompt (RSS {before:.1f} -> {after:.1f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    args = parser.parse_args()
    journal(args.requests)
    tenants(args.tenants)
    large_bodies()


if __name__ == "__main__":
    main()
