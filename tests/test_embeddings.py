"""Embeddings through the openai SDK and raw HTTP: the wire the SDK decodes, vectors that rank
sensibly and are the same in every process, OpenAI's errors, scenarios and the profiles that
serve the API (docs/embeddings.md)."""

from __future__ import annotations

import base64
import json
import math
import struct
import subprocess
import sys

import openai
import pytest
import yaml
from conftest import made, post_json

from mock_server.config import Settings
from mock_server.engine.loading import ScenarioProblems, load_paths, parse_scenarios
from mock_server.errors import ConfigError
from mock_server.server.app import create_app
from mock_server.testing.runner import MockServer

SMALL = "text-embedding-3-small"
INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)
# A paraphrase sharing most words scores above an unrelated text by at least this much.
MARGIN = 0.3


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture
def client(tenant):
    with tenant.client() as sdk:
        yield sdk


def test_the_sdks_default_call_decodes_and_both_formats_agree(client):
    plain = client.embeddings.create(model=SMALL, input="The cat sat on the mat")
    assert len(plain.data[0].embedding) == 1536  # the SDK asked for base64 and decoded it
    floats = client.embeddings.create(
        model=SMALL, input="The cat sat on the mat", encoding_format="float"
    )
    assert floats.data[0].embedding == plain.data[0].embedding
    assert math.isclose(cosine(plain.data[0].embedding, plain.data[0].embedding), 1, abs_tol=1e-6)
    assert (plain.model, plain.usage.prompt_tokens, plain.usage.total_tokens) == (SMALL, 6, 6)


@pytest.mark.parametrize("strict", [False, True])
def test_vectors_need_no_scenario_and_are_not_unmatched(tenant, client, strict):
    """The vectors are the API's own answer: strict mode does not refuse a request that no
    scenario answers, the journal does not count it unmatched (so the pytest fixture does not
    fail the test at teardown), and shows its last input as the last user message."""
    tenant.admin("POST", "/settings", {"strict": strict})
    vectors = client.embeddings.create(model=SMALL, input=["How do I reset it?", "Settings"])
    assert len(vectors.data) == 2
    assert tenant.requests(unmatched="true") == []
    assert tenant.requests()[0]["last_user_message"] == "Settings"
    assert tenant.requests()[0]["unmatched"] is False
    # A token array (LangChain's OpenAIEmbeddings sends them) as matching sees it: its numbers.
    for given in ([[4438, 656], [358, 7738]], [358, 7738]):
        client.embeddings.create(model=SMALL, input=given)
        assert tenant.requests()[-1]["last_user_message"] == "358 7738"


def test_the_wire_is_openais(server):
    body = {"model": SMALL, "input": ["one", "two"], "encoding_format": "base64"}
    response = post_json(server, "/v1/embeddings", body)
    assert response.status == 200
    answer = response.json()
    assert list(answer) == ["object", "data", "model", "usage"]
    assert answer["object"] == "list"
    assert [list(item) for item in answer["data"]] == [["object", "index", "embedding"]] * 2
    assert [item["index"] for item in answer["data"]] == [0, 1]
    raw = base64.b64decode(answer["data"][0]["embedding"])
    vector = struct.unpack(f"<{len(raw) // 4}f", raw)  # little-endian float32, as OpenAI sends
    assert len(vector) == 1536 and math.isclose(math.fsum(x * x for x in vector), 1, rel_tol=1e-5)


@pytest.mark.parametrize(
    "model, size, named",
    [
        (SMALL, 1536, SMALL),
        ("text-embedding-3-large", 3072, "text-embedding-3-large"),
        ("text-embedding-ada-002", 1536, "text-embedding-ada-002-v2"),
        ("my-own-embedder", 1536, "my-own-embedder"),
    ],
)
def test_each_model_has_its_size(client, model, size, named):
    answer = client.embeddings.create(model=model, input="hello")
    assert (len(answer.data[0].embedding), answer.model) == (size, named)


def test_dimensions_shorten_and_renormalise(client):
    whole = client.embeddings.create(model="text-embedding-3-large", input="a red fox")
    short = client.embeddings.create(
        model="text-embedding-3-large", input="a red fox", dimensions=256
    )
    vector = short.data[0].embedding
    assert len(vector) == 256
    assert math.isclose(math.fsum(x * x for x in vector), 1, rel_tol=1e-5)
    head = whole.data[0].embedding[:256]
    norm = math.sqrt(math.fsum(x * x for x in head))
    assert vector == pytest.approx([x / norm for x in head], abs=1e-6)


def test_lists_and_token_arrays_come_back_indexed_in_order(client):
    texts = ["first text", "second text", "third"]
    answer = client.embeddings.create(model=SMALL, input=texts)
    assert [item.index for item in answer.data] == [0, 1, 2]
    one_by_one = [client.embeddings.create(model=SMALL, input=t).data[0].embedding for t in texts]
    assert [item.embedding for item in answer.data] == one_by_one
    tokens = client.embeddings.create(model=SMALL, input=[[1, 2, 3], [4, 5]])
    assert [item.index for item in tokens.data] == [0, 1]
    assert tokens.usage.prompt_tokens == 5
    single = client.embeddings.create(model=SMALL, input=[1, 2, 3])
    assert single.data[0].embedding == tokens.data[0].embedding


def test_a_paraphrase_is_closer_than_an_unrelated_text(client):
    texts = [
        "The quick brown fox jumps over the lazy dog.",
        "the quick brown foxes jumped over a lazy dog",
        "Quarterly revenue grew five percent on strong subscription sales.",
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
    ]
    fox, paraphrase, revenue, shouted = (
        item.embedding for item in client.embeddings.create(model=SMALL, input=texts).data
    )
    assert cosine(fox, paraphrase) > cosine(fox, revenue) + MARGIN
    assert cosine(fox, shouted) == pytest.approx(1, abs=1e-6)  # case and punctuation: nothing


def test_the_same_text_gives_the_same_vector_in_another_process(client):
    here = client.embeddings.create(model=SMALL, input="deterministic across runs").data[0]
    code = (
        "import json, sys; from mock_server.testing.runner import MockServer; import openai\n"
        "with MockServer() as s:\n"
        "    c = openai.OpenAI(base_url=s.base_url, api_key='sk-test', max_retries=0)\n"
        "    v = c.embeddings.create(model=sys.argv[1], input=sys.argv[2]).data[0].embedding\n"
        "    print(json.dumps(v))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, SMALL, "deterministic across runs"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    )
    assert json.loads(done.stdout) == here.embedding


@pytest.mark.parametrize(
    "body, message",
    [
        ({"input": ""}, INVALID_INPUT),
        ({"input": []}, INVALID_INPUT),
        ({"input": ["fine", ""]}, INVALID_INPUT),
        ({"input": ["x"] * 2049}, INVALID_INPUT),
        ({"input": [["a"]]}, INVALID_INPUT),
        ({"input": "x", "model": "text-embedding-ada-002", "dimensions": 8},
         "This model does not support specifying dimensions."),
        ({"input": "x", "dimensions": 1537},
         "Invalid value for 'dimensions' = 1537. Must be between 1 and 1536."),
        ({"input": "x", "encoding_format": "md5"},
         "Invalid value for 'encoding_format' = md5. Supported values: ['float', 'base64']."),
        ({"input": "word " * 9000}, "Invalid 'input': maximum context length is 8192 tokens."),
        ({"input": [1, -1]}, INVALID_INPUT),
        ({"input": [[1], [2**31]]}, INVALID_INPUT),
        ({"input": [1e308]}, INVALID_INPUT),  # a 309-digit word: a thousand times the work
    ],
)  # fmt: skip
def test_what_openai_refuses_is_refused_in_its_words(server, body, message):
    response = post_json(server, "/v1/embeddings", {"model": SMALL, **body})
    assert response.status == 400
    assert response.json() == {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    }


def test_more_than_300000_tokens_a_request_is_refused_as_openai_refuses_it(server):
    body = {"model": SMALL, "input": [[7] * 8000] * 40}  # 320,000 tokens, each input allowed
    response = post_json(server, "/v1/embeddings", body)
    assert response.status == 400
    assert response.json() == {
        "error": {
            "message": "Requested 320000 tokens, max 300000 tokens per request",
            "type": "max_tokens_per_request",
            "param": None,
            "code": "max_tokens_per_request",
        }
    }


def test_a_chat_model_is_not_allowed_to_embed(client):
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.embeddings.create(model="gpt-4o", input="x")
    assert caught.value.body["message"] == (
        "You are not allowed to generate embeddings from this model"
    )


@pytest.mark.parametrize(("text", "dimensions"), [("?", None), ("hello", 1), ("hello", 64)])
def test_every_vector_has_unit_length(client, text, dimensions):
    """No zero vector, as OpenAI answers none: a text with no word, or none in the first
    ``dimensions`` numbers, gets one position of its own."""
    options = {} if dimensions is None else {"dimensions": dimensions}
    (item,) = client.embeddings.create(model=SMALL, input=[text], **options).data
    assert math.isclose(math.fsum(x * x for x in item.embedding), 1.0, rel_tol=1e-6)


def test_a_request_of_many_tokens_is_computed_in_a_worker_thread(client):
    texts = [" ".join(f"w{i}x{j}" for j in range(900)) for i in range(10)]  # some 18,000 tokens
    answer = client.embeddings.create(model=SMALL, input=texts, encoding_format="float")
    assert [item.index for item in answer.data] == list(range(10))
    assert all(len(item.embedding) == 1536 for item in answer.data)
    assert answer.usage.prompt_tokens > 8000


def test_types_and_unknown_fields_are_refused_as_for_chat(server):
    response = post_json(server, "/v1/embeddings", {"input": "x"})
    assert response.json()["error"]["message"] == "you must provide a model parameter"
    response = post_json(server, "/v1/embeddings", {"model": SMALL, "input": "x", "top_k": 1})
    assert response.json()["error"]["message"] == "Unknown parameter: 'top_k'."
    response = post_json(
        server, "/v1/embeddings", {"model": SMALL, "input": "x", "dimensions": "8"}
    )
    assert response.json()["error"]["param"] == "dimensions"


def test_an_empty_input_is_a_bad_request_error_in_the_sdk(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=SMALL, input=[])
    assert caught.value.body["message"] == INVALID_INPUT


def test_scenarios_script_errors_and_fixed_vectors_for_embeddings_only(tenant, client):
    tenant.add(
        [
            {
                "name": "quota",
                "match": {"api": "embeddings", "last_user_message": {"contains": "over quota"}},
                "reply": {"status": 429},
            },
            {
                "name": "fixed",
                "match": {"api": "embeddings", "turn": 2},
                "reply": {"embeddings": [[1, 0, 0], [0, 1, 0]]},
            },
            {"name": "chat", "match": {"api": "chat_completions"}, "reply": {"content": "chat"}},
        ]
    )
    with pytest.raises(openai.RateLimitError):
        client.embeddings.create(model=SMALL, input="we are over quota")
    fixed = client.embeddings.create(model=SMALL, input=["a", "b"], encoding_format="float")
    assert [item.embedding for item in fixed.data] == [[1, 0, 0], [0, 1, 0]]
    cut = client.embeddings.create(model=SMALL, input=["a", "b"], dimensions=2)
    assert [len(item.embedding) for item in cut.data] == [2, 2]
    computed = client.embeddings.create(model=SMALL, input="over the moon")
    assert len(computed.data[0].embedding) == 1536
    chat = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}]
    )
    assert chat.choices[0].message.content == "chat"
    entries = [entry for entry in tenant.requests() if entry["api"] == "embeddings"]
    assert [entry["scenario"] for entry in entries] == ["quota", "fixed", "fixed", None]
    assert entries[1]["response"] == {
        "object": "list",
        "vectors": 2,
        "dimensions": 3,
        "encoding_format": "float",
        "model": SMALL,
        "usage": {"prompt_tokens": 2, "total_tokens": 2},
    }


def test_googles_endpoint_serves_embeddings_and_seed_profiles_do_not(server):
    body = {"model": "gemini-embedding-001", "input": "hello", "dimensions": 768}
    response = post_json(server, "/google/v1beta/openai/embeddings", body)
    assert response.status == 200
    assert len(response.json()["data"][0]["embedding"]) == 768
    for path in ("/gomodel/v1/embeddings", "/deepseek/v1/embeddings", "/gemini/v1/embeddings"):
        response = post_json(server, path, {"model": SMALL, "input": "x"})
        assert response.status == 404
        assert response.json()["error"]["message"] == f"Invalid URL (POST {path})"


def test_a_request_too_large_to_answer_is_refused_before_it_is_computed(server):
    body = {"model": "text-embedding-3-large", "input": ["x"] * 2048, "encoding_format": "float"}
    response = post_json(server, "/v1/embeddings", body)
    assert response.status == 400
    assert response.json()["error"]["code"] == "response_too_large"


def test_a_batch_of_texts_as_json_numbers_is_answered(server):
    """What the Vercel AI SDK's ``embedMany`` sends (``encoding_format: float``, hundreds of
    inputs): the estimate counts a zero at what it takes, and the vectors of short texts are
    mostly zeros."""
    texts = [f"document {i} about the weather in Lisbon" for i in range(800)]
    body = {"model": "text-embedding-3-large", "input": texts, "encoding_format": "float"}
    response = post_json(server, "/v1/embeddings", body)
    assert response.status == 200, response.body[:300]
    assert response.body.count(b'"object": "embedding"') == 800


@pytest.mark.parametrize("indent", [0, 2, 4])
def test_the_size_estimate_bounds_what_is_written_in_any_indentation(tmp_path, indent):
    """A reply the estimate lets through under ``max_response_bytes`` is never larger: a limit
    one byte under what an answer takes refuses the same request."""
    profile = tmp_path / "spaced.yaml"
    profile.write_text(f"name: spaced\nextends: openai\nbody_format: {{indent: {indent}}}\n")
    texts = [f"hello world {i} of many words in a longer sentence" for i in range(40)]
    body = {"model": "text-embedding-3-large", "input": texts, "encoding_format": "float"}
    with MockServer(profile_files=[str(profile)]) as server:
        written = len(post_json(server, "/spaced/v1/embeddings", body).body)
    with MockServer(profile_files=[str(profile)], max_response_bytes=written - 1) as server:
        refused = post_json(server, "/spaced/v1/embeddings", body)
    assert refused.status == 400 and refused.json()["error"]["code"] == "response_too_large"


def test_a_user_profile_turns_embeddings_on_and_must_give_their_schema(tmp_path):
    lacking = tmp_path / "lacking.yaml"
    lacking.write_text("name: lacking\nextends: gomodel\napis: [chat_completions, embeddings]\n")
    with pytest.raises(ConfigError, match="'lacking' cannot serve embeddings: it gives no request"):
        create_app(Settings(profile_files=[str(lacking)]))
    turned_on = tmp_path / "mine.yaml"
    turned_on.write_text(
        "name: mine\nextends: gomodel\napis: [chat_completions, embeddings]\n"
        "api_request_schemas: {embeddings: openai.embeddings.request.json}\n"
        "embedding_models: {tiny: {dimensions: 8}}\n"
    )
    with MockServer(profile_files=[str(turned_on)]) as server:
        response = post_json(server, "/mine/v1/embeddings", {"model": "tiny", "input": "hi"})
        assert response.status == 200
        assert len(response.json()["data"][0]["embedding"]) == 8


def test_the_log_line_says_how_many_vectors_of_what_size(capsys):
    with MockServer(log_format="text") as logged:
        post_json(logged, "/v1/embeddings", {"model": SMALL, "input": ["a", "b"], "dimensions": 64})
        logged.add({"name": "fixed", "reply": {"embeddings": [[1, 0, 0]]}})
        post_json(logged, "/v1/embeddings", {"model": SMALL, "input": ["a", "b"]})
    first, scripted = capsys.readouterr().out.splitlines()  # flushed as the server stops
    assert "POST /v1/embeddings openai text-embedding-3-small 200 fallback 2 vectors of 64" in first
    assert " 200 fixed#1 2 vectors of 3 " in scripted  # the scenario's vectors, as sent


def test_integral_decimals_count_as_integers(server):
    body = {"model": SMALL, "input": [1.0, 2], "dimensions": 16.0}
    response = post_json(server, "/v1/embeddings", body)
    assert response.status == 200, response.body
    answer = response.json()
    assert len(answer["data"]) == 1 and answer["usage"]["prompt_tokens"] == 2
    assert len(answer["data"][0]["embedding"]) == 16


def test_an_embeddings_request_saved_as_a_scenario_is_one_for_embeddings(tenant, client):
    client.embeddings.create(model=SMALL, input="saved")
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=SMALL, input="")
    ok, refused = (entry["id"] for entry in tenant.requests())
    for wanted, reply in ((ok, {}), (refused, {"status": 400})):
        text = tenant.admin("GET", f"/requests/{wanted}/scenario").body.decode()
        assert parse_scenarios(text, source="export")  # it loads
        (scenario,) = yaml.safe_load(text)["scenarios"]
        assert scenario["match"] == {"api": "embeddings", "model": SMALL}
        assert {k: v for k, v in scenario["reply"].items() if k == "status"} == reply


def test_the_models_list_has_the_embedding_models():
    """``GET .../models`` lists the embedding models the profile serves, and with unknown
    models refused ``GET .../models/{id}`` knows them."""
    with MockServer(unknown_models="reject") as server:
        sdk = made(openai.OpenAI(base_url=server.base_url, api_key=server.api_key))
        listed = [model.id for model in sdk.models.list()]
        assert "text-embedding-3-small" in listed and "gpt-4o" in listed
        assert len(listed) == len(set(listed))
        assert sdk.models.retrieve("text-embedding-3-large").id == "text-embedding-3-large"
        with pytest.raises(openai.NotFoundError):
            sdk.models.retrieve("text-embedding-4-none")


def test_a_scripted_vector_is_held_to_what_32_bit_floats_hold(tmp_path):
    """A vector is sent as 32-bit floats: a scripted value past their range would be sent as
    ``null`` (or ``inf`` in base64); the file is refused, in one problem at its place."""
    path = tmp_path / "big.yaml"
    path.write_text(
        "scenarios:\n  - name: big\n    match: {api: embeddings}\n"
        "    reply: {embeddings: [[1.0e+39, 0.5]]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioProblems) as caught:
        load_paths([str(path)])
    (problem,) = caught.value.problems
    assert problem.endswith(
        "Invalid 'reply.embeddings[0][0]': decimal above maximum value. Expected a value "
        "<= 3.4028234663852886e+38, but got 1e+39 instead."
    )
