"""Each profile's wire fingerprints, table-driven: error envelope bytes, key order, id shapes,
headers, where a stream's usage rides. Every row names the public source it follows."""

from __future__ import annotations

import json
import re

import openai
import pytest
from conftest import API_KEY, made, post_json, raw_request, sse_data

from mock_server.testing.runner import MockServer

# Prompts no bundled scenario answers, so the fallback (or the test's own scenario) does.
ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Fill in the form."}]}
GOOGLE = {
    "model": "gemini-2.5-flash",
    "messages": [{"role": "user", "content": "Fill in the form."}],
}
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def chunks_of(response) -> list[dict]:
    return [json.loads(p) for p in sse_data(response.body)[:-1]]


# --- success bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "profile, body, check",
    [
        # OpenAI: pretty-printed by 2 with a trailing newline; the alias answers as its snapshot;
        # openai-version and openai-processing-ms headers (captures in openai-python issues).
        (
            "",
            ASK,
            lambda r: r.body.startswith(b'{\n  "id": "chatcmpl-') and r.body.endswith(b"}\n"),
        ),
        ("", ASK, lambda r: r.json()["model"] == "gpt-4o-2024-08-06"),
        # Reasoning models too, as live answers name them (vercel/ai's recorded streams).
        ("", {**ASK, "model": "o3"}, lambda r: r.json()["model"] == "o3-2025-04-16"),
        (
            "",
            {**ASK, "model": "gpt-5-nano"},
            lambda r: r.json()["model"] == "gpt-5-nano-2025-08-07",
        ),
        # A whole body has the tier and the fingerprint after the usage (a chunk has them
        # first): OpenAI's answers as client projects quote them, and GoModel's fixtures.
        (
            "",
            ASK,
            lambda r: (
                list(r.json())
                == [
                    "id",
                    "object",
                    "created",
                    "model",
                    "choices",
                    "usage",
                    "service_tier",
                    "system_fingerprint",
                ]
            ),
        ),
        ("", ASK, lambda r: r.headers["openai-version"] == "2020-10-01"),
        ("", ASK, lambda r: int(r.headers["openai-processing-ms"]) >= 1),
        # DeepSeek: compact JSON, UUID ids, x-ds-trace-id, cache-hit usage summing to the prompt
        # (DeepSeek's API docs and captures in litellm / vercel-ai issues).
        ("deepseek", ASK, lambda r: r.body.startswith(b'{"id":"') and UUID.match(r.json()["id"])),
        ("deepseek", ASK, lambda r: re.fullmatch(r"[0-9a-f]{32}", r.headers["x-ds-trace-id"])),
        (
            "deepseek",
            ASK,
            lambda r: (
                (u := r.json()["usage"])["prompt_cache_hit_tokens"] + u["prompt_cache_miss_tokens"]
                == u["prompt_tokens"]
            ),
        ),
        # GoModel drops service_tier (GoModel's contract-test fixtures).
        ("gomodel", ASK, lambda r: "service_tier" not in r.json()),
        # Google: keys in alphabetical order, a 23-character id, none of OpenAI's extras
        # (captures of generativelanguage.googleapis.com/v1beta/openai answers).
        ("google", GOOGLE, lambda r: list(r.json()) == sorted(r.json())),
        ("google", GOOGLE, lambda r: re.fullmatch(r"[A-Za-z0-9_-]{23}", r.json()["id"])),
        ("google", GOOGLE, lambda r: not {"system_fingerprint", "service_tier"} & set(r.json())),
        ("google", GOOGLE, lambda r: "logprobs" not in r.json()["choices"][0]),
        ("google", GOOGLE, lambda r: "refusal" not in r.json()["choices"][0]["message"]),
        (
            "google",
            GOOGLE,
            lambda r: (
                set(r.json()["usage"]) == {"completion_tokens", "prompt_tokens", "total_tokens"}
            ),
        ),
    ],
)
def test_success_fingerprints(server, profile, body, check):
    base = "/v1beta/openai" if profile == "google" else "/v1"
    response = post_json(
        server, (f"/{profile}" if profile else "") + base + "/chat/completions", body
    )
    assert response.status == 200, response.body
    assert check(response), (response.headers, response.body[:400])


def test_google_tool_calls_have_no_content_and_google_ids(server):
    body = {**GOOGLE, "tools": [TOOL], "tool_choice": "required"}
    message = post_json(server, "/google/v1beta/openai/chat/completions", body).json()["choices"][
        0
    ]["message"]
    assert "content" not in message
    assert re.fullmatch(r"function-call-\d{17}", message["tool_calls"][0]["id"])


# --- streams ---------------------------------------------------------------------------------------


def test_google_short_stream_is_one_whole_chunk(server):
    # Google streams a short answer as one chunk carrying role, content and finish_reason.
    response = post_json(
        server, "/google/v1beta/openai/chat/completions", {**GOOGLE, "stream": True}
    )
    (chunk,) = chunks_of(response)
    assert response.body.endswith(b"data: [DONE]\n\n")
    delta = chunk["choices"][0]["delta"]
    assert delta["role"] == "assistant" and delta["content"]
    assert chunk["choices"][0]["finish_reason"] == "stop"
    assert list(chunk) == sorted(chunk)


def test_deepseek_usage_rides_on_the_finishing_chunk(server):
    body = {**ASK, "stream": True, "stream_options": {"include_usage": True}}
    chunks = chunks_of(post_json(server, "/deepseek/v1/chat/completions", body))
    assert all(c["choices"] for c in chunks), "no choices: [] chunk on DeepSeek"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"]["total_tokens"] > 0
    assert all(c["usage"] is None for c in chunks[:-1])


def test_deepseek_reasoning_stream_phases(tenant):
    tenant.add(
        {"name": "think", "reply": {"reasoning_content": "Let me think", "content": "Hi there"}}
    )
    body = {**ASK, "model": "deepseek-reasoner", "stream": True}
    deltas = [c["choices"][0]["delta"] for c in chunks_of(tenant.post(body, "deepseek"))]
    assert deltas[0] == {"role": "assistant", "content": None, "reasoning_content": ""}
    reasoning = [d for d in deltas if d.get("reasoning_content")]
    answer = [d for d in deltas if d.get("content")]
    assert reasoning and all(d["content"] is None for d in reasoning)
    assert answer and all(d["reasoning_content"] is None for d in answer)


def test_openai_chunks_carry_obfuscation_unless_turned_off(server):
    chunks = chunks_of(post_json(server, "/v1/chat/completions", {**ASK, "stream": True}))
    assert all(isinstance(c["obfuscation"], str) and c["obfuscation"] for c in chunks)
    body = {**ASK, "stream": True, "stream_options": {"include_obfuscation": False}}
    assert all(
        "obfuscation" not in c for c in chunks_of(post_json(server, "/v1/chat/completions", body))
    )


# --- errors ----------------------------------------------------------------------------------------


def test_openai_error_bodies_are_indented_by_four(server):
    response = post_json(server, "/v1/chat/completions", {**ASK, "store_me": 1})
    assert response.body.startswith(b'{\n    "error": {\n        "message": ')
    assert response.body.endswith(b"}\n")


def test_gomodel_error_keys_are_alphabetical(server):
    response = post_json(server, "/gomodel/v1/chat/completions", ASK, {"X-Mock-Status": "502"})
    error = json.loads(response.body)["error"]
    assert list(error) == ["code", "message", "param", "type"] and error["param"] is None


@pytest.mark.parametrize(
    "profile, key, code, type_",
    [
        # DeepSeek keeps code "invalid_request_error" whatever the type (captures in litellm).
        ("deepseek", "sk-wrong-cd15", "invalid_request_error", "authentication_error"),
    ],
)
def test_deepseek_error_codes(profile, key, code, type_):
    with MockServer(api_keys=["sk-right-key-0000"]) as keyed:
        response = raw_request(
            keyed,
            "POST",
            f"/{profile}/v1/chat/completions",
            json.dumps(ASK).encode(),
            {"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        error = response.json()["error"]
        assert (response.status, error["code"], error["type"]) == (401, code, type_)
        assert error["message"] == "Authentication Fails, Your api key: ****cd15 is invalid"
        for status in ("429", "500", "503"):
            forced = post_json(
                keyed,
                "/deepseek/v1/chat/completions",
                ASK,
                {"Authorization": "Bearer sk-right-key-0000", "X-Mock-Status": status},
            )
            assert forced.json()["error"]["code"] == "invalid_request_error"
            assert not any(h.startswith("x-ratelimit-") for h in forced.headers)


def google_client(server, **options) -> openai.OpenAI:
    return made(
        openai.OpenAI(
            base_url=server.url + "/google/v1beta/openai", api_key=API_KEY, max_retries=0, **options
        )
    )


def test_google_errors_are_an_array_the_sdk_cannot_type(server):
    response = post_json(
        server, "/google/v1beta/openai/chat/completions", {**GOOGLE, "store": True, "metadata": {}}
    )
    # Pretty-printed by 2, a list of one error with the gRPC status; both unknown names, a line
    # each (captured: [{"error": {"code": 400, "message": "Invalid JSON payload received. Unknown
    # name \"store\": Cannot find field.", "status": "INVALID_ARGUMENT"}}]).
    assert (
        response.body
        == json.dumps(
            [
                {
                    "error": {
                        "code": 400,
                        "message": 'Invalid JSON payload received. Unknown name "store": Cannot find field.\n'
                        'Invalid JSON payload received. Unknown name "metadata": Cannot find field.',
                        "status": "INVALID_ARGUMENT",
                    }
                }
            ],
            indent=2,
        ).encode()
    )
    with pytest.raises(openai.BadRequestError) as caught:
        google_client(server).chat.completions.create(**GOOGLE, extra_body={"store": True})
    assert isinstance(caught.value.body, list)
    assert caught.value.code is None and caught.value.param is None and caught.value.type is None


def test_google_bad_key_is_a_400_and_429_has_no_retry_after():
    with MockServer(api_keys=["sk-right-key-0000"]) as keyed:
        with google_client(keyed) as client, pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(**GOOGLE)
        (error,) = caught.value.body
        assert error["error"]["message"] == "API key not valid. Please pass a valid API key."
        assert error["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        limited = post_json(
            keyed,
            "/google/v1beta/openai/chat/completions",
            GOOGLE,
            {"Authorization": "Bearer sk-right-key-0000", "X-Mock-Status": "429"},
        )
        assert limited.status == 429
        assert "Please retry in" in limited.json()[0]["error"]["message"]
        assert limited.json()[0]["error"]["status"] == "RESOURCE_EXHAUSTED"
        assert "retry-after" not in limited.headers and "retry-after-ms" not in limited.headers
        overloaded = post_json(
            keyed,
            "/google/v1beta/openai/chat/completions",
            GOOGLE,
            {"Authorization": "Bearer sk-right-key-0000", "X-Mock-Status": "503"},
        )
        assert overloaded.json()[0]["error"] == {
            "code": 503,
            "message": "The model is overloaded. Please try again later.",
            "status": "UNAVAILABLE",
        }


# --- models ----------------------------------------------------------------------------------------


def test_aliases_answer_as_snapshots_but_match_as_sent(tenant):
    tenant.add({"name": "exact", "match": {"model": "gpt-4o"}, "reply": {"content": "matched"}})
    body = tenant.client().chat.completions.create(**ASK)
    assert body.model == "gpt-4o-2024-08-06"
    assert body.choices[0].message.content == "matched"


def test_unknown_models_can_be_refused():
    with (
        MockServer(unknown_models="reject") as strict,
        openai.OpenAI(base_url=strict.base_url, api_key=API_KEY, max_retries=0) as client,
    ):
        with pytest.raises(openai.NotFoundError) as caught:
            client.chat.completions.create(**{**ASK, "model": "gpt-9"})
        assert caught.value.code == "model_not_found"
        assert "gpt-9" in caught.value.message
        assert client.chat.completions.create(**ASK).model == "gpt-4o-2024-08-06"
        assert client.models.retrieve("gpt-4o").id == "gpt-4o"
        with pytest.raises(openai.NotFoundError) as caught:
            client.models.retrieve("gpt-9")
        assert (caught.value.code, caught.value.body["param"]) == ("model_not_found", "model")


def test_google_envelope_keeps_grpc_status_names_for_the_mocks_own_errors():
    # mock_no_match is an OpenAI-style type; in Google's envelope the status is a gRPC name.
    with MockServer(strict=True) as strict:
        response = post_json(strict, "/google/v1beta/openai/chat/completions", GOOGLE)
        (error,) = response.json()
        assert (response.status, error["error"]["status"]) == (404, "NOT_FOUND")
