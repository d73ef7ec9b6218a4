"""The pytest plugin: a ``mock_server`` fixture on one shared server per session.

Each test gets a fresh tenant, so tests share one server and never see each other's scenarios,
sequences or journal. A test that sent a request no scenario matched fails at teardown with the
near-miss report, unless its marker says ``allow_unmatched=True``; one that a scenario answered
with a reply the request rules out gets a ``ScenarioWarning`` saying what. A test that skips
itself is judged on neither. The markers on a test, its classes and its module merge, each
argument taken from the closest that gives it.

    @pytest.mark.mock_server(scenarios=["tests/scenarios/weather.yaml"], profile="deepseek")
    def test_weather(mock_server):
        client = OpenAI(base_url=mock_server.base_url, api_key=mock_server.api_key)

Ini options: ``mock_server_scenarios`` (files loaded for every test), ``mock_server_profile``.
``MOCK_SERVER_URL`` points the fixture at a server already running instead of starting one.

Recording (docs/recording.md): each test replays ``recordings/<test module>/<test name>.yaml``
(``recordings/<test module>/<Class>/<test name>.yaml`` in a class, a folder for each class it
is nested in) next to its file when there is one (the folder is the ini option
``mock_server_recordings``, a relative path inside the test's own folder; the session's server
records only under its working directory). Two tests whose names come to the same file name
cannot both use it: the second of one pytest process fails its set-up.
With ``--mock-server-record=new`` (or the marker's ``record="new"``) what no scenario answers
is forwarded to the upstream (``--mock-server-upstream [PROFILE=]URL``, or the ini option) and
recorded there, a repeat beyond the steps recorded for its request included; ``all`` forwards
everything and records the file afresh; ``none`` (the default) only replays, the last step of a
recording repeating, so an unmatched request fails the test as ever.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import uuid
import warnings
from collections import ChainMap
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from .tenant_handle import (
    AdminError,
    ScenarioWarning,
    TenantHandle,
    unmatched_report,
    warned_report,
)

DEFAULT_RECORDINGS = "recordings"
RECORD_MODES = ("new", "all", "none")
MARKER = "@pytest.mark.mock_server"
# The marker's arguments: settings of the test's tenant, in the config file's form (checked as
# the file is), then what only the marker says, with the values each may take (None: unset).
MARKER_SETTINGS = ("scenarios", "profile", "strict")
MARKER_CHOICES = {"allow_unmatched": (False, True), "record": RECORD_MODES}
MARKER_ARGUMENTS = (*MARKER_SETTINGS, *MARKER_CHOICES)

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
    mode = config.getoption("--mock-server-record")
    if mode not in (None, "none") and (missing := _no_upstream(config, mode)):
        raise pytest.UsageError(f"--mock-server-record {mode}: {missing}")
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


# The report of a test's call phase, for its teardown: a test that skipped itself is not judged
# on what it sent before.
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep the report of each test's call phase for its teardown (``_skipped``)."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


def _skipped(item: pytest.Item) -> bool:
    """Whether the test skipped itself (``pytest.skip()``, or an ``xfail`` that failed)."""
    report = item.stash.get(_CALL_REPORT, None)
    return report is not None and report.skipped


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked ``mock_server`` itself that does not use the fixture fails its set-up: the
    marker configures the fixture's tenant, and would be left unread. (Marked with its module
    or class, a test may leave the fixture out.)"""
    marked = any(mark.name == "mock_server" for mark in getattr(item, "own_markers", ()))
    if marked and "mock_server" not in getattr(item, "fixturenames", ()):
        pytest.fail(
            f"{item.name}: @pytest.mark.mock_server configures the mock_server fixture, which "
            "this test does not use: add a mock_server argument, or take the marker away",
            pytrace=False,
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


def _unreachable(url: str) -> str | None:
    """Why no server answers at ``url`` (None: one does, whatever it answers)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return "not an http:// URL (http://127.0.0.1:8000, say)"
    try:
        port = parts.port
        with socket.create_connection((parts.hostname, port or 80), timeout=5):
            return None
    except (OSError, ValueError) as exc:  # ValueError: a port out of range
        return f"no server answers there ({getattr(exc, 'strerror', None) or exc})"


def _upstreams(config: pytest.Config) -> list[str]:
    return config.getoption("--mock-server-upstream") or config.getini("mock_server_upstream")


@pytest.fixture(scope="session")
def mock_server_session(request: pytest.FixtureRequest) -> Iterator[object]:
    """The session's server: started once, in a background thread, on an ephemeral port."""
    url = os.environ.get("MOCK_SERVER_URL")
    if url:
        problem = _unreachable(url)
        if problem is not None:  # said once, in a line, for each test that needs the server
            pytest.fail(f"mock_server: MOCK_SERVER_URL={url!r}: {problem}", pytrace=False)
        yield _ExternalServer(url)
        return
    from ..config import Settings
    from .runner import MockServer

    # Upstreams known, but nothing recorded server-wide: each test records into its own file.
    upstreams = _upstreams(request.config)
    base = Settings(
        port=0, scenarios=[], record_to=None, recording_root=str(request.config.rootpath)
    )
    recording = {"record": upstreams, "record_mode": "none"} if upstreams else {}
    with MockServer(base, **recording) as server:
        yield server


def recording_file(node: pytest.Item, folder: str) -> Path:
    """``<folder>/<test module>/[<Class>/...]<test name>.yaml``, next to the test's file: a
    folder for each class the test is in, outermost first."""
    path = Path(node.path)
    classes = [
        _file_name(parent.name) for parent in node.listchain() if isinstance(parent, pytest.Class)
    ]
    return path.parent.joinpath(folder, path.stem, *classes, f"{_file_name(node.name)}.yaml")


def _file_name(name: str) -> str:
    """``name`` as a file name: each run of characters other than letters, digits, ``_``,
    ``.``, ``=`` and ``-`` made one ``-``."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "-", name).strip("-")


# Which test uses each recording file in this session: two tests whose names come to the same
# file name would replay, and record into, one another's.
_RECORDING_USERS = pytest.StashKey[dict[Path, str]]()


def _claim_recording(request: pytest.FixtureRequest, recording: Path) -> None:
    """Fail the test's set-up when another test of the session has used ``recording``."""
    users = request.config.stash.setdefault(_RECORDING_USERS, {})
    user = users.setdefault(recording, request.node.nodeid)
    if user != request.node.nodeid:
        pytest.fail(
            f"mock_server set-up: {user} and {request.node.nodeid} would share the recording "
            f"file {recording}: give them ids that differ in letters, digits, '_', '.', '=' "
            "or '-'",
            pytrace=False,
        )


def _record_mode(request: pytest.FixtureRequest, options: dict) -> str:
    given = request.config.getoption("--mock-server-record")
    mode = given or options.get("record") or "none"
    if mode != "none" and (missing := _no_upstream(request.config, mode)):
        pytest.fail(f"{MARKER}(record={mode!r}): {missing}", pytrace=False)
    return mode


def _no_upstream(config: pytest.Config, mode: str) -> str | None:
    """Why recording in ``mode`` cannot work, for want of an upstream; None when it can."""
    if os.environ.get("MOCK_SERVER_URL") or _upstreams(config):
        return None
    return (
        f"recording (mode {mode}) needs an upstream: --mock-server-upstream [PROFILE=]URL "
        "or the ini option mock_server_upstream"
    )


def _marker_options(node: pytest.Item) -> dict[str, Any]:
    """The arguments of the markers on the test, its classes and its module, each from the
    closest marker that gives it. Each marker is checked: a problem fails the test's set-up
    with a message that names the argument."""
    from ..errors import ConfigError

    try:
        return dict(ChainMap(*map(_checked_marker, node.iter_markers("mock_server"))))
    except ConfigError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


def _checked_marker(marker: pytest.Mark) -> dict[str, Any]:
    """``marker``'s arguments: its settings checked as the config file's are (``scenarios``
    may be one path), the rest by kind; a problem is a ``ConfigError``."""
    from ..config import settings_from
    from ..errors import ConfigError
    from ..yamlio import did_you_mean

    if marker.args:
        given, known = ", ".join(map(repr, marker.args)), ", ".join(MARKER_ARGUMENTS)
        raise ConfigError(f"{MARKER}({given}): takes keyword arguments only: {known}")
    options = dict(marker.kwargs)
    unknown = sorted(options.keys() - set(MARKER_ARGUMENTS))
    if unknown:
        hint = did_you_mean(unknown[0], list(MARKER_ARGUMENTS), "arguments")
        raise ConfigError(f"{MARKER}({unknown[0]}=...): unknown argument {unknown[0]!r}; {hint}")
    if isinstance(options.get("scenarios"), (str, os.PathLike)):
        options["scenarios"] = [options["scenarios"]]
    given = {k: options[k] for k in MARKER_SETTINGS if options.get(k) is not None}
    options.update(settings_from(given, lambda name: f"{MARKER}({name}=...)"))
    for name, choices in MARKER_CHOICES.items():
        value = options.get(name)
        if value is not None and not any(type(value) is type(c) and value == c for c in choices):
            expected = ", ".join(map(repr, choices))
            raise ConfigError(
                f"{MARKER}({name}=...): expected one of {expected}, but got {value!r}"
            )
    return options


# The profiles the session's server serves, asked once: they do not change.
_PROFILES_SERVED = pytest.StashKey[list[str]]()


def _check_profile(
    config: pytest.Config, handle: TenantHandle, profile: str, named_by: str
) -> None:
    """Fail the test's set-up when the server has no such profile (else its first request
    would meet a 404 that says less); ``named_by``: the marker or the ini option."""
    from ..providers import unknown_profile

    known = config.stash.get(_PROFILES_SERVED, None)
    if known is None:
        known = [p["name"] for p in handle.admin("GET", "/health")["profiles"]]
        config.stash[_PROFILES_SERVED] = known
    if profile not in known:
        pytest.fail(f"{named_by}: {unknown_profile(profile, known)}", pytrace=False)


def _tenant_name(node: pytest.Item) -> str:
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", node.name)[:48].strip("-")
    return f"{readable}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def mock_server(request: pytest.FixtureRequest, mock_server_session) -> Iterator[TenantHandle]:
    """This test's tenant on the session server."""
    options = _marker_options(request.node)
    profile = options.get("profile") or request.config.getini("mock_server_profile") or None
    shared: list[str | Path] = [*request.config.getini("mock_server_scenarios")]
    marked = [Path(request.path).parent / p for p in options.get("scenarios") or ()]
    recording = recording_file(request.node, request.config.getini("mock_server_recordings"))
    mode = _record_mode(request, options)
    if mode != "none" or recording.exists():
        _claim_recording(request, recording)
    __tracebackhide__ = True  # a report raised here (a warning made an error) shows no fixture
    with mock_server_session.tenant(_tenant_name(request.node), profile) as handle:
        problem = None
        try:
            if profile is not None:
                named_by = (
                    f"{MARKER}(profile=...)" if options.get("profile") else "mock_server_profile"
                )
                _check_profile(request.config, handle, profile, named_by)
            if options.get("strict") is not None:
                handle.set_strict(options["strict"])
            handle.shared = frozenset(name for path in shared for name in handle.load(path))
            for path in marked:
                handle.load(path)
            if mode != "none":
                handle.record(recording, mode, fresh=mode == "all")
            elif recording.exists():
                handle.load(recording)
        except (OSError, ValueError, AdminError) as exc:  # a file missing or refused: no traceback
            with contextlib.suppress(OSError, AdminError):
                handle.reset()
            problem = _set_up_problem(exc)
        if problem is not None:  # failed outside the handler: one message, no chained exception
            pytest.fail(f"mock_server set-up: {problem}", pytrace=False)
        yield handle
        unmatched, warned = handle.reset_with_report()  # one call: the report, a clean slate
    if _skipped(request.node):  # what it sent before skipping does not fail a skipped test
        return
    if unmatched and not options.get("allow_unmatched"):
        # One report of both: the warnings, raised as an error, would hide the unmatched.
        report = unmatched_report(unmatched)
        pytest.fail(report + (f"\n\n{warned_report(warned)}" if warned else ""), pytrace=False)
    if warned:  # at the test, not here
        path, line, _ = request.node.reportinfo()
        module = getattr(request.module, "__name__", None)
        report = ScenarioWarning(warned_report(warned))
        warnings.warn_explicit(report, ScenarioWarning, str(path), (line or 0) + 1, module)


def _set_up_problem(exc: Exception) -> str:
    """What is wrong with a set-up file, in a line: its path and the system's reason."""
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"cannot read {exc.filename}: {exc.strerror}"
    if isinstance(exc, AdminError):  # the server's words, which name the file
        return exc.detail
    return str(exc)
