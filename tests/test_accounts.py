"""Emulated account behaviour: keys, balance, rate limits, overload, chaos, on one clock."""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import socket
import time

import aiohttp
import openai
import pytest
from conftest import TenantHandle, made, raw_request, wait_for

from mock_server.cli import main
from mock_server.config import Chaos, KeySpec, Limits, Settings, build_settings
from mock_server.errors import ConfigError
from mock_server.server.state import STATE
from mock_server.testing.runner import MockServer

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Count to three"}]}
ANSWER = "One, two, three."  # 7 completion tokens


@pytest.fixture(scope="module")
def account_server():
    settings = Settings(
        port=0,
        seed=11,
        clock="manual",
        api_keys=[
            KeySpec("sk-budget-0001", balance=100),
            KeySpec(
                "sk-limited-0002",
                limits=Limits(requests_per_minute=3, tokens_per_minute=200, window_seconds=10),
            ),
            KeySpec("sk-chaos-00003", chaos=Chaos(0.5, statuses=(500, 503), faults=("reset",))),
            KeySpec("sk-plain-00004"),
        ],
    )
    with MockServer(settings) as server:
        yield server


def handle(server, tenant: TenantHandle, key: str, profile: str | None = None, **options):
    options.setdefault("max_retries", 0)
    return made(openai.OpenAI(base_url=tenant.url(profile), api_key=key, **options))


@pytest.fixture
def account(account_server, request):
    tenant = TenantHandle(account_server, f"acct-{request.node.name[:30]}-{time.monotonic_ns()}")
    tenant.add({"name": "count", "reply": {"content": ANSWER}})
    return tenant


def test_unknown_key_is_401_in_profile_wording(account_server, account):
    with pytest.raises(openai.AuthenticationError) as caught:
        handle(account_server, account, "sk-wrong-key-999").chat.completions.create(**ASK)
    assert caught.value.body["message"].startswith("Incorrect API key provided: sk-*********-999.")
    assert caught.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError) as caught:
        handle(account_server, account, "sk-wrong-key-999", "deepseek").chat.completions.create(
            **ASK
        )
    assert (
        caught.value.body["message"]
        == "Authentication Fails, Your api key: ****-999 is invalid"  # DeepSeek shows the tail
    )


@pytest.mark.parametrize(("profile", "status"), [("deepseek", 402), ("openai", 429)])
def test_balance_runs_out_mid_run(account_server, account, profile, status):
    client = handle(account_server, account, "sk-budget-0001", profile)
    used = []
    while True:
        try:
            completion = client.chat.completions.create(**ASK)
        except openai.APIStatusError as refused:
            error = refused
            break
        used.append(completion.usage.total_tokens)
    assert error.status_code == status
    prompt = completion.usage.prompt_tokens
    # Exactly the requests the balance covered succeeded: each needs its prompt up front.
    remaining = 100 - sum(used)
    assert remaining < prompt <= remaining + used[-1]
    if profile == "deepseek":
        assert error.body["message"] == "Insufficient Balance"
    else:
        assert (error.code, error.type) == ("insufficient_quota", "insufficient_quota")
        assert "retry-after" not in error.response.headers
    accounts = account.admin("GET", "/accounts").json()["accounts"]
    assert accounts == [{"key": "sk-*******0001", "balance": remaining, "spent": sum(used)}]


def test_rate_limit_headers_request_by_request_on_a_driven_clock(account_server, account):
    clock = account_server.clock
    send = lambda: account.post(ASK, headers={"Authorization": "Bearer sk-limited-0002"})  # noqa: E731
    seen = []
    for _ in range(3):
        response = send()
        assert response.status == 200
        seen.append({k: v for k, v in response.headers.items() if k.startswith("x-ratelimit")})
        account_server.call(clock.advance, 1.0)
    assert [h["x-ratelimit-remaining-requests"] for h in seen] == ["2", "1", "0"]
    assert [h["x-ratelimit-reset-requests"] for h in seen] == ["10s", "9s", "8s"]
    assert seen[0]["x-ratelimit-limit-requests"] == "3"
    assert seen[0]["x-ratelimit-limit-tokens"] == "200"
    tokens = [int(h["x-ratelimit-remaining-tokens"]) for h in seen]
    assert tokens[0] > tokens[1] > tokens[2]

    limited = send()  # fourth request at t=3s of a 10 s window
    assert limited.status == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.headers["retry-after-ms"] == "7000"
    assert limited.headers["x-ratelimit-reset-requests"] == "7s"
    error = limited.json()["error"]
    assert (error["type"], error["code"]) == ("requests", "rate_limit_exceeded")
    assert (
        "on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 7s."
        in error["message"]
    )

    account_server.call(clock.advance, 7.0)  # the window closes
    reopened = send()
    assert reopened.status == 200
    assert reopened.headers["x-ratelimit-remaining-requests"] == "2"
    assert reopened.headers["x-ratelimit-reset-requests"] == "10s"


def test_token_limit_counts_the_estimate_before_serving(account_server, account):
    key = {"Authorization": "Bearer sk-limited-0002"}
    # Larger than the window itself: no wait lets it through, so no retry headers either.
    response = account.post({**ASK, "max_tokens": 500}, headers=key)
    assert response.status == 429 and "retry-after" not in response.headers
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("tokens", "rate_limit_exceeded")
    assert error["message"].startswith(
        "Request too large for gpt-4o in organization org-mock on tokens per min (TPM): Limit 200, "
        "Requested 5"
    )
    assert (
        "The input or output tokens must be reduced in order to run successfully."
        in (error["message"])
    )
    # Within the window, but past what is left of it: a wait lets it through.
    assert account.post({**ASK, "max_tokens": 150}, headers=key).status == 200
    response = account.post({**ASK, "max_tokens": 150}, headers=key)
    assert response.status == 429 and response.headers["retry-after"]
    assert "on tokens per min (TPM): Limit 200, Used 1" in response.json()["error"]["message"]


def test_sdk_retries_a_429_with_retry_after_ms(account):
    account.add(
        {
            "name": "flaky",
            "priority": 5,
            "sequence": [
                {"status": 429, "headers": {"retry-after-ms": "50"}},
                {"status": 429, "headers": {"retry-after-ms": "50"}},
                {"content": "third time lucky"},
            ],
        }
    )
    client = handle(None, account, "sk-plain-00004", max_retries=2)
    started = time.monotonic()
    completion = client.chat.completions.create(**ASK)
    assert completion.choices[0].message.content == "third time lucky"
    assert time.monotonic() - started < 2  # waited ~50 ms twice, not the default backoff
    assert [entry["status"] for entry in account.requests()] == [429, 429, 200]


def test_sdk_does_not_retry_beyond_its_retry_after_cap(account):
    account.add(
        {
            "name": "slow-down",
            "priority": 5,
            "reply": {"status": 429, "headers": {"retry-after": "600"}},
        }
    )
    client = handle(None, account, "sk-plain-00004", max_retries=2)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(**ASK)
    assert len(account.requests()) == 1
    # The message says the wait the scripted header gives (OpenAI's sentence, its time ours).
    assert caught.value.body["message"].endswith("Please try again in 10m0s.")


@pytest.mark.parametrize(
    ("status", "profile", "error_class", "message"),
    [
        (402, "deepseek", openai.APIStatusError, "Insufficient Balance"),
        (503, "deepseek", openai.InternalServerError, "Server Overloaded"),
        (
            500,
            "openai",
            openai.InternalServerError,
            "The server had an error while processing your request. Sorry about that!",
        ),
        (
            503,
            "gemini",
            openai.InternalServerError,
            "The model is overloaded. Please try again later.",
        ),
    ],
)
def test_status_errors_raise_sdk_classes_with_profile_messages(
    account, status, profile, error_class, message
):
    client = handle(None, account, "sk-plain-00004", profile)
    model = "gemini-2.5-flash" if profile == "gemini" else "gpt-4o"
    with pytest.raises(error_class) as caught:
        client.chat.completions.create(
            **{**ASK, "model": model}, extra_headers={"X-Mock-Status": str(status)}
        )
    assert caught.value.status_code == status
    assert caught.value.body["message"] == message


def test_chaos_with_a_seed_replays_the_same_sequence(account_server):
    account = TenantHandle(account_server, "chaos-replay")  # a fixed name: a fixed sequence
    account.add({"name": "count", "reply": {"content": ANSWER}})

    def run() -> list[str]:
        outcomes = []
        for _ in range(40):
            try:
                response = account.post(ASK, headers={"Authorization": "Bearer sk-chaos-00003"})
                outcomes.append(str(response.status))
            except (ConnectionError, http.client.HTTPException):
                outcomes.append("reset")
        return outcomes

    first = run()
    account.admin("POST", "/reset")
    account.add({"name": "count", "reply": {"content": ANSWER}})
    second = run()
    assert first == second, f"{first}\n{second}"
    assert {"200", "500", "503", "reset"} <= set(first)


def test_overload_with_concurrent_slow_requests():
    settings = Settings(port=0, max_concurrent_requests=2)
    with MockServer(settings) as server:
        tenant = TenantHandle(server, "overload")
        tenant.add({"name": "slow", "reply": {"content": "done", "latency": {"delay_ms": 400}}})

        async def fire() -> list[tuple[int, str]]:
            headers = {"Authorization": "Bearer sk-x"}
            async with aiohttp.ClientSession(headers=headers) as session:

                async def one(profile):
                    async with session.post(
                        tenant.url(profile) + "/chat/completions",
                        json=ASK | ({"model": "m"} if profile else {}),
                    ) as r:
                        return r.status, (await r.json()).get("error", {}).get("message", "")

                return await asyncio.gather(*(one(p) for p in (None, None, "deepseek", "deepseek")))

        results = asyncio.run(fire())
    assert sorted(status for status, _ in results) == [200, 200, 503, 503]
    messages = {message for status, message in results if status == 503}
    assert messages <= {"Server Overloaded", "The server is overloaded or not ready yet."}


@pytest.mark.parametrize("shortcut", [True, False])
def test_a_stream_still_being_sent_is_in_flight(shortcut):
    """A stream due all at once, sent by aiohttp to a client that does not read it, counts
    as in flight until it has gone; the connection writes it whole, and it is gone at once."""
    settings = Settings(port=0, max_concurrent_requests=1, shortcut=shortcut)
    with MockServer(settings) as server:
        tenant = TenantHandle(server, "in-flight")
        words = ("x" * 100_000 + " ") * 60  # 6 MB: past what socket buffers hold
        said = {"last_user_message": ASK["messages"][-1]["content"]}
        reply = {"content": words, "stream": {"chunk": "word", "size": 100}}
        tenant.add({"name": "big", "match": said, "reply": reply})
        data = json.dumps({**ASK, "stream": True}).encode()
        head = (
            f"POST /t/in-flight/v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer sk-x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
        with socket.socket() as reader:  # connects, sends, and reads nothing
            reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            reader.connect((server.settings.host, server.port))
            reader.sendall(head + data)

            def in_flight_or_sent() -> tuple[int, list[int]] | None:
                """the stream is in flight, or sent"""
                in_flight = tenant.admin("GET", "/accounts").json()["in_flight"]
                sent = [entry["status"] for entry in tenant.requests()]
                return (in_flight, sent) if in_flight or sent else None

            in_flight, sent = wait_for(in_flight_or_sent)
            if server.app[STATE].shortcut.off is None:  # on, where this aiohttp allows it
                assert (in_flight, sent) == (0, [200])
            else:
                assert (in_flight, sent) == (1, [])
                assert tenant.post(ASK).status == 503


def test_manual_clock_via_admin(account_server, account):
    before = account.admin("POST", "/clock", {"seconds": 0}).json()["now"]
    after = account.admin("POST", "/clock", {"seconds": 2.5}).json()["now"]
    assert after == before + 2.5
    assert account.admin("POST", "/clock", {"seconds": -1}).status == 400


def test_real_clock_refuses_to_be_driven(server):
    response = raw_request(server, "POST", "/__admin/clock", json.dumps({"seconds": 1}).encode())
    assert response.status == 409


CONFIG = """\
profile: deepseek
seed: 7
max_concurrent_requests: 2
api_keys:
  - key: sk-test-1
    balance: 10000
    limits: {requests_per_minute: 60, tokens_per_minute: 40000, window_seconds: 60}
  - sk-test-2
chaos: {probability: 0.05, statuses: [500, 503, 429], faults: [reset]}
"""


def test_config_file_and_precedence(tmp_path):
    path = tmp_path / "mock-server.yaml"
    path.write_text(CONFIG)
    settings = build_settings({}, str(path), environ={})
    assert settings.profile == "deepseek"
    assert settings.api_keys[0] == KeySpec("sk-test-1", 10000, Limits(60, 40000, 60))
    assert settings.api_keys[1].key == "sk-test-2"
    assert settings.chaos == Chaos(0.05, (500, 503, 429), ("reset",))
    overridden = build_settings(
        {"profile": "gemini"},
        str(path),
        environ={"MOCK_SERVER_SEED": "9", "MOCK_SERVER_PROFILE": "openai"},
    )
    assert (overridden.profile, overridden.seed) == ("gemini", 9)
    assert "sk-test-1" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "api_keys:\n  - key: sk-1\n    balanse: 5\n",
            ":3:5: Unknown parameter: 'api_keys[0].balanse'.",
        ),
        (
            "chaos:\n  probability: 2\n",
            ":2:16: Invalid 'chaos.probability': decimal above maximum value.",
        ),
        ("prot: 8000\n", ":1:1: unknown setting 'prot'; did you mean 'port'?"),
        ("port: [\n", "not valid YAML"),
        ("- a list\n", ":1:1: a config file holds a mapping of settings"),
    ],
)
def test_config_errors_say_where(tmp_path, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        build_settings({}, str(path), environ={})
    assert expected in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_bad_clock_from_the_environment_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("MOCK_SERVER_CLOCK", "sundial")
    assert main(["serve", "--port", "0"]) == 2
    assert (
        "MOCK_SERVER_CLOCK: Invalid value: 'sundial'. Supported values are: 'real' and 'manual'."
        in capsys.readouterr().err
    )
    assert gc.isenabled()


def test_bad_config_exits_with_a_message(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("prot: 1\n")
    assert main(["serve", "--config", str(path)]) == 2
    assert "did you mean 'port'?" in capsys.readouterr().err
