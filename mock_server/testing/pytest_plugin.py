"""The pytest plugin: a ``mock_server`` fixture on one shared server per session.

Each test gets a fresh tenant, so tests share one server and never see each other's scenarios,
sequences or journal. A test that sent a request no scenario matched fails at teardown with the
near-miss report, unless its marker says ``allow_unmatched=True``.

    @pytest.mark.mock_server(scenarios=["tests/scenarios/weather.yaml"], profile="deepseek")
    def test_weather(mock_server):
        client = OpenAI(base_url=mock_server.base_url, api_key=mock_server.api_key)

Ini options: ``mock_server_scenarios`` (files loaded for every test), ``mock_server_profile``.
``MOCK_SERVER_URL`` points the fixture at a server already running instead of starting one.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .tenant_handle import TenantHandle, unmatched_report

# The server itself (aiohttp and all) is imported only when a test first asks for it, so
# installing mock-server costs test runs that never use it nothing.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "mock_server_scenarios", "scenario files loaded into every test's tenant", type="paths"
    )
    parser.addini("mock_server_profile", "the profile mock_server.base_url points at")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mock_server(scenarios=[...], profile=None, strict=None, allow_unmatched=False): "
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


@pytest.fixture(scope="session")
def mock_server_session() -> Iterator[object]:
    """The session's server: started once, in a background thread, on an ephemeral port."""
    url = os.environ.get("MOCK_SERVER_URL")
    if url:
        yield _ExternalServer(url)
        return
    from .runner import MockServer

    with MockServer() as server:
        yield server


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
    with mock_server_session.tenant(_tenant_name(request.node), profile) as handle:
        if options.get("strict") is not None:
            handle.set_strict(options["strict"])
        for path in files:
            handle.load(path)
        yield handle
        unmatched = handle.reset()  # one call: the report, then a clean slate
    if unmatched and not options.get("allow_unmatched"):
        pytest.fail(unmatched_report(unmatched), pytrace=False)
