"""mock-server as a separate process: started on a free port, its output kept."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCENARIOS = """scenarios:
  - name: hi
    match:
      last_user_message: {equals: hi}
    reply:
      content: Hello there, friend.
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(
    tmp_path,
    *flags: str,
    scenarios: str = SCENARIOS,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """A server process on its own port (in ``cwd``, else this one's working directory);
    yields the port and, once it has stopped, the lines it printed (stdout and stderr) after
    its start-up banner."""
    (tmp_path / "s.yaml").write_text(scenarios)
    port = free_port()
    command = [sys.executable, "-m", "mock_server", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--scenarios", str(tmp_path / "s.yaml"), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
    )
    lines: list[str] = []
    try:
        while "inspector:" not in process.stdout.readline():
            assert process.poll() is None, "the server did not start"
        yield port, lines
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=10)
        lines.extend(line for line in out.splitlines() if line.strip())
