"""What the pytest fixture costs: session start-up, and per-test overhead over 200 tests.

    python benchmarks/fixture_overhead.py [--tests 200]

Runs a generated project twice — tests that take the ``mock_server`` fixture and send one
request, and the same tests without the fixture sending nothing — and reads each test's
setup + teardown time from pytest's own reports. The fixture's overhead is the difference of
the medians; session start-up is the first test's setup, which starts the server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CONFTEST = """
import json, os
durations = {}
def pytest_runtest_logreport(report):
    if report.when in ("setup", "teardown"):
        durations.setdefault(report.nodeid, []).append(report.duration)
def pytest_sessionfinish(session):
    with open(os.environ["DURATIONS_FILE"], "w") as handle:
        json.dump(durations, handle)
"""
WITH_FIXTURE = """
import openai, pytest

@pytest.mark.parametrize("n", range({count}))
def test_one(mock_server, n):
    mock_server.add({{"name": "s", "reply": {{"content": "ok"}}}})
    client = openai.OpenAI(base_url=mock_server.base_url, api_key=mock_server.api_key)
    assert client.chat.completions.create(
        model="m", messages=[{{"role": "user", "content": "x"}}]
    ).choices[0].message.content == "ok"
"""
WITHOUT = """
import pytest

@pytest.mark.parametrize("n", range({count}))
def test_one(n):
    assert n >= 0
"""


def run(source: str, count: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "conftest.py").write_text(CONFTEST)
        (root / "test_generated.py").write_text(source.format(count=count))
        out = root / "durations.json"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root)],
            check=True,
            cwd=root,
            env={**__import__("os").environ, "DURATIONS_FILE": str(out)},
            stdout=subprocess.DEVNULL,
        )
        durations = json.loads(out.read_text())
    return [sum(parts) * 1000 for parts in durations.values()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    args = parser.parse_args()
    with_fixture = run(WITH_FIXTURE, args.tests)
    without = run(WITHOUT, args.tests)
    first, rest = with_fixture[0], with_fixture[1:]
    overhead = statistics.median(rest) - statistics.median(without)
    print(f"{args.tests} tests")
    print(f"session start-up (first test's setup, server included): {first:7.1f} ms")
    print(f"setup+teardown per test, with the fixture:  median {statistics.median(rest):6.2f} ms")
    print(
        f"setup+teardown per test, without it:        median {statistics.median(without):6.2f} ms"
    )
    print(f"fixture overhead per test (median difference):     {overhead:6.2f} ms")


if __name__ == "__main__":
    main()
