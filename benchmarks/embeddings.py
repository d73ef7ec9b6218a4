"""What an embeddings request costs: 16 inputs of 100 words at 1536 dimensions.

    python benchmarks/embeddings.py [--requests 300]

Times, per request, computing the 16 vectors alone (in one process, new texts each time, so no
word is ever cached, and the same texts again), then whole requests to a server on a real socket
(``http.client``, one kept-alive connection) for ``encoding_format`` ``base64`` (the openai SDK's
default) and ``float``, each with new texts. Figures are milliseconds per request, the median
of three runs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import time

from mock_server.testing.runner import MockServer
from mock_server.wire.vectors import embedding

INPUTS = 16
WORDS = 100
DIMENSIONS = 1536
VOCABULARY = [
    "".join(random.Random(n).choices("abcdefghijklmnopqrstuvwxyz", k=3 + n % 7))
    for n in range(50_000)
]


def texts(seed: int) -> list[str]:
    """16 inputs of 100 words, different for each seed."""
    pick = random.Random(seed)
    return [" ".join(pick.choices(VOCABULARY, k=WORDS)) for _ in range(INPUTS)]


def compute(count: int, fresh: bool) -> float:
    started = time.perf_counter()
    for number in range(count):
        for text in texts(1_000_000 + number if fresh else 0):
            embedding(text, DIMENSIONS)
    return (time.perf_counter() - started) / count * 1000


def serve(server: MockServer, count: int, encoding: str, offset: int) -> float:
    connection = http.client.HTTPConnection(server.url.removeprefix("http://"))
    headers = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}
    bodies = [
        json.dumps(
            {
                "model": "text-embedding-3-small",
                "input": texts(offset + n),
                "encoding_format": encoding,
            }
        )
        for n in range(count)
    ]
    started = time.perf_counter()
    for body in bodies:
        connection.request("POST", "/v1/embeddings", body, headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    count = args.requests
    rows = {
        "vectors only, new texts": lambda run: compute(count // 3, fresh=True),
        "vectors only, same texts": lambda run: compute(count // 3, fresh=False),
    }
    with MockServer() as server:
        for encoding in ("base64", "float"):
            rows[f"whole request, {encoding}"] = lambda run, e=encoding: serve(
                server, count, e, 10_000 * (run + 1)
            )
        print(f"{'16 inputs x 100 words, 1536 dimensions':<40} {'ms/request':>10}")
        for name, measure in rows.items():
            print(f"{name:<40} {statistics.median(measure(run) for run in range(3)):10.2f}")


if __name__ == "__main__":
    main()
