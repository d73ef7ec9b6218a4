"""Every request field the installed openai SDK can send, the ``openai`` profile's schemas know.

The SDK is generated from OpenAI's OpenAPI spec, so a field OpenAI adds to an API shows in its
next release; here it fails until the profile's schema takes it, instead of reaching a user as
a 400 ``Unknown parameter`` the live API would never answer.
"""

from __future__ import annotations

import pytest
from openai.types import embedding_create_params
from openai.types.chat import completion_create_params
from openai.types.responses import response_create_params

from mock_server.checks.profiles import load_profiles

SDK_PARAMS = {
    "chat_completions": completion_create_params.CompletionCreateParamsStreaming,
    "responses": response_create_params.ResponseCreateParamsStreaming,
    "embeddings": embedding_create_params.EmbeddingCreateParams,
}


@pytest.mark.parametrize("api", SDK_PARAMS)
def test_the_schema_knows_every_field_the_sdk_sends(api):
    profile = load_profiles().get("openai")
    known = (
        profile.known_fields if api == "chat_completions" else profile.api_checks[api].known_fields
    )
    params = SDK_PARAMS[api]
    sent = params.__required_keys__ | params.__optional_keys__
    assert sent - known == set(), f"{api}: fields the SDK sends that the schema does not know"
