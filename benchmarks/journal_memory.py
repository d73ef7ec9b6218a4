"""Memory the request journal holds: server RSS before and after 10,000 journaled requests.

    python benchmarks/journal_memory.py [--requests 10000]

The server keeps every request (journal size set to the request count). Requests are the
openai SDK's usual shape, with a ~300-character prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

from harness import drive, free_port, start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    os.environ["MOCK_SERVER_JOURNAL_SIZE"] = str(args.requests)
    port = free_port()
    import sys

    server = start([sys.executable, "-m", "mock_server", "--port", str(port)], port)
    body = json.dumps(
        {
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "Tell me about the weather in Paris. " * 8},
            ],
        }
    ).encode()
    url = server.url + "/v1/chat/completions"
    try:
        asyncio.run(drive(url, body, 200, 16, False))
        before = server.rss_mib()
        asyncio.run(drive(url, body, args.requests, 16, False))
        after = server.rss_mib()
    finally:
        server.stop()
    print(f"RSS before {before:.1f} MiB, after {args.requests} journaled requests {after:.1f} MiB")
    print(
        f"journal memory: {after - before:.1f} MiB per {args.requests} requests "
        f"({(after - before) * 1024 * 1024 / args.requests:.0f} bytes each)"
    )


if __name__ == "__main__":
    main()
