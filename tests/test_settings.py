"""Settings from every source — ``MockServer`` keyword arguments, ``MOCK_SERVER_*`` variables and
flags — held to the config file's rules: what the file would take works, anything else is
refused before the server starts, by a message naming the argument, variable or flag."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import openai
import pytest
from processes import free_port

from mock_server import MockServer
from mock_server.config import Limits, Settings, build_settings, unknown_variables
from mock_server.errors import ConfigError

HI = [{"role": "user", "content": "hi"}]


def ask(base_url: str, key: str) -> str:
    with openai.OpenAI(base_url=base_url, api_key=key, max_retries=0) as client:
        return (
            client.chat.completions.create(model="gpt-4o", messages=HI).choices[0].message.content
        )


def refusal(base_url: str, key: str) -> tuple[int, str]:
    with pytest.raises(openai.APIStatusError) as caught:
        ask(base_url, key)
    return caught.value.status_code, caught.value.body["message"]


def test_keyword_arguments_in_the_config_files_form_work():
    settings = {
        "api_keys": [
            {"key": "sk-first-0001", "balance": 1000},
            {"key": "sk-chaos-0003", "chaos": {"probability": 1, "statuses": [503]}},
        ],
        "limits": {"requests_per_minute": 1},
        "clock": "manual",  # the window's reset stays where it is
    }
    with MockServer(**settings) as server:
        server.add({"name": "hi", "reply": {"content": "Hello"}})
        assert ask(server.base_url, "sk-first-0001") == "Hello"
        assert refusal(server.base_url, "sk-other-0002") == (
            401,
            "Incorrect API key provided: sk-******0002. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
        )
        assert refusal(server.base_url, "sk-first-0001") == (
            429,
            "Rate limit reached for gpt-4o in organization org-mock on requests per min (RPM): "
            "Limit 1, Used 1, Requested 1. Please try again in 1m0s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
        )
        assert refusal(server.base_url, "sk-chaos-0003") == (
            503,
            "The server is overloaded or not ready yet.",
        )


def test_a_settings_object_and_typed_values_are_taken_too():
    given = Settings(port=0, scenarios=[], seed=3)
    server = MockServer(given, strict=True, limits=Limits(requests_per_minute=2))
    assert (server.settings.seed, server.settings.strict) == (3, True)
    assert server.settings.limits == MockServer(limits={"requests_per_minute": 2}).settings.limits
    assert given.strict is False  # the caller's object is left as it was


def test_none_and_the_settings_no_file_holds_are_taken_as_given():
    """``admin_token=os.environ.get(...)`` may be None; ``scenarios=None`` is the bundled
    scenarios; ``recording_root`` is no config file's setting."""
    server = MockServer(admin_token=None, scenarios=None, recording_root="/srv")
    assert (server.settings.admin_token, server.settings.recording_root) == (None, "/srv")
    assert server.settings.scenarios is None
    with pytest.raises(ConfigError) as caught:  # a bound may not be None
        MockServer(max_body_bytes=None)
    assert str(caught.value) == (
        "MockServer(max_body_bytes=...): Invalid type for 'max_body_bytes': expected an integer, "
        "but got null instead."
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"max_body_bytes": "10"},
            "MockServer(max_body_bytes=...): Invalid type for 'max_body_bytes': expected an "
            "integer, but got a string instead.",
        ),
        (
            {"strict": "no"},
            "MockServer(strict=...): Invalid type for 'strict': expected a boolean, but got a "
            "string instead.",
        ),
        (
            {"scenarios": "file.yaml"},
            "MockServer(scenarios=...): Invalid type for 'scenarios': expected an array, but got "
            "a string instead.",
        ),
        (
            {"api_keys": [{"key": "k1", "balanse": 5}]},
            "MockServer(api_keys=...): Unknown parameter: 'api_keys[0].balanse'.",
        ),
        (
            {"limits": {"requests_per_minute": 0}},
            "MockServer(limits=...): Invalid 'limits.requests_per_minute': integer below minimum "
            "value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            {"chaos": {"probability": 0.5, "statuses": [418]}},
            "MockServer(chaos=...): Invalid value: '418'. Supported values are: '429', '500', "
            "'502', '503', and '504'.",
        ),
        (
            {"upstream_timeout": float("nan")},
            "MockServer(upstream_timeout=...): Invalid 'upstream_timeout': expected a finite "
            "number, but got nan instead.",
        ),
        (
            {"redact": {"cust-[0-9]+"}},
            "MockServer(redact=...): Invalid 'redact': expected a value a config file can hold, "
            "but got a value of type 'set' instead.",
        ),
        (
            {"prot": 8000},
            "MockServer(prot=...): unknown setting 'prot'; did you mean 'port'?",
        ),
    ],
)
def test_a_wrong_keyword_argument_is_refused_at_construction(arguments, message):
    with pytest.raises(ConfigError) as caught:
        MockServer(**arguments)
    assert str(caught.value) == message


def refused_at_start(*flags: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """What ``mock-server`` says when it will not start (on a free port, should it start)."""
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", *flags],
        env={**os.environ, "MOCK_SERVER_PORT": str(free_port()), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--max-body-bytes", "-5"],
            "--max-body-bytes: Invalid 'max_body_bytes': integer below minimum value. Expected "
            "a value >= 1, but got -5 instead.",
        ),
        (
            ["--max-body-bytes", "0"],
            "--max-body-bytes: Invalid 'max_body_bytes': integer below minimum value. Expected "
            "a value >= 1, but got 0 instead.",
        ),
        (
            ["--max-concurrent-requests", "-3"],
            "--max-concurrent-requests: Invalid 'max_concurrent_requests': integer below minimum "
            "value. Expected a value >= 1, but got -3 instead.",
        ),
        (
            ["--upstream-timeout", "-1"],
            "--upstream-timeout: Invalid 'upstream_timeout': decimal below minimum value. "
            "Expected a value > 0, but got -1.0 instead.",
        ),
        (
            ["--upstream-timeout", "nan"],
            "--upstream-timeout: Invalid 'upstream_timeout': expected a finite number, but got "
            "nan instead.",
        ),
        (
            ["--port", "99999"],
            "--port: Invalid 'port': integer above maximum value. Expected a value <= 65535, but "
            "got 99999 instead.",
        ),
        (
            ["--port", "-1"],
            "--port: Invalid 'port': integer below minimum value. Expected a value >= 0, but got "
            "-1 instead.",
        ),
        (
            ["--api-key", ""],
            "--api-key: Invalid 'api_keys[0]': empty string. Expected a string with minimum "
            "length 1, but got an empty string instead.",
        ),
        # Not every interface, which an empty host would listen on.
        (
            ["--host", ""],
            "--host: Invalid 'host': empty string. Expected a string with minimum length 1, but "
            "got an empty string instead.",
        ),
        # Not the working directory, with whatever YAML a venv holds.
        (
            ["--scenarios", ""],
            "--scenarios: Invalid 'scenarios[0]': empty string. Expected a string with minimum "
            "length 1, but got an empty string instead.",
        ),
    ],
)
def test_a_flag_out_of_range_is_refused_at_start(flags, message):
    assert refused_at_start(*flags) == (2, f"mock-server: {message}\n")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "MOCK_SERVER_JOURNAL_SIZE",
            "0",
            "Invalid 'journal_size': integer below minimum value. Expected a value >= 1, but got "
            "0 instead.",
        ),
        (
            "MOCK_SERVER_UNKNOWN_MODELS",
            "maybe",
            "Invalid value: 'maybe'. Supported values are: 'accept' and 'reject'.",
        ),
        (
            "MOCK_SERVER_IDLE_TIMEOUT",
            "inf",
            "Invalid 'idle_timeout': expected a finite number, but got inf instead.",
        ),
        ("MOCK_SERVER_MAX_TENANTS", "many", "max_tenants has a bad value 'many'"),
        (  # a keep-alive comment every 1e-300 s: 1.4 MB of them in 2 s
            "MOCK_SERVER_KEEPALIVE_INTERVAL",
            "1e-300",
            "Invalid 'keepalive_interval': decimal below minimum value. Expected a value >= "
            "0.01, but got 1e-300 instead.",
        ),
        # No key at all (any key would then be taken), or one no header can carry.
        ("MOCK_SERVER_API_KEYS", ",", "api_keys has a bad value ','"),
        (
            "MOCK_SERVER_ADMIN_TOKEN",
            "x\ty",
            "Invalid 'admin_token': string does not match pattern. Expected a string that "
            "matches the pattern '^[^\\u0000-\\u001f\\u007f]+$'.",
        ),
    ],
)
def test_a_variable_out_of_range_is_refused_at_start(variable, value, message):
    assert refused_at_start(env={variable: value}) == (2, f"mock-server: {variable}: {message}\n")


def test_a_variable_nothing_reads_is_said_to_be_ignored():
    environ = {
        "MOCK_SERVER_PROT": "1", "MOCK_SERVER_QUIET": "1", "MOCK_SERVER_PORT": "1",
        "MOCK_SERVER_UPSTREAM_KEY_OPENAI": "sk-x", "MOCK_SERVER_URL": "http://x", "OTHER": "1",
        "MOCK_SERVER_API_KEY": "sk-x", "MOCK_SERVER_EMPTY": "",
    }  # fmt: skip
    assert unknown_variables(environ) == [
        "MOCK_SERVER_API_KEY: the pytest plugin's, not read by the server (MOCK_SERVER_API_KEYS "
        "is)",
        "MOCK_SERVER_PROT: no such variable, ignored; did you mean MOCK_SERVER_PORT?",
        "MOCK_SERVER_QUIET: no such variable, ignored",
    ]
    server = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", str(free_port())],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("MOCK_SERVER_")},
            "MOCK_SERVER_SEDE": "7",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    said = []
    try:
        while not said or "serving on" not in said[-1]:  # it still starts
            said.append(server.stdout.readline())
            assert said[-1], "the server stopped"
    finally:
        server.terminate()
        server.communicate(timeout=10)
    warning = "mock-server: MOCK_SERVER_SEDE: no such variable, ignored; did you mean "
    assert warning + "MOCK_SERVER_SEED?\n" in said


def test_keys_listed_in_a_variable_are_taken_without_the_spaces_around_them():
    """``MOCK_SERVER_API_KEYS="sk-a, sk-b"``: the second key was " sk-b", which no client
    sends."""
    settings = build_settings({}, None, environ={"MOCK_SERVER_API_KEYS": "sk-a, sk-b"})
    assert [spec.key for spec in settings.api_keys] == ["sk-a", "sk-b"]


def test_the_banner_names_the_port_the_system_chose():
    """``--port 0``: the banner said ``:0`` in every URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Log lines may come first (the shortcut off on an older aiohttp, say).
        while "serving on " not in (line := process.stdout.readline()):
            assert line, "the server stopped before its banner"
        url = line.split("serving on ", 1)[1].split()[0]
        assert not url.startswith("http://127.0.0.1:0/")
        with urllib.request.urlopen(url.removesuffix("/v1") + "/__admin/health") as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        process.communicate(timeout=10)
