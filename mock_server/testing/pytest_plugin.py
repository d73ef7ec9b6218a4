"""The pytest plugin: a ``mock_server`` fixture on one shared server per session.

Each test gets a fresh tenant, so tests share one server and never see each other's scenarios,
sequences or journal. A test that sent a request no scenario matched fails at teardown with the
near-miss report, unless its marker says ``allow_unmatched=True``.

    @pytest.mark.mock_server(scenarios=["tests/scenarios/weather.yaml"], profile="deepseek")
    def test_weather(mock_server):
        client = OpenAI(base_url=mock_server.base_url, api_key=mock_server.api_key)

Ini options: ``mock_server_scenarios`` (files loaded for every test), ``mock_server_profile``.
``MOCK_SERVER_URL`` points the fixture at a server already running instead of starting one.

Recording (docs/recording.md): each test replays ``recordings/<test module>/<test name>.yaml``
next to its file when there is one (the folder is the ini option ``mock_server_recordings``, a
relative path inside the test's own folder; the session's server records only under its working
directory).
With ``--mock-server-record=new`` (or the marker's ``record="new"``) what no scenario answers
is forwarded to the upstream (``--mock-server-upstream [PROFILE=]URL``, or the ini option) and
recorded there, a repeat beyond the steps recorded for its request included; ``all`` forwards
everything and records the file afresh; ``none`` (the default) only replays, the last step of a
recording repeating, so an unmatched request fails the test as ever.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .tenant_handle import TenantHandle, unmatched_report

DEFAULT_RECORDINGS = "recordings"
RECORD_MODES = ("new", "all", "none")

# The server itself (aiohttp and all) is imported only when a test first asks for it, so
# installing mock-server costs test runs that never use it nothing.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "mock_server_scenarios", "scenario files loaded into every test's tenant", type="paths"
    )
    parser.addini("mock_server_profile", "the profile mock_server.base_url points at")
    parser.addini(
        "mock_server_recordings",
        "folder of recordings, next to each test file (default recordings)",
        default=DEFAULT_RECORDINGS,
    )
    parser.addini(
        "mock_server_upstream",
        "upstreams to record from, [PROFILE=]URL, one a line",
        type="linelist",
    )
    group = parser.getgroup("mock-server")
    group.addoption(
        "--mock-server-record",
        choices=RECORD_MODES,
        default=None,
        help="new: record what no scenario answers; all: record every request afresh; "
        "none: replay only (default)",
    )
    group.addoption(
        "--mock-server-upstream",
        action="append",
        default=[],
        metavar="[PROFILE=]URL",
        help="an upstream to record from; repeatable (else the ini option mock_server_upstream)",
    )


def pytest_configure(config: pytest.Config) -> None:
    folder = Path(config.getini("mock_server_recordings"))
    if folder.is_absolute() or ".." in folder.parts:
        raise pytest.UsageError(
            f"mock_server_recordings = {str(folder)!r}: the recordings folder is a relative path "
            "inside each test's own folder (not absolute, no '..')"
        )
    config.addinivalue_line(
        "markers",
        "mock_server(scenarios=[...], profile=None, strict=None, allow_unmatched=False, "
        "record=None): "
        "scenarios and settings for this test's mock_server tenant",
    )


class _ExternalServer:
    """A server someone else started (``MOCK_SERVER_URL``)."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/").removesuffix("/v1")
        self.api_key = os.environ.get("MOCK_SERVER_API_KEY", "sk-mock-test-key")

    def tenant(self, name: str, profile: str | None = None) -> TenantHandle:
        return TenantHandle(
            self.url,
            name,
            api_key=self.api_key,
            profile=profile,
            admin_token=os.environ.get("MOCK_SERVER_ADMIN_TOKEN"),
        )


def _upstreams(config: pytest.Config) -> list[str]:
    return config.getoption("--mock-server-upstream") or config.getini("mock_server_upstream")


@pytest.fixture(scope="session")
def mock_server_session(request: pytest.FixtureRequest) -> Iterator[object]:
    """The session's server: started once, in a background thread, on an ephemeral port."""
    url = os.environ.get("MOCK_SERVER_URL")
    if url:
        yield _ExternalServer(url)
        return
    from .runner import MockServer

    # Upstreams known, but nothing recorded server-wide: each test records into its own file.
    upstreams = _upstreams(request.config)
    recording = {
        "record": upstreams,
        "record_to": None,
        "record_mode": "none",
        "recording_root": str(request.config.rootpath),
    }
    with MockServer(**(recording if upstreams else {})) as server:
        yield server


def recording_file(node: pytest.Item, folder: str) -> Path:
    """``<folder>/<test module>/<test name>.yaml``, next to the test's file."""
    path = Path(node.path)
    name = re.sub(r"[^A-Za-z0-9_.=-]+", "-", node.name).strip("-")
    return path.parent / folder / path.stem / f"{name}.yaml"


def _record_mode(request: pytest.FixtureRequest, options: dict) -> str:
    given = request.config.getoption("--mock-server-record")
    mode = given or options.get("record") or "none"
    if mode not in RECORD_MODES:
        raise pytest.UsageError(f"mock_server marker: record={mode!r}; use one of {RECORD_MODES}")
    if mode != "none" and not os.environ.get("MOCK_SERVER_URL") and not _upstreams(request.config):
        raise pytest.UsageError(
            f"recording (mode {mode}) needs an upstream: --mock-server-upstream [PROFILE=]URL "
            "or the ini option mock_server_upstream"
        )
    return mode


def _tenant_name(node: pytest.Item) -> str:
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", node.name)[:48].strip("-")
    return f"{readable}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def mock_server(request: pytest.FixtureRequest, mock_server_session) -> Iterator[TenantHandle]:
    """This test's tenant on the session server."""
    marker = request.node.get_closest_marker("mock_server")
    options = dict(marker.kwargs) if marker else {}
    profile = options.get("profile") or request.config.getini("mock_server_profile") or None
    files: list[str | Path] = [*request.config.getini("mock_server_scenarios")]
    files += [Path(request.path).parent / p for p in options.get("scenarios", ())]
    recording = recording_file(request.node, request.config.getini("mock_server_recordings"))
    mode = _record_mode(request, options)
    with mock_server_session.tenant(_tenant_name(request.node), profile) as handle:
        if options.get("strict") is not None:
            handle.set_strict(options["strict"])
        for path in files:
            handle.load(path)
        if mode != "none":
            handle.record(recording, mode, fresh=mode == "all")
        elif recording.exists():
            handle.load(recording)
        yield handle
        unmatched = handle.reset()  # one call: the report, then a clean slate
    if unmatched and not options.get("allow_unmatched"):
        pytest.fail(unmatched_report(unmatched), pytrace=False)
