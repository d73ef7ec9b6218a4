"""Users' own profile files: ``--profile-file`` with ``extends``, their own schemas and wording."""

from __future__ import annotations

import json

import openai
import pytest

from mock_server.checks.profiles import load_profiles
from mock_server.checks.schema import Invalid
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
            "unkown_fields: reject\n",
            "unknown profile key(s) 'unkown_fields' (did you mean 'unknown_fields'?)",
        ),
        ("auth: maybe\n", "auth must be one of required, optional"),
        ('errors:\n  "429": {message: no type}\n', "malformed profile (KeyError: 'type')"),
        ("request_schema: nowhere.json\n", "request_schema 'nowhere.json' is not in"),
    ],
)
def test_profile_file_mistakes_are_reported(profile_file, text, expected):
    profile_file.write_text(PROFILE + text)
    with pytest.raises(ConfigError) as caught:
        load_profiles([profile_file])
    assert expected in str(caught.value)


def test_unreadable_user_schema(tmp_path, profile_file):
    (tmp_path / "my-gateway.request.json").write_text("{not json")
    with pytest.raises(ConfigError) as caught:
        load_profiles([profile_file])
    assert "cannot read JSON Schema" in str(caught.value)


def test_unknown_default_profile():
    with pytest.raises(ConfigError) as caught:
        load_profiles(default="nope")
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
