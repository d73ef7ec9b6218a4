"""Transport faults, as the official SDK (and raw aiohttp, where the SDK hides it) sees them."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import aiohttp
import openai
import pytest
from conftest import API_KEY, post_json, sse_data

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "one two three four five"}]}


def scripted(tenant, fault, **reply) -> openai.OpenAI:
    tenant.add(
        {
            "name": "fault",
            "priority": 10,
            "reply": {"content": "one two three four five", "fault": fault, **reply},
        }
    )
    return tenant.client(timeout=1.0)


@pytest.mark.parametrize("fault", ["reset", "empty"])
def test_connection_faults(tenant, fault):
    with pytest.raises(openai.APIConnectionError):
        scripted(tenant, fault).chat.completions.create(**BODY)
    tenant.admin("DELETE", "/scenarios")
    assert tenant.post(BODY).status == 200  # the server keeps serving


def test_malformed_json(tenant):
    with pytest.raises(json.JSONDecodeError):
        scripted(tenant, "malformed_json").chat.completions.create(**BODY)
    response = tenant.post(BODY)
    assert response.status == 200 and response.headers["x-request-id"].startswith("req_")
    broken = tenant.requests()[0]  # the client got a 200 whose body breaks off: so says the journal
    assert (broken["status"], broken["fault"]) == (200, "malformed_json")


def test_hang_times_the_client_out(tenant):
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        scripted(tenant, "hang").chat.completions.create(**BODY)
    assert time.monotonic() - started < 5


def stream_all(client):
    received = []
    for chunk in client.chat.completions.create(**BODY, stream=True):
        received.append(chunk)
    return received


def test_disconnect_after_chunks(tenant):
    client = scripted(tenant, {"type": "disconnect", "after_chunks": 2})
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(**BODY, stream=True):
            received.append(chunk)
    assert len(received) == 2
    assert tenant.requests()[-1]["chunks"] == 2  # the journal counts what was sent


def test_malformed_chunk(tenant):
    with pytest.raises(json.JSONDecodeError):
        stream_all(scripted(tenant, {"type": "malformed_chunk", "after_chunks": 3}))


def test_malformed_json_on_a_stream_is_a_chunk_that_is_not_json(tenant):
    # A body that is not JSON would not be read as events: the SDK would see an empty stream.
    with pytest.raises(json.JSONDecodeError):
        stream_all(scripted(tenant, "malformed_json"))
    assert tenant.requests()[-1]["chunks"] == 0


@pytest.mark.parametrize(
    ("path", "body", "begins"),
    [
        (
            "/responses",
            {"model": "gpt-4o", "input": "x"},
            b'{"id": "resp_broken", "object": "response"',
        ),
        ("/embeddings", {"model": "text-embedding-3-small", "input": "x"}, b'{"object": "list"'),
    ],
)
def test_malformed_json_breaks_off_an_answer_of_the_requests_own_api(tenant, path, body, begins):
    where = tenant.url().removeprefix(tenant.server.url) + path
    response = post_json(tenant.server, where, body, {"X-Mock-Fault": "malformed_json"})
    assert response.status == 200 and response.body.startswith(begins)


def test_stall_times_the_client_out(tenant):
    with pytest.raises(openai.APITimeoutError):
        stream_all(scripted(tenant, {"type": "stall", "after_chunks": 1}))


def test_error_event_is_raised_with_the_profile_message(tenant):
    client = scripted(tenant, {"type": "error_event", "after_chunks": 2, "status": 503})
    with pytest.raises(openai.APIError) as caught:
        stream_all(client)
    assert caught.value.message == "The server is overloaded or not ready yet."


def test_error_event_names_the_model_as_the_same_error_answered_whole_does(tenant):
    client = scripted(tenant, {"type": "error_event", "after_chunks": 2, "status": 429})
    with pytest.raises(openai.APIError) as streamed:
        stream_all(client)
    tenant.add({"name": "limited", "priority": 20, "reply": {"status": 429}})
    with pytest.raises(openai.RateLimitError) as whole:
        client.chat.completions.create(**BODY)
    said = whole.value.body["message"]
    assert said.startswith(f"Rate limit reached for {BODY['model']} in organization")
    assert streamed.value.message == said


def test_error_event_wire_format(tenant):
    scripted(tenant, {"type": "error_event", "after_chunks": 1})
    response = tenant.post({**BODY, "stream": True})
    assert response.status == 200
    payloads = sse_data(response.body)
    assert json.loads(payloads[-1])["error"]["type"] == "server_error"
    assert "[DONE]" not in payloads


@pytest.mark.parametrize(
    "fault, header",
    [
        ({"type": "no_done"}, None),
        ({"type": "no_done", "after_chunks": 100}, None),
        (None, "no_done"),
    ],
    ids=["scripted", "scripted past the stream's length", "forced"],
)
def test_no_done_sends_the_whole_stream_without_its_end(tenant, fault, header):
    if fault is not None:
        scripted(tenant, fault)
    forced = {"X-Mock-Fault": header} if header else None
    payloads = sse_data(tenant.post({**BODY, "stream": True}, headers=forced).body)
    assert payloads[-1] != "[DONE]"
    assert json.loads(payloads[-1])["choices"][0]["finish_reason"] == "stop"


def test_no_done_with_a_count_ends_after_that_many_chunks(tenant):
    response = tenant.post({**BODY, "stream": True}, headers={"X-Mock-Fault": "no_done:2"})
    payloads = sse_data(response.body)
    assert len(payloads) == 2
    assert json.loads(payloads[-1])["choices"][0]["finish_reason"] is None


def test_stream_fault_on_a_plain_request_becomes_its_plain_twin(tenant):
    with pytest.raises(openai.APIConnectionError):
        scripted(tenant, {"type": "disconnect"}).chat.completions.create(**BODY)


@pytest.mark.parametrize(
    ("header", "stream", "error"),
    [
        ("reset", False, openai.APIConnectionError),
        ("malformed_json", False, json.JSONDecodeError),
        ("disconnect:1", True, openai.APIConnectionError),
        ("stall", True, openai.APITimeoutError),
    ],
)
def test_fault_header_override(tenant, header, stream, error):
    client = tenant.client(timeout=1.0)
    with pytest.raises(error):
        response = client.chat.completions.create(
            **BODY, stream=stream, extra_headers={"X-Mock-Fault": header}
        )
        if stream:
            list(response)


def test_status_header_override(tenant):
    with pytest.raises(openai.RateLimitError) as caught:
        tenant.client().chat.completions.create(**BODY, extra_headers={"X-Mock-Status": "429"})
    assert caught.value.code == "rate_limit_exceeded"
    headers = caught.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("1", "1000")


def test_a_quota_error_scripted_by_its_code_is_worded_and_sent_as_openai_does(tenant):
    """OpenAI's insufficient_quota 429 carries no retry headers, and its own wording."""
    tenant.add({"name": "broke", "reply": {"status": 429, "error": {"code": "insufficient_quota"}}})
    with pytest.raises(openai.RateLimitError) as caught:
        tenant.client(max_retries=0).chat.completions.create(**BODY)
    assert (caught.value.code, caught.value.type) == ("insufficient_quota", "insufficient_quota")
    assert caught.value.body["message"].startswith("You exceeded your current quota")
    assert not {"retry-after", "retry-after-ms"} & caught.value.response.headers.keys()


def test_bad_override_header(tenant):
    response = tenant.post(BODY, headers={"X-Mock-Fault": "explode"})
    assert response.status == 400
    assert "X-Mock-Fault" in response.json()["error"]["message"]


def test_a_client_that_times_out_during_a_delay_is_journaled_as_gone(tenant):
    """The client gave up before the answer was due: nothing is sent, status 0 says so."""
    tenant.add({"name": "slow", "reply": {"content": "late", "latency": {"delay_ms": 800}}})
    with pytest.raises(openai.APITimeoutError):
        tenant.client(timeout=0.2, max_retries=0).chat.completions.create(**BODY)
    deadline = time.monotonic() + 5
    while not tenant.requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    (gave_up,) = tenant.requests()
    assert (gave_up["status"], gave_up["fault"], gave_up["scenario"]) == (0, None, "slow")


def test_client_leaving_mid_stream_costs_nothing(server, tenant, caplog):
    tenant.add(
        {
            "name": "slow",
            "priority": 10,
            "reply": {"content": "word " * 50, "latency": {"chunk_interval_ms": 20}},
        }
    )
    tasks_before = server.call(lambda: len(asyncio.all_tasks()))

    async def leave_early() -> None:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            response = await session.post(
                tenant.url() + "/chat/completions", json={**BODY, "stream": True}
            )
            await response.content.readuntil(b"\n\n")
            await response.content.readuntil(b"\n\n")
            response.close()  # hang up mid-stream

    with caplog.at_level(logging.DEBUG):
        asyncio.run(leave_early())
        deadline = time.monotonic() + 5
        while not tenant.requests() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert tenant.requests(), "the handler finished and journaled the request"
    (left,) = tenant.requests()
    assert left["client_left"] and left["status"] == 200
    assert 2 <= left["chunks"] < 50 and len(left["chunk_ms"]) == left["chunks"]  # what was sent
    while (
        server.call(lambda: len(asyncio.all_tasks())) > tasks_before and time.monotonic() < deadline
    ):
        time.sleep(0.05)  # the handler's task ends just after it journals
    assert server.call(lambda: len(asyncio.all_tasks())) <= tasks_before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
