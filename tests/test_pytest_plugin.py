"""The pytest plugin, exercised the way users meet it: a test project run by pytester."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import openai
import pytest
from conftest import made

from mock_server.errors import ConfigError
from mock_server.testing.runner import MockServer
from mock_server.testing.tenant_handle import AdminError

pytest_plugins = ["pytester"]
PROJECT = Path(__file__).parent / "plugin_project"


@pytest.fixture
def project(pytester):
    for path in PROJECT.iterdir():
        if path.suffix in (".py", ".yaml"):
            pytester.makefile(path.suffix, **{path.stem: path.read_text()})
    # pytest-asyncio in its default (strict) mode: the async example runs by its mark.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
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


def test_user_style_suite_under_xdist_in_asyncio_auto_mode(project):
    result = project.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "-o", "asyncio_mode=auto"
    )
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


def test_the_ini_options_scenarios_are_every_tests_and_none_of_its_own(pytester):
    """``assert_all_consumed`` leaves out what every test shares (the ini option's scenarios);
    a strict 404 is an unmatched request whatever is loaded to come near it, so a test that
    expects one says so, with or without shared scenarios."""
    pytester.makefile(
        ".yaml", shared="scenarios:\n  - name: ping\n    match: {last_user_message: ping}\n"
    )
    pytester.makeini("[pytest]\nmock_server_scenarios = shared.yaml\n")
    pytester.makepyfile(
        """
        import openai, pytest

        def ask(mock_server):
            client = openai.OpenAI(
                base_url=mock_server.base_url, api_key=mock_server.api_key, max_retries=0
            )
            return client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )

        def test_consumed(mock_server):
            mock_server.add({"name": "hi", "match": {"last_user_message": "hi"}})
            ask(mock_server)
            mock_server.assert_all_consumed()

        @pytest.mark.mock_server(strict=True)
        def test_strict_miss_fails(mock_server):
            with pytest.raises(openai.NotFoundError):
                ask(mock_server)

        @pytest.mark.mock_server(strict=True, allow_unmatched=True)
        def test_strict_miss_expected(mock_server):
            with pytest.raises(openai.NotFoundError):
                ask(mock_server)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_strict_miss_fails*"])


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


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:1", "no server answers there (Connection refused)"),
        ("127.0.0.1:8000", "not an http:// URL (http://127.0.0.1:8000, say)"),
    ],
)
def test_an_external_server_that_cannot_be_reached_is_said_so_once(
    pytester, monkeypatch, url, problem
):
    monkeypatch.setenv("MOCK_SERVER_URL", url)
    pytester.makepyfile(
        """
        def test_one(mock_server):
            pass

        def test_two(mock_server):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    output = result.stdout.str()
    assert f"mock_server: MOCK_SERVER_URL={url!r}: {problem}" in output
    assert "Traceback" not in output and "socket" not in output


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
    with pytest.raises(ConfigError) as caught:
        MockServer(strickt=True)
    assert str(caught.value) == (
        "MockServer(strickt=...): unknown setting 'strickt'; did you mean 'strict'?"
    )


def test_a_server_stops_without_waiting_for_a_reply_nobody_reads_and_starts_again():
    """A stream still being sent when the server stops (a test broke off reading it, or was
    interrupted) is cut after ``SHUTDOWN_SECONDS``: it held the end of the run for 10 s. A server
    stopped starts again, serving."""
    from mock_server import MockServer
    from mock_server.testing.runner import SHUTDOWN_SECONDS

    slow = {
        "name": "slow",
        "reply": {"content": "a b c d e f", "latency": {"chunk_interval_ms": 5000}},
    }
    server = MockServer(scenarios=[]).start()
    server.add(slow)
    with openai.OpenAI(base_url=server.base_url, api_key=server.api_key) as client:
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}], stream=True
        )
        next(iter(stream))  # the stream has begun; its next piece is 5 s away
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < SHUTDOWN_SECONDS + 2
    server.start()
    try:
        server.add(slow | {"reply": {"content": "again"}})
        with openai.OpenAI(base_url=server.base_url, api_key=server.api_key) as client:
            reply = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
        assert reply.choices[0].message.content == "again"
    finally:
        server.stop()


def test_marker_arguments_are_checked(pytester):
    pytester.makefile(".yaml", weather="scenarios:\n  - name: weather\n    reply: {content: x}\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mock_server(strickt=True)
        def test_typo(mock_server):
            pass

        @pytest.mark.mock_server(strict="no")
        def test_strict_as_text(mock_server):
            pass

        @pytest.mark.mock_server(allow_unmatched="yes")
        def test_allow_unmatched_as_text(mock_server):
            pass

        @pytest.mark.mock_server("weather.yaml")
        def test_positional(mock_server):
            pass

        @pytest.mark.mock_server(profile="opnai")
        def test_profile_typo(mock_server):
            pass

        @pytest.mark.mock_server(scenarios="weather.yaml", strict=True)
        def test_one_path(mock_server):
            assert [s["name"] for s in mock_server.scenarios] == ["weather"]

        @pytest.mark.mock_server(scenarios=["missing.yaml"])
        def test_missing_file(mock_server):
            pass

        @pytest.mark.mock_server(scenarios=["broken.yaml"])
        def test_broken_file(mock_server):
            pass

        @pytest.mark.mock_server(record="new")
        def test_record_without_upstream(mock_server):
            pass

        @pytest.mark.mock_server(strict=True)
        def test_marked_without_the_fixture():
            pass

        @pytest.mark.mock_server(strict=True)
        class TestMarkedWithItsClass:
            def test_without_the_fixture(self):
                pass
        """
    )
    pytester.makefile(".yaml", broken=BROKEN)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=9)
    assert (
        "test_marked_without_the_fixture: @pytest.mark.mock_server configures the mock_server "
        "fixture, which this test does not use: add a mock_server argument, or take the marker "
        "away"
    ) in result.stdout.str()
    output = result.stdout.str()
    assert "Traceback" not in output and "def mock_server(" not in output  # what, not where
    assert "During handling" not in output and "POST /scenarios" not in output  # once, plainly
    assert f"mock_server set-up: cannot read {pytester.path / 'missing.yaml'}: No such file" in (
        output
    )
    assert f"broken.yaml:{PROBLEM}" in output
    assert "@pytest.mark.mock_server(record='new'): recording (mode new) needs an upstream" in (
        output
    )
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_typo*",
            "@pytest.mark.mock_server(strickt=...): unknown argument 'strickt'; "
            "did you mean 'strict'?",
            "*ERROR at setup of test_strict_as_text*",
            "@pytest.mark.mock_server(strict=...): Invalid type for 'strict': expected a boolean, "
            "but got a string instead.",
            "*ERROR at setup of test_allow_unmatched_as_text*",
            "@pytest.mark.mock_server(allow_unmatched=...): expected one of False, True, "
            "but got 'yes'",
            "*ERROR at setup of test_positional*",
            "@pytest.mark.mock_server('weather.yaml'): takes keyword arguments only: scenarios, "
            "profile, strict, allow_unmatched, record",
            "*ERROR at setup of test_profile_typo*",
            "@pytest.mark.mock_server(profile=...): unknown profile 'opnai'; did you mean "
            "'openai'?",
        ]
    )


BROKEN = """scenarios:
  - name: ok
    reply: {content: fine}
  - name: broken
    reply:
      finish_reason: sideways
"""
PROBLEM = (
    "6:22: scenario 'broken': reply.finish_reason: Invalid value: 'sideways'. Supported values "
    "are: 'stop', 'length', 'tool_calls', and 'content_filter'."
)


def test_scenario_files_keep_their_names(pytester):
    pytester.makefile(".yaml", broken=BROKEN)
    pytester.makefile(".yaml", only_gpt5="scenarios:\n  - name: ok\n    match: {model: gpt-5}\n")
    pytester.makepyfile(
        """
        import openai
        import pytest

        @pytest.mark.mock_server(scenarios=["broken.yaml"])
        def test_marker(mock_server):
            pass

        def test_load(mock_server):
            mock_server.load("broken.yaml")

        @pytest.mark.mock_server(scenarios=["only_gpt5.yaml"])
        def test_near_miss(mock_server):
            client = openai.OpenAI(base_url=mock_server.base_url, api_key="sk-x", max_retries=0)
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1, errors=2)
    output = result.stdout.str()
    assert f"mock_server set-up: {pytester.path / 'broken.yaml'}:{PROBLEM}" in output  # marker's
    assert f": 400: broken.yaml:{PROBLEM}" in output  # load()'s, as it was given
    assert f"    closest: ok ({pytester.path / 'only_gpt5.yaml'}:2:5)" in output


def test_a_reply_the_request_rules_out_is_a_warning_at_teardown(pytester):
    """A scenario that answers with a call to a tool the request does not offer: the test
    passes (the reply went out as scripted) with a ``ScenarioWarning`` saying what; a project
    that turns warnings into errors sees it as one."""
    pytester.makepyfile(
        """
        import openai

        def test_calls(mock_server):
            mock_server.add({"name": "calls", "reply": {"tool_calls": [{"name": "lookup"}]}})
            client = openai.OpenAI(base_url=mock_server.base_url, api_key="sk-x", max_retries=0)
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*ScenarioWarning: 1 request(s) got a scripted reply the provider would not give:",
            "*answered by 'calls':",
            "*the reply calls 'lookup', which the request does not offer (none)",
        ]
    )
    assert "test_a_reply_the_request_rules_out_is_a_warning_at_teardown.py:3: ScenarioWarning" in (
        result.stdout.str()
    )  # the test's own line, not the plugin's
    strict = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "error::mock_server.ScenarioWarning"
    )
    strict.assert_outcomes(passed=1, errors=1)
    assert "def mock_server(" not in strict.stdout.str()  # the report, not the fixture's code


def test_an_unmatched_request_and_a_warned_reply_are_reported_together(pytester):
    """Under ``-W error``, the warning would be raised before the unmatched report: the one
    failure says both."""
    pytester.makepyfile(
        """
        import openai
        import pytest

        @pytest.mark.mock_server(strict=True)
        def test_both(mock_server):
            mock_server.add({"name": "calls", "match": {"last_user_message": {"equals": "hi"}},
                             "reply": {"tool_calls": [{"name": "lookup"}]}})
            client = openai.OpenAI(base_url=mock_server.base_url, api_key="sk-x", max_retries=0)
            for text in ("hi", "bye"):
                try:
                    client.chat.completions.create(
                        model="gpt-4o", messages=[{"role": "user", "content": text}]
                    )
                except openai.NotFoundError:
                    pass
        """
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "error::mock_server.ScenarioWarning"
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*1 request(s) matched no scenario:*",
            "*1 request(s) got a scripted reply the provider would not give:",
        ]
    )


def test_ini_scenario_files_keep_their_names(pytester):
    pytester.makefile(".yaml", broken=BROKEN)
    pytester.makeini("[pytest]\nmock_server_scenarios = broken.yaml\n")
    pytester.makepyfile("def test_it(mock_server):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert f"mock_server set-up: {pytester.path / 'broken.yaml'}:{PROBLEM}" in result.stdout.str()


def test_the_source_of_added_scenarios_is_a_label_only(server):
    with server.tenant("labelled") as handle:
        added = handle.admin("POST", "/scenarios?source=/no/such/file.yaml", {"name": "x"})
        assert added == {"added": ["x"]}
        sources = [s["source"] for s in handle.scenarios if s["origin"] == "added"]
        assert sources == ["/no/such/file.yaml:1:1"]
        with pytest.raises(AdminError) as caught:
            handle.admin("POST", "/scenarios?source=two%0Alines", {"name": "y"})
        handle.reset()
    assert str(caught.value) == (
        "POST /scenarios?source=two%0Alines: 400: ?source= must be 1 to 1,000 printable "
        "characters: the name of the scenarios' file, for messages"
    )


ASK = """
import openai
import pytest


def ask(mock_server, text="hi"):
    client = openai.OpenAI(base_url=mock_server.base_url, api_key="sk-x", max_retries=0)
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}]
    )
    return reply.choices[0].message.content
"""


def test_tests_in_classes_record_into_a_folder_for_each_class(pytester):
    """``TestChat::test_create`` and ``TestWeather::test_create`` record into files of their
    own (which they replay); a test outside a class keeps ``<test module>/<test name>.yaml``."""
    pytester.makepyfile(
        test_suite=ASK
        + """
def test_create(mock_server):
    assert ask(mock_server, "module") == "upstream: module"


class TestChat:
    def test_create(self, mock_server):
        assert ask(mock_server, "chat") == "upstream: chat"


class TestWeather:
    def test_create(self, mock_server):
        assert ask(mock_server, "weather") == "upstream: weather"

    class TestInner:
        def test_create(self, mock_server):
            assert ask(mock_server, "inner") == "upstream: inner"
"""
    )
    with MockServer(scenarios=[]) as upstream:
        upstream.add(
            {"name": "echo", "reply": {"content": "upstream: {{ request.messages[-1].content }}"}}
        )
        pytester.makeini(f"[pytest]\nmock_server_upstream = {upstream.base_url}\n")
        recorded = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--mock-server-record=new"
        )
    recorded.assert_outcomes(passed=4)
    folder = pytester.path / "recordings" / "test_suite"
    replies = {
        str(path.relative_to(folder)): re.findall(r"upstream: \w+", path.read_text())
        for path in folder.rglob("*.yaml")
    }
    assert replies == {
        "test_create.yaml": ["upstream: module"],
        "TestChat/test_create.yaml": ["upstream: chat"],
        "TestWeather/test_create.yaml": ["upstream: weather"],
        "TestWeather/TestInner/test_create.yaml": ["upstream: inner"],
    }


def test_two_tests_whose_names_make_one_file_name_cannot_share_a_recording(pytester):
    """``a b`` and ``a-b`` both make ``test_p-a-b.yaml``: the second test that would use the
    file fails its set-up; where no file is used (no recording, none to replay) all is well."""
    recording = pytester.path / "recordings" / "test_ids" / "test_p-a-b.yaml"
    recording.parent.mkdir(parents=True)
    recording.write_text("scenarios:\n  - name: hi\n    reply: {content: recorded}\n")
    pytester.makepyfile(
        test_ids=ASK
        + """
@pytest.mark.parametrize("x", [1, 2], ids=["a b", "a-b"])
def test_p(mock_server, x):
    assert ask(mock_server) == "recorded"


@pytest.mark.parametrize("x", [1, 2], ids=["a b", "a-b"])
def test_q(mock_server, x):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_p[[]a-b[]]*",
            f"mock_server set-up: test_ids.py::test_p[[]a b[]] and test_ids.py::test_p[[]a-b[]] "
            f"would share the recording file {recording}: give them ids that differ in letters, "
            "digits, '_', '.', '=' or '-'",
        ]
    )


def test_the_markers_of_a_test_its_class_and_its_module_merge(pytester):
    """Each argument comes from the closest marker that gives it: a test's own
    ``allow_unmatched`` keeps its module's ``scenarios``, its own ``scenarios`` replace them."""
    pytester.makefile(".yaml", weather="scenarios:\n  - name: weather\n    reply: {content: w}\n")
    pytester.makefile(".yaml", other="scenarios:\n  - name: other\n    reply: {content: o}\n")
    pytester.makepyfile(
        """
        import pytest

        pytestmark = pytest.mark.mock_server(scenarios=["weather.yaml"], strict=True)


        def names(mock_server):
            return [s["name"] for s in mock_server.scenarios]


        @pytest.mark.mock_server(allow_unmatched=True)
        def test_keeps_the_modules_scenarios(mock_server):
            assert names(mock_server) == ["weather"]


        @pytest.mark.mock_server(scenarios=["other.yaml"])
        def test_replaces_them(mock_server):
            assert names(mock_server) == ["other"]


        @pytest.mark.mock_server(profile="deepseek")
        class TestProfile:
            @pytest.mark.mock_server(scenarios="other.yaml")
            def test_three_markers(self, mock_server):
                assert mock_server.base_url.endswith("/deepseek/v1")
                assert names(mock_server) == ["other"]


        @pytest.mark.mock_server(strickt=False)
        def test_each_marker_is_checked(mock_server):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        ["@pytest.mark.mock_server(strickt=...): unknown argument 'strickt'; *"]
    )


def test_a_handle_serves_admin_calls_from_many_threads_at_once(server):
    """Calls from threads take turns on the handle's one admin connection."""
    failures: list[str] = []
    start = threading.Barrier(8)
    with server.tenant("threads") as handle:
        handle.add({"name": "x"})

        def calls() -> None:
            start.wait()
            for _ in range(20):
                try:
                    assert [s["name"] for s in handle.scenarios if s["origin"] == "added"] == ["x"]
                    assert handle.requests == []
                except Exception as exc:  # reported below, per thread
                    failures.append(repr(exc))

        threads = [threading.Thread(target=calls, daemon=True) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=5)
        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
        handle.reset()


def test_a_test_that_skips_itself_is_not_judged_on_what_it_sent(pytester):
    """Neither an unmatched request nor a reply the request rules out, sent before
    ``pytest.skip()``, reports at teardown: the test is skipped, the run passes."""
    pytester.makepyfile(
        test_skips=ASK
        + """
def test_unmatched_then_skipped(mock_server):
    ask(mock_server)
    pytest.skip("not today")


def test_warned_then_skipped(mock_server):
    mock_server.add({"name": "calls", "reply": {"tool_calls": [{"name": "lookup"}]}})
    ask(mock_server)
    pytest.skip("not today")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(skipped=2, warnings=0)
    assert result.ret == pytest.ExitCode.OK
