"""Shared benchmark plumbing: start a server process, wait for it, load it, read its memory."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
HEADERS = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    startup_seconds: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start(
    command: list[str], port: int, ready_path: str = "/__admin/health", stderr: Any = None
) -> Server:
    """Start a server and time it from spawn to its first answer; ``stderr``: a file for the
    server's standard error (default: discarded)."""
    # Bytecode caching on, as in any installed deployment (the first start compiles and caches;
    # an environment that turns it off would time the compiler, not the server).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    began = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if stderr is None else stderr,
        env=env,
    )
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.05) as sock:
                sock.sendall(f"GET {ready_path} HTTP/1.0\r\n\r\n".encode())
                if sock.recv(12)[8:12] == b" 200":
                    break
        except OSError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}")
        if time.perf_counter() - began > 30:
            raise RuntimeError(f"{command} did not start")
        time.sleep(0.002)
    return Server(process, port, time.perf_counter() - began)


def start_mock(*extra: str) -> Server:
    port = free_port()
    return start([sys.executable, "-m", "mock_server", "--port", str(port), *extra], port)


def start_bare() -> Server:
    port = free_port()
    return start([sys.executable, str(ROOT / "benchmarks" / "bare_server.py"), str(port)], port)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    chunks: int = 0
    quantiles: dict[float, float] | None = None  # seconds by quantile, when only those are known

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        if self.quantiles is not None:
            return self.quantiles[q] * 1000
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self, label: str, unit: str = "req/s") -> str:
        return (
            f"{label:<10} {self.rate:9.0f} {unit}  p50 {self.percentile(0.5):6.2f} ms  "
            f"p99 {self.percentile(0.99):6.2f} ms"
            + (f"  ({self.chunks / self.requests:.0f} data events each)" if self.chunks else "")
        )


async def drive(url: str, body: bytes, total: int, concurrency: int, stream: bool) -> LoadResult:
    """Send ``total`` POSTs, ``concurrency`` at a time, over keep-alive connections."""
    latencies: list[float] = []
    chunks = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        remaining = total

        async def worker() -> None:
            nonlocal remaining, chunks
            while remaining > 0:
                remaining -= 1
                began = time.perf_counter()
                async with session.post(url, data=body, headers=HEADERS) as response:
                    payload = await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{url}: {response.status} {payload[:200]!r}")
                latencies.append(time.perf_counter() - began)
                if stream:
                    chunks += payload.count(b"data: ") - 1  # minus [DONE]

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    return LoadResult(total, seconds, latencies, chunks)


def median(values: list[float]) -> float:
    return statistics.median(values)


WRK = shutil.which("wrk")
_WRK_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
wrk.body = [==[%s]==]
"""
# Each request its own body: COUNTER in the body becomes the request's number.
COUNTER = "@N@"
_WRK_DISTINCT = (
    _WRK_SCRIPT
    + """local sent = 0
request = function()
  sent = sent + 1
  return wrk.format(nil, nil, nil, (wrk.body:gsub("@N@", tostring(sent))))
end
"""
)


def wrk_drive(url: str, body: bytes, seconds: int, connections: int) -> LoadResult:
    """Load ``url`` with wrk (a C load generator: the server, not the client, is the limit),
    pinned to the last CPU when ``taskset`` is there; latencies are wrk's p50 and p99. A body
    holding ``COUNTER`` is sent with the request's number in its place: no two alike."""
    text = body.decode()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write((_WRK_DISTINCT if COUNTER in text else _WRK_SCRIPT) % text)
    pin = ["taskset", "-c", str(os.cpu_count() - 1)] if shutil.which("taskset") else []
    command = [*pin, WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s"]
    out = subprocess.run(
        [*command, script.name, url], capture_output=True, text=True, check=True
    ).stdout
    Path(script.name).unlink()
    done = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", out).group(1))
    elapsed = re.search(r"requests in ([\d.]+)(m?s)", out)
    wall = float(elapsed.group(1)) / (1000 if elapsed.group(2) == "ms" else 1)
    quantiles = {}
    for quantile, label in ((0.5, "50%"), (0.99, "99%")):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        quantiles[quantile] = float(value) / {"us": 1e6, "ms": 1e3, "s": 1}[unit]
    return LoadResult(done, wall, [], quantiles=quantiles)
