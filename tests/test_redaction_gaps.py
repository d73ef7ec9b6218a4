"""Redaction of what the journal and saved scenarios show: every header that carries a
credential, credentials run into a name, written in lower case or used as a JSON key, and short
keys, which are masked whole."""

from __future__ import annotations

import json

from mock_server.redaction import Scrubber

KEY_IN_NAME = "bad_param_sk-proj-" + "X7" * 8
KEY_AS_KEY = "sk-proj-KEYNAMESECRET123456"
LOWER_CASE_BEARER = "authorization: bearer abc123def456ghi"
PROSE = "The bearer authentication scheme, as the standard-bearer says."


def test_every_header_that_carries_a_credential_is_masked_and_account_names_are_not(tenant):
    tenant.post(
        {"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]},
        headers={
            "Authorization": "Bearer sk-short1",
            "Proxy-Authorization": "Basic dXNlcjpwYXNzd29yZA==",
            "Ocp-Apim-Subscription-Key": "0123456789abcdef0123456789abcdef",
            "Cookie": "session=s3cr3t-session-value; theme=dark",
            "OpenAI-Organization": "org-mockorganization",
            "OpenAI-Project": "proj_mockproject",
        },
    )
    (entry,) = tenant.requests()
    masked = {
        "authorization": "Bearer *********",  # nine characters: masked whole
        "proxy-authorization": "Basic dXN*************ZA==",
        "ocp-apim-subscription-key": "012*************************cdef",
        "cookie": "ses*********************************dark",
        "openai-organization": "org-mockorganization",
        "openai-project": "proj_mockproject",
    }
    assert {name: entry["headers"][name] for name in masked} == masked


def test_credentials_in_a_name_in_lower_case_or_as_a_key_are_redacted_in_the_journal(tenant):
    """The request names a parameter with a key in it, which the 400 repeats in its message
    and ``param``; prose that only looks like a bearer token is kept."""
    messages = [{"role": "user", "content": f"{LOWER_CASE_BEARER}\n{PROSE}"}]
    refused = tenant.post({"model": "gpt-4o", "messages": messages, KEY_IN_NAME: {KEY_AS_KEY: "v"}})
    assert refused.status == 400 and KEY_IN_NAME in refused.body.decode()  # as OpenAI answers
    (entry,) = tenant.requests()
    shown = json.dumps(entry)
    for secret in ("X7X7X7X7", "KEYNAMESECRET", "abc123def456ghi"):
        assert secret not in shown, secret
    assert entry["body"]["bad_param_[REDACTED]"] == {"[REDACTED]": "v"}
    assert entry["body"]["messages"][0]["content"] == f"authorization: [REDACTED]\n{PROSE}"
    assert "bad_param_[REDACTED]" in entry["response"]["error"]["message"]


def test_a_saved_scenario_leaves_a_key_run_into_a_word_out_and_answers_the_request_again(
    tenant,
):
    """The condition holds a key's shape where the key was: after an underscore, which the
    shape of a key standing alone (``\\bsk-``) would not match again."""
    said = f"Call it with token_{KEY_IN_NAME.removeprefix('bad_param_')} and {LOWER_CASE_BEARER}"
    asked = {"model": "gpt-4o", "messages": [{"role": "user", "content": said}]}
    text = tenant.saved_and_replayed(asked)
    assert "X7X7X7X7" not in text and "abc123def456ghi" not in text


def test_prose_about_bearer_tokens_is_left_as_written_and_two_keys_redacted_alike_are_kept():
    scrubber = Scrubber()
    for prose in ("Use bearer authentication.", "a bearer well-known token", "bearer tokens/x"):
        assert scrubber.text(prose) == prose
    assert scrubber.text("bearer abc123def456") == "[REDACTED]"
    keys = {"sk-abcdefghijkl": 1, "sk-abcdefghijkm": 2, "plain": 3}
    assert scrubber.value(keys) == {"[REDACTED]": 1, "[REDACTED]#2": 2, "plain": 3}
