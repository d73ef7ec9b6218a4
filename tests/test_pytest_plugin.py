"""The pytest plugin, exercised the way users meet it: a test project run by pytester."""

from __future__ import annotations

import threading
from pathlib import Path

import openai
import pytest
from conftest import made

pytest_plugins = ["pytester"]
PROJECT = Path(__file__).parent / "plugin_project"


@pytest.fixture
def project(pytester):
    for path in PROJECT.iterdir():
        if path.suffix in (".py", ".yaml"):
            pytester.makefile(path.suffix, **{path.stem: path.read_text()})
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    return pytester


def test_user_style_suite(project):
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=12, failed=1, errors=1)
    output = result.stdout.str()
    assert "Scenarios not consumed:" in output and "never-used: served 0 of 1 step(s)" in output
    # The unmatched request fails its test at teardown, with the near-miss report.
    assert "ERROR at teardown of test_unmatched_request_fails_at_teardown" in output
    assert "1 request(s) matched no scenario:" in output
    assert "closest: only-weather (<admin>" in output
    assert "last_user_message: wanted contains 'weather', request had 'hi'" in output


def test_user_style_suite_under_xdist(project):
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=12, failed=1, errors=1)


def test_ini_options(pytester):
    pytester.makefile(
        ".yaml", shared="scenarios:\n  - name: shared\n    reply: {content: from ini}\n"
    )
    pytester.makeini(
        "[pytest]\nmock_server_scenarios = shared.yaml\nmock_server_profile = gemini\n"
    )
    pytester.makepyfile(
        """
        import openai

        def test_it(mock_server):
            assert mock_server.base_url.endswith("/gemini/v1")
            client = openai.OpenAI(base_url=mock_server.base_url, api_key=mock_server.api_key)
            reply = client.chat.completions.create(
                model="gemini-2.5-flash", messages=[{"role": "user", "content": "x"}]
            )
            assert reply.choices[0].message.content == "from ini"
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_external_server_via_environment(pytester, server, monkeypatch):
    monkeypatch.setenv("MOCK_SERVER_URL", server.base_url)
    pytester.makepyfile(
        """
        import os

        def test_it(mock_server):
            assert mock_server.base_url.startswith(os.environ["MOCK_SERVER_URL"].removesuffix("/v1") + "/t/")
            mock_server.add({"name": "x", "reply": {"content": "external"}})
            assert [s["name"] for s in mock_server.scenarios if s["origin"] == "added"] == ["x"]
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_fifty_parallel_tenants_see_only_their_own_state(server):
    """50 'tests' at once on one server: each sees its own journal and sequence positions."""
    failures: list[str] = []
    start = threading.Barrier(50)

    def one_test(number: int) -> None:
        handle = server.tenant(f"parallel-{number}")
        try:
            handle.add(
                {"name": "seq", "sequence": [{"content": f"{number}:{i}"} for i in range(10)]}
            )
            client = made(openai.OpenAI(base_url=handle.base_url, api_key="sk-x", max_retries=0))
            start.wait()
            seen = [
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"t{number}"}]
                )
                .choices[0]
                .message.content
                for _ in range(10)
            ]
            journal = handle.requests
            if seen != [f"{number}:{i}" for i in range(10)]:
                failures.append(f"{number}: sequence {seen}")
            if [e["last_user_message"] for e in journal] != [f"t{number}"] * 10:
                failures.append(f"{number}: journal has {len(journal)} entries of others")
        except Exception as exc:  # reported below, per thread
            failures.append(f"{number}: {exc!r}")
        finally:
            handle.reset()
            handle.close()

    threads = [threading.Thread(target=one_test, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []


def test_library_use_without_pytest():
    from mock_server import MockServer

    with MockServer(scenarios=[]) as running:
        running.add({"name": "hi", "reply": {"content": "library"}})
        with openai.OpenAI(base_url=running.base_url, api_key=running.api_key) as client:
            reply = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
        assert reply.choices[0].message.content == "library"
        assert len(running.requests) == 1
    with pytest.raises(TypeError):
        MockServer(no_such_setting=1)
