"""What an open inspector page costs the request path: wrk's non-streaming load with no page
open and with one open (a real headless Chromium polling the journal), alternated.

    python benchmarks/inspector_overhead.py [--rounds 3] [--seconds 6]

Needs wrk and Debian's chromium. The server runs on CPU 0; wrk and the browser share CPU 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import free_port, start

SCENARIO = """scenarios:
  - name: short
    match: {last_user_message: {equals: Say hello}}
    reply: {content: "Hello! How can I help you today?"}
"""
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}
LUA = """wrk.method = "POST"
wrk.body = [[%s]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
"""
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


def load(url: str, script: Path, seconds: int) -> float:
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp())
    (folder / "s.yaml").write_text(SCENARIO)
    (folder / "post.lua").write_text(LUA % json.dumps(BODY))
    port = free_port()
    command = ["taskset", "-c", "0", sys.executable, "-m", "mock_server", "--port", str(port)]
    server = start([*command, "--scenarios", str(folder / "s.yaml"), "--quiet"], port)
    url = f"{server.url}/v1/chat/completions"
    os.sched_setaffinity(0, {1})
    closed, opened = [], []
    try:
        load(url, folder / "post.lua", 2)  # warm-up
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=CHROMIUM_FLAGS
            )
            for _ in range(args.rounds):
                closed.append(load(url, folder / "post.lua", args.seconds))
                page = browser.new_page()
                page.goto(f"{server.url}/__admin/")
                page.wait_for_selector("#requests-view:not([hidden])")
                opened.append(load(url, folder / "post.lua", args.seconds))
                page.close()
            browser.close()
    finally:
        server.stop()
    print(f"req/s with no inspector open: {statistics.median(closed):,.0f}  {closed}")
    print(f"req/s with one open:          {statistics.median(opened):,.0f}  {opened}")
    print(f"open / closed: {statistics.median(opened) / statistics.median(closed):.2f}x")


if __name__ == "__main__":
    main()
