"""Users' own profile files: ``--profile-file`` with ``extends``, their own schemas and wording."""

from __future__ import annotations

import json

import openai
import pytest

from mock_server.checks.profiles import PROFILE_SHAPE, SCHEMA_DIR, load_profiles
from mock_server.checks.schema import Invalid
from mock_server.checks.verdicts import fast_verdicts
from mock_server.cli import main
from mock_server.errors import ConfigError
from mock_server.testing.runner import MockServer

PROFILE = """\
name: my-gateway
extends: openai
request_schema: my-gateway.request.json
paths: [/v1]
unknown_fields: accept
value_error_status: 422
errors:
  "422": {type: validation_error, code: bad_value, message: "Rejected: {detail}"}
"""
SCHEMA = {
    "type": "object",
    "properties": {
        "model": {"type": "string", "enum": ["house-model"]},
        "messages": {"type": "array", "minItems": 1},
    },
    "required": ["model", "messages"],
}


@pytest.fixture
def profile_file(tmp_path):
    (tmp_path / "my-gateway.request.json").write_text(json.dumps(SCHEMA))
    path = tmp_path / "my-gateway.yaml"
    path.write_text(PROFILE)
    return path


def test_own_profile_is_served_with_its_schema_and_wording(profile_file):
    with (
        MockServer(profile_files=[str(profile_file)]) as server,
        openai.OpenAI(
            base_url=server.url + "/my-gateway/v1", api_key="sk-x", max_retries=0
        ) as client,
    ):
        ok = client.chat.completions.create(
            model="house-model",
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"extra": 1},
        )
        assert ok.choices[0].message.content == "This is a mock response to: hi"
        assert ok.system_fingerprint.startswith("fp_")  # inherited response extras
        with pytest.raises(openai.UnprocessableEntityError) as caught:
            client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
        assert caught.value.body["message"].startswith("Rejected: Invalid value: 'gpt-4o'.")
        # The rule that failed names the code; the catalog gives type and wording.
        assert (caught.value.type, caught.value.code, caught.value.param) == (
            "validation_error",
            "invalid_value",
            "model",
        )
        with pytest.raises(openai.AuthenticationError):  # inherited: a key is required
            client.chat.completions.create(
                model="house-model",
                messages=[{"role": "user", "content": "hi"}],
                extra_headers={"Authorization": ""},
            )


def test_invalid_user_schema_is_refused(tmp_path, profile_file):
    (tmp_path / "my-gateway.request.json").write_text(json.dumps({"type": "objekt"}))
    with pytest.raises(ConfigError) as caught:
        load_profiles([profile_file])
    assert "not a valid JSON Schema" in str(caught.value)


def _nested(levels: int) -> dict:
    schema: dict = {"type": "object"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (
            {"$ref": "https://example.com/request.json"},
            "cannot read JSON Schema: $ref 'https://example.com/request.json': only schema files "
            "beside the profile file, and the bundled ones, are read",
        ),
        (True, "cannot read JSON Schema: a request schema is a JSON object"),
        (_nested(200), "cannot read JSON Schema: it nests more than 128 levels deep"),
        (
            '{"properties": {"a": ' * 3000 + "{}" + "}}" * 3000,
            "cannot read JSON Schema: it nests more than 128 levels deep",
        ),
        (
            {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}},
            "cannot read JSON Schema: $ref '#/$defs/a' leads back to itself without checking "
            "any part of the value",
        ),
        (
            {
                "type": "object",
                "properties": {"x": {"$ref": "#/$defs/a"}},
                "$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}, {"type": "string"}]}},
            },
            "cannot read JSON Schema: $ref '#/$defs/a' leads back to itself without checking "
            "any part of the value",
        ),
    ],
    ids=[
        "fetched",
        "not an object",
        "deep",
        "deeper than the parser goes",
        "cycle",
        "cycle in anyOf",
    ],
)
def test_a_user_schema_that_would_stop_its_checks_is_refused(
    tmp_path, profile_file, schema, expected
):
    text = schema if isinstance(schema, str) else json.dumps(schema)  # a str: written as is
    (tmp_path / "my-gateway.request.json").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_profiles([profile_file])
    assert str(caught.value) == f"{tmp_path / 'my-gateway.request.json'}: {expected}"


@pytest.mark.skipif(fast_verdicts() is None, reason="needs the fast extra")
def test_a_user_schema_file_referring_to_what_is_not_there_stops_start_up(tmp_path, profile_file):
    """Even one no profile names: the fast validators' registry holds every schema file."""
    (tmp_path / "extra.json").write_text(json.dumps({"$ref": "missing.json"}))
    with pytest.raises(ConfigError, match="a request schema refers to what is not there"):
        load_profiles([profile_file])


def test_values_in_a_user_schema_are_not_read_as_references(tmp_path, profile_file):
    schema = {**SCHEMA, "examples": [{"$ref": "https://example.com/x"}]}  # a value, not a schema
    (tmp_path / "my-gateway.request.json").write_text(json.dumps(schema))
    assert load_profiles([profile_file]).get("my-gateway") is not None


def test_a_recursive_user_schema_that_checks_as_it_goes_is_taken(tmp_path, profile_file):
    tree = {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}
    (tmp_path / "my-gateway.request.json").write_text(json.dumps(tree))
    assert load_profiles([profile_file]).get("my-gateway") is not None


def test_unsupported_schema_keyword_is_refused(tmp_path, profile_file):
    (tmp_path / "my-gateway.request.json").write_text(
        json.dumps({**SCHEMA, "patternProperties": {}})
    )
    with pytest.raises(ConfigError) as caught:
        load_profiles([profile_file])
    assert "unsupported schema keyword(s) ['patternProperties']" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "response: 5\n",
            "3:11: Invalid type for 'response': expected an object, but got an integer instead.",
        ),
        (
            "headers: [a]\n",
            "3:10: Invalid type for 'headers': expected an object, but got an array instead.",
        ),
        (
            'errors: {"429": "slow"}\n',
            "3:17: Invalid type for 'errors.429': expected an object, but got a string instead.",
        ),
        ('errors: {"abc": {message: x}}\n', "3:17: Missing required parameter: 'errors.abc.type'."),
        (
            "paths: v1\n",
            "3:8: Invalid type for 'paths': expected an array, but got a string instead.",
        ),
        (
            "paths: [/v1, /v2]\n",
            "3:14: paths[1]: Invalid value: '/v2'. Supported values are: '/v1', '/api/v1', and "
            "'/v1beta/openai'.",
        ),
        (
            "auth: maybe\n",
            "3:7: auth: Invalid value: 'maybe'. Supported values are: 'required' and 'optional'.",
        ),
        (
            "unkown_fields: reject\n",
            "3:1: unknown profile key 'unkown_fields'; did you mean 'unknown_fields'?",
        ),
        ("body_format: {indnet: 2}\n", "3:15: Unknown parameter: 'body_format.indnet'."),
        (
            "embedding_models:\n  small: {dimensions: 0}\n",
            "4:23: Invalid 'embedding_models.small.dimensions': integer below minimum value. "
            "Expected a value >= 1, but got 0 instead.",
        ),
        (
            "auth: optional\nauth: required\n",
            "4:1: not valid YAML: duplicate key 'auth' (first at line 3)",
        ),
        ("auth: [optional\n", "4:1: not valid YAML: did not find expected ',' or ']'"),
    ],
)
def test_profile_file_mistakes_are_reported_where_they_are(tmp_path, text, expected):
    path = tmp_path / "house.yaml"
    path.write_text("name: house\nextends: openai\n" + text)
    with pytest.raises(ConfigError) as caught:
        load_profiles([path])
    assert str(caught.value) == f"{path}:{expected}"


# What a value of the wrong type is said to have been expected to be, for every profile key.
EXPECTED = {
    "a string": (
        "name", "extends", "description", "source", "request_schema", "default_provider",
        "processing_ms_header", "error_code",
    ),
    "an array": ("paths", "models", "strip_fields", "trace_headers", "apis", "reasoning_models"),
    "a boolean": ("keepalive", "retry_headers", "rate_limit_headers"),
    "an integer": ("value_error_status",),
    "a decimal": ("keepalive_interval",),
    "one of 'accept' or 'reject'": ("unknown_fields", "unknown_models"),
    "one of 'required' or 'optional'": ("auth",),
    "one of 'openai' or 'google'": ("error_envelope",),
    "an object": (
        "errors", "response", "model_aliases", "body_format", "error_format", "headers",
        "api_request_schemas", "embedding_models", "reasoning_efforts", "verbosities",
    ),
}  # fmt: skip
WRONG_TYPES = [(key, words) for words, keys in EXPECTED.items() for key in keys]


def test_every_profile_key_has_its_type_checked():
    assert sorted(key for key, _ in WRONG_TYPES) == sorted(PROFILE_SHAPE["properties"])


@pytest.mark.parametrize(("key", "words"), WRONG_TYPES)
def test_a_value_of_the_wrong_type_is_refused_for_every_key(tmp_path, key, words):
    wrong, got = ("[x]", "an array") if words == "an object" else ("{x: 1}", "an object")
    path = tmp_path / "house.yaml"
    path.write_text(f"{key}: {wrong}\n")
    with pytest.raises(ConfigError) as caught:
        load_profiles([path])
    assert str(caught.value) == (
        f"{path}:1:{len(key) + 3}: Invalid type for '{key}': expected {words}, but got {got} "
        "instead."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- extends: openai\n", ":1:1: a profile file holds a mapping of settings"),
        (
            "request_schema: openai.request.json\n",
            ": profile is missing paths, errors (neither given nor inherited through extends)",
        ),
        ("extends: opneai\n", ": extends unknown or circular profile 'opneai'"),
        (
            "extends: openai\nrequest_schema: nowhere.json\n",
            f": request_schema 'nowhere.json' is not in {SCHEMA_DIR}",
        ),
        (  # a line break would end the header and start another one
            'extends: openai\nheaders: {x-team: "ops\\r\\nSet-Cookie: a=b"}\n',
            ": headers: header 'x-team': a value holds no control characters (a line break "
            "ends the header) and at most 8192 characters",
        ),
        (
            "extends: openai\nheaders: {Content-Length: '5'}\n",
            ": headers: header 'Content-Length' is the server's to write: it frames the answer",
        ),
        (
            'extends: openai\nerrors: {"429": {type: x, message: "slow down {"}}\n',
            ": errors.429.message: Single '{' encountered in format string (write a literal "
            "brace as '{{' or '}}')",
        ),
        (
            'extends: openai\nerrors: {"429": {type: x, message: "{0} {}"}}\n',
            ": errors.429.message: {0} is not a name (a field is written {model}, {detail} ...)",
        ),
        (  # a width of 10**8 made every 400 a 100 MB answer, a longer one a 500
            'extends: openai\nerrors: {"400": {type: x, message: "{detail!r:>99999999}"}}\n',
            ": errors.400.message: {detail} is written with a conversion or format: a field is "
            "its name alone",
        ),
        (
            "extends: openai\nerrors: {rate_limt: {type: x, message: m}}\n",
            ": errors: unknown key 'rate_limt'. Did you mean 'rate_limit'?",
        ),
        (
            "extends: openai\nerrors: {'999': {type: x, message: m}}\n",
            ": errors: unknown key '999'. A status is from 100 to 599.",
        ),
        (
            "extends: openai\nresponse: {obfuscaton: true}\n",
            ": response: unknown key 'obfuscaton'. Did you mean 'obfuscation'?",
        ),
        (
            "name: bad/name\nextends: openai\n",
            ": profile name 'bad/name': a name is part of its routes' paths (/NAME/v1/...): "
            "letters, digits, '.', '_' and '-'",
        ),
        (
            "extends: openai\nheaders: {x team: a}\n",
            ": headers: header name 'x team' is not an HTTP token (RFC 9110)",
        ),
    ],
)
def test_profile_file_mistakes_are_reported(tmp_path, text, expected):
    path = tmp_path / "house.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_profiles([path])
    assert str(caught.value) == f"{path}{expected}"


def test_a_profile_without_a_name_is_named_after_its_file(tmp_path):
    path = tmp_path / "house.yaml"
    path.write_text("extends: openai\n")
    names = [profile.name for profile in load_profiles([path])]
    assert names.count("house") == names.count("openai") == 1
    assert load_profiles([path]).get("house").paths == ("/v1",)


def test_serve_stops_on_a_profile_file_mistake_with_the_file_and_reason(tmp_path, capsys):
    path = tmp_path / "house.yaml"
    path.write_text('extends: openai\nerrors: {"429": slow}\n')
    assert main(["serve", "--profile-file", str(path), "--port", "0"]) == 2
    assert capsys.readouterr().err == (
        f"mock-server: {path}:2:17: Invalid type for 'errors.429': expected an object, but got a "
        "string instead.\n"
    )


def test_unreadable_user_schema(tmp_path, profile_file):
    (tmp_path / "my-gateway.request.json").write_text("{not json")
    with pytest.raises(ConfigError) as caught:
        load_profiles([profile_file])
    assert "cannot read JSON Schema" in str(caught.value)


def test_unknown_default_profile():
    with pytest.raises(ConfigError) as caught:
        load_profiles(default="nosuch")
    assert "known profiles: deepseek, gemini, gemini-tools, gomodel, google, openai" in str(
        caught.value
    )


def test_every_bundled_profile_compiles_whichever_is_the_default():
    """Profiles other than the default compile when first asked for: each one compiles, and
    refuses a bad request the same way, whether it is the default or not."""
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "n": "two"}
    names = [profile.name for profile in load_profiles()]
    for name in names:
        verdicts = set()
        for default in names:
            try:
                load_profiles(default=default).get(name).check_request(body)
            except Invalid as refused:
                verdicts.add((refused.path, refused.text))
            else:
                verdicts.add(None)
        assert len(verdicts) == 1, (name, verdicts)
    assert None not in verdicts  # the last profile refuses it (and so was compiled)


def test_a_profile_extending_another_adds_to_its_reasoning_efforts(tmp_path):
    path = tmp_path / "house.yaml"
    path.write_text(
        "name: house\nextends: openai\nreasoning_models: [o3, my-reasoner]\n"
        "reasoning_efforts: {my-reasoner: [high]}\n"
    )
    house = load_profiles([path]).get("house")
    assert house.reasoning_efforts["my-reasoner"] == ("high",)
    assert house.reasoning_efforts["o3"] == ("low", "medium", "high")  # openai's, kept


def test_two_profile_files_of_one_name_stop_the_server(tmp_path, capsys):
    first, second = tmp_path / "a" / "house.yaml", tmp_path / "b" / "house.yaml"
    for path, wording in ((first, "A"), (second, "B")):
        path.parent.mkdir()
        path.write_text(
            f'extends: openai\nerrors: {{"429": {{type: slow, message: "{wording}"}}}}\n'
        )
    again = first.parent.parent / "b" / ".." / "a" / "house.yaml"  # one file, named twice
    assert load_profiles([first, first, again]).get("house") is not None
    argv = ["serve", "--profile-file", str(first), "--profile-file", str(second), "--port", "0"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"mock-server: {second}: profile 'house' is given by {first} too: "
        "each profile file needs a name of its own\n"
    )
