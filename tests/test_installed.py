"""The installed command, as a user runs it from a folder of their own: its version, ``check``,
an address it cannot listen on, and a server on the bundled scenarios answering every bundled
profile, plain and streamed."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import openai
import pytest
from processes import free_port

from mock_server.checks.profiles import load_profiles

COMMAND = shutil.which("mock-server", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(COMMAND is None, reason="the mock-server command is not installed")
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_version_comes_from_the_metadata(tmp_path):
    done = run("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"mock-server {version('llm-mock-server')}\n")


def test_check_reads_a_scenario_file(tmp_path):
    (tmp_path / "mine.yaml").write_text("scenarios:\n  - name: hi\n    reply: {content: Hi}\n")
    done = run("check", "mine.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: ")


def test_a_port_in_use_is_said_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run("--port", str(port), cwd=tmp_path)
    assert (done.returncode, done.stdout, last_line(done.stderr)) == (
        2,
        "",
        f"mock-server: cannot listen on 127.0.0.1:{port}: address already in use",
    )


def test_an_address_that_does_not_resolve_is_said_in_one_line(tmp_path):
    port = free_port()
    with pytest.raises(socket.gaierror) as caught:  # what the system says of it
        socket.getaddrinfo("256.1.1.1", port)
    reason = caught.value.strerror[0].lower() + caught.value.strerror[1:]
    done = run("--host", "256.1.1.1", "--port", str(port), cwd=tmp_path)
    assert (done.returncode, last_line(done.stderr)) == (
        2,
        f"mock-server: cannot listen on 256.1.1.1:{port}: {reason}",
    )


def last_line(stderr: str) -> str:
    """What the server said last, with no traceback before it (a line of the log may be, such
    as an older aiohttp's ``connection shortcut off``)."""
    assert "Traceback" not in stderr, stderr
    return stderr.splitlines()[-1]


@contextmanager
def started(*args: str, cwd: Path) -> Iterator[tuple[str, list[str]]]:
    """The installed server on a port of its own: its root URL and its banner's lines."""
    port = free_port()
    process = subprocess.Popen(
        [COMMAND, "--port", str(port), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = threading.Timer(30, process.kill)  # a server that never says it started
    deadline.start()
    try:
        banner = [process.stdout.readline()]
        while "inspector:" not in banner[-1]:
            assert process.poll() is None, "".join(banner)
            banner.append(process.stdout.readline())
        deadline.cancel()
        yield f"http://127.0.0.1:{port}", banner
    finally:
        deadline.cancel()
        process.terminate()
        process.communicate(timeout=10)


def test_the_bundled_scenarios_answer_every_profile(tmp_path):
    with started(cwd=tmp_path) as (root, banner):
        assert any("scenario(s) from bundled scenarios/" in line for line in banner)
        for profile in load_profiles():
            for path in profile.paths:
                base_url = f"{root}/{profile.name}{path}"
                with openai.OpenAI(base_url=base_url, api_key="sk-user", max_retries=0) as client:
                    ask = {
                        "model": profile.models[0] if profile.models else "gpt-4o",
                        "messages": [{"role": "user", "content": "Hello"}],
                        "tools": [TOOL],
                    }
                    reply = client.chat.completions.create(**ask)
                    assert reply.choices[0].message.content, (profile.name, path)
                    chunks = list(client.chat.completions.create(**ask, stream=True))
                    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
                    assert text == reply.choices[0].message.content, (profile.name, path)


def test_the_inspector_page_and_every_file_it_references(tmp_path):
    with started(cwd=tmp_path) as (root, _):
        with urllib.request.urlopen(f"{root}/__admin/") as page:
            html = page.read().decode()
        referenced = re.findall(r'(?:src|href)="(?!data:)([^"#]+)"', html)
        assert sorted(referenced) == ["inspector.css", "inspector.js"]
        for name in referenced:
            with urllib.request.urlopen(f"{root}/__admin/{name}") as file:
                assert file.status == 200 and file.read(), name


def test_recording_through_an_installed_upstream(tmp_path):
    (tmp_path / "up.yaml").write_text(
        "scenarios:\n  - name: up\n    reply: {content: From upstream.}\n"
    )
    with started("--scenarios", "up.yaml", cwd=tmp_path) as (upstream, _):
        record = ("--record", f"{upstream}/v1", "--record-to", "recorded")
        with started(*record, cwd=tmp_path) as (root, _):
            client = openai.OpenAI(base_url=f"{root}/v1", api_key="sk-user", max_retries=0)
            with client:
                ask = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Record me"}]}
                reply = client.chat.completions.create(**ask)
                assert reply.choices[0].message.content == "From upstream."
    written = sorted(p.name for p in (tmp_path / "recorded").iterdir())
    assert written, "nothing was recorded"
    done = run("check", "recorded", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
