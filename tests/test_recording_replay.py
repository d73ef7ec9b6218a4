"""What a recording replays, and what it keeps out: a request holding what redaction hides, a
refusal that depends on what the upstream stores, the Responses items beside messages, names
redaction hides, a recording file that is not UTF-8, a stream ended without ``[DONE]``.

The upstream is a second mock-server on its own socket whose every answer is numbered, so which
answer a client got says which upstream call made it; a stream the mock-server would not send
comes from a small HTTP server of the test's own.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from mock_server.errors import ConfigError
from mock_server.record.store import _opened
from mock_server.testing.runner import MockServer
from mock_server.testing.tenant_handle import AdminError

KEY = "sk-test-recording-replay"
NUMBERED = {"name": "numbered", "sequence": [{"content": f"answer {i}"} for i in range(1, 100)]}


@pytest.fixture
def numbered() -> Iterator[MockServer]:
    with MockServer(seed=7) as server:
        server.add(NUMBERED)
        yield server


def sdk(server: MockServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)


def recording(upstream: MockServer, folder: Path, **options) -> MockServer:
    return MockServer(record=[f"{upstream.url}/v1"], record_to=str(folder), **options)


def test_a_request_whose_own_answer_holds_a_credential_replays(numbered, tmp_path):
    # A few-shot example written by hand: the client sends it as it is on every run, not as
    # the recording keeps it (redacted).
    messages = [
        {"role": "user", "content": "How do I call the API?"},
        {"role": "assistant", "content": "Send Authorization: Bearer abcdefgh12345 with it."},
        {"role": "user", "content": "And then?"},
    ]
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:
        recorded = client.chat.completions.create(model="gpt-4o", messages=messages)
    assert "abcdefgh12345" not in (tmp_path / "openai.yaml").read_text()
    numbered.stop()
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer, sdk(replayer) as client:
        replayed = client.chat.completions.create(model="gpt-4o", messages=messages)
    assert replayed.choices[0].message.content == recorded.choices[0].message.content


def test_a_conversation_the_upstream_does_not_hold_is_relayed_not_recorded(numbered, tmp_path):
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:
        conversation = client.conversations.create()
        with pytest.raises(openai.NotFoundError, match="not found"):
            client.responses.create(model="gpt-4o", conversation=conversation.id, input="Plan")
        assert recorder.requests[-1]["recorded"] is None
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:
        # The same words without the conversation are another request, answered upstream (its
        # refusal used up none of the numbered answers).
        assert client.responses.create(model="gpt-4o", input="Plan").output_text == "answer 1"
    assert len(numbered.requests) == 2


def test_an_item_reference_the_upstream_does_not_hold_is_relayed_not_recorded(numbered, tmp_path):
    said = [{"role": "user", "content": "Say hi"}]
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:
        client.responses.create(model="gpt-4o", input="Say hi")
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:
        first = client.responses.create(model="gpt-4o", input="Say hi")  # replayed: our ids
        referenced = [*said, {"type": "item_reference", "id": first.output[0].id}, *said]
        with pytest.raises(openai.NotFoundError):
            client.responses.create(model="gpt-4o", input=referenced)
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:
        inline = [*said, {"role": "assistant", "content": first.output_text}, *said]
        assert client.responses.create(model="gpt-4o", input=inline).output_text == "answer 2"
    assert len(numbered.requests) == 3


def custom_call(output: str) -> dict:
    call = {"type": "custom_tool_call", "call_id": "c1", "name": "run_sql", "input": "SELECT 1"}
    answer = {"type": "custom_tool_call_output", "call_id": "c1", "output": output}
    return {
        "tools": [{"type": "custom", "name": "run_sql"}],
        "input": [{"role": "user", "content": "How many users?"}, call, answer],
    }


def mcp_call(output: str) -> dict:
    server = {"type": "mcp", "server_label": "db", "server_url": "https://example.com/mcp"}
    call = {"type": "mcp_call", "id": "mcp_1", "server_label": "db", "name": "count"}
    return {
        "tools": [{**server, "require_approval": "never"}],
        "input": [
            {"role": "user", "content": "Count"},
            {**call, "arguments": "{}", "output": output},
        ],
    }


def parts(*texts: str) -> dict:
    said = [{"type": "input_text", "text": text} for text in texts]
    return {"input": [{"role": "user", "content": said}]}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (custom_call("42"), custom_call("9000")),
        (mcp_call("42"), mcp_call("9000")),
        (parts("Hello resp base"), parts("Hello resp ", "base")),
    ],
    ids=["custom tool output", "mcp call output", "text parts"],
)
def test_responses_that_differ_in_items_beside_messages_record_apart(
    numbered, tmp_path, first, second
):
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:
        assert client.responses.create(model="gpt-4o", **first).output_text == "answer 1"
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:
        # Forwarded, not answered by the first's recording; which still answers the first.
        assert client.responses.create(model="gpt-4o", **second).output_text == "answer 2"
        assert client.responses.create(model="gpt-4o", **first).output_text == "answer 1"


def test_names_a_pattern_of_ones_own_finds_are_not_written(numbered, tmp_path):
    model = "ft:gpt-4o-mini:acme-corp::B7x1"
    tool = {"type": "function", "function": {"name": "acme_lookup", "parameters": {}}}
    request = {"model": model, "messages": [{"role": "user", "content": "Who?"}], "tools": [tool]}
    with recording(numbered, tmp_path, redact=["(?i)acme"]) as recorder, sdk(recorder) as client:
        recorded = client.chat.completions.create(**request).choices[0].message.content
    assert "acme" not in (tmp_path / "openai.yaml").read_text().lower()
    numbered.stop()
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer, sdk(replayer) as client:
        assert client.chat.completions.create(**request).choices[0].message.content == recorded


def test_a_recording_file_that_is_not_utf8_is_pointed_at(tmp_path):
    (tmp_path / "openai.yaml").write_bytes(b"scenarios: []\n# caf\xe9\n")
    with pytest.raises(ConfigError) as caught:
        MockServer(record=["http://127.0.0.1:9/v1"], record_to=str(tmp_path)).start()
    assert str(caught.value) == (
        f"{tmp_path / 'openai.yaml'}:2:6: not valid YAML: byte 0xe9 is not UTF-8 "
        "(invalid continuation byte); save the file as UTF-8"
    )
    (tmp_path / "openai.yaml").write_bytes("scenarios: []\n".encode("utf-16"))  # YAML takes it
    with pytest.raises(ConfigError) as caught:
        MockServer(record=["http://127.0.0.1:9/v1"], record_to=str(tmp_path)).start()
    assert str(caught.value) == (
        f"{tmp_path / 'openai.yaml'}: cannot record into it: not UTF-8; save the file as UTF-8"
    )


def chunk(delta: dict, finish_reason: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    event = {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [choice]}
    return b"data: " + json.dumps(event).encode() + b"\n\n"


class _Streamer(http.server.BaseHTTPRequestHandler):
    """A chat stream that ends with the connection, without ``data: [DONE]``; ``finished``:
    whether its last chunk carries a ``finish_reason``."""

    finished = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(chunk({"role": "assistant", "content": "Hello"}))
        self.wfile.write(chunk({"content": " there"}, "stop" if self.finished else None))

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def streamer() -> Iterator[tuple[str, type[_Streamer]]]:
    handler = type("Streamer", (_Streamer,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    server.shutdown()
    server.server_close()


def streamed(server: MockServer) -> str:
    with sdk(server) as client:
        chunks = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_a_stream_ended_cleanly_without_done_is_recorded(streamer, tmp_path):
    url, _ = streamer
    with MockServer(record=[url], record_to=str(tmp_path)) as recorder:
        assert streamed(recorder) == "Hello there"
        assert recorder.requests[-1]["recorded"]
    with MockServer(scenarios=[str(tmp_path)], strict=True) as replayer:
        assert streamed(replayer) == "Hello there"


def test_a_stream_ended_before_its_finish_reason_says_why_it_is_not_recorded(
    streamer, tmp_path, caplog
):
    url, handler = streamer
    handler.finished = False
    with MockServer(record=[url], record_to=str(tmp_path)) as recorder:
        assert streamed(recorder) == "Hello there"
        assert recorder.requests[-1]["recorded"] is None
    assert "not recorded: it ended without data: [DONE], before a finish_reason" in caplog.text


def test_a_404_for_a_path_the_upstream_does_not_serve_is_relayed_not_recorded(
    numbered, tmp_path, caplog
):
    wrong = MockServer(record=[f"{numbered.url}/v9"], record_to=str(tmp_path))  # not its base
    with wrong as recorder, sdk(recorder) as client:
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
            )
        assert recorder.requests[-1]["recorded"] is None
    assert "is the --record URL its API's base" in caplog.text
    with recording(numbered, tmp_path) as recorder, sdk(recorder) as client:  # the right one
        answer = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]
        )
        assert answer.choices[0].message.content == "answer 1"


def test_a_file_the_recorder_did_not_write_is_not_recorded_into(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # --record-to '': tenants record into files they name, here
    config = "# the project's settings\nscenarios: [scenarios/]\napi_keys: [sk-test]\n"
    (tmp_path / "mock-server.yaml").write_text(config)
    recorder = MockServer(record=["http://127.0.0.1:9/v1"], record_to="")
    with recorder, recorder.tenant("t") as handle, pytest.raises(AdminError) as caught:
        handle.record(tmp_path / "mock-server.yaml")
    assert "cannot record into it: the recorder did not write it" in str(caught.value)
    assert (tmp_path / "mock-server.yaml").read_text() == config


def test_a_file_name_past_the_systems_bound_is_refused_in_words(tmp_path):
    recorder = MockServer(record=["http://127.0.0.1:9/v1"], record_to=str(tmp_path))
    with recorder, recorder.tenant("t") as handle, pytest.raises(AdminError) as caught:
        handle.record(tmp_path / ("x" * 300 + ".yaml"))
    assert "400: cannot record into that file: File name too long" in str(caught.value)
    assert str(tmp_path) not in str(caught.value)  # the error names no path of the machine


def test_a_folder_that_leads_out_of_the_root_once_opened_is_not_written_into(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "sub").symlink_to(outside)  # what a link swapped in after the path's check gives
    with pytest.raises(ValueError, match="is now"):
        _opened(root / "sub", root.resolve())
    assert list(outside.iterdir()) == []


def test_a_recording_file_an_editor_saved_with_a_mark_and_a_line_of_its_own_is_recorded_into(
    tmp_path,
):
    path = tmp_path / "t.yaml"
    text = (
        "\ufeff# yaml-language-server: $schema=x.json\n# Recorded by mock-server\nscenarios: []\n"
    )
    path.write_text(text, encoding="utf-8")
    recorder = MockServer(record=["http://127.0.0.1:9/v1"], record_to=str(tmp_path))
    with recorder, recorder.tenant("t") as handle:
        handle.record(path)  # taken: no AdminError
