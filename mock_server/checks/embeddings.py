"""Checking an embeddings request (``POST .../embeddings``), as OpenAI checks it.

First the profile's embeddings schema (``api_request_schemas.embeddings``: types, required and
unknown fields, in the profile's wording), then what a schema cannot say, in OpenAI's words as
its answers show them:

- ``input`` empty, an empty string or token array among its items, more than ``MAX_INPUTS``
  items, or of a shape the API does not take: 400 ``'$.input' is invalid. Please check the API
  reference: ...`` (openai/openai-python#576, embeddings-benchmark/mteb#1200);
- an input over the model's token limit: 400 ``Invalid 'input': maximum context length is 8192
  tokens.`` (as OpenAI words it in 2026; neo4j-labs/agent-memory#104);
- ``encoding_format`` other than ``float`` or ``base64``: 400 ``Invalid value for
  'encoding_format' = md5. Supported values: ['float', 'base64'].`` (lm-sys/FastChat#2281);
- ``dimensions`` for a model that cannot shorten its vectors (``text-embedding-ada-002``): 400
  ``This model does not support specifying dimensions.`` (SciPhi-AI/R2R#768); outside 1 to the
  model's size: 400 ``Invalid value for 'dimensions' = N. Must be between 1 and D.`` (our
  wording: no capture of OpenAI's was found);
- inputs of more than ``MAX_REQUEST_TOKENS`` tokens together: 400 ``Requested 453357 tokens,
  max 300000 tokens per request``, type and code ``max_tokens_per_request``
  (OpenDataBox/CrackSQL#27, assafelovic/gpt-researcher#1524);
- a chat model the profile lists: 403 ``You are not allowed to generate embeddings from this
  model`` (infiniflow/ragflow#1835);
- with ``unknown_models: reject``, a model the profile does not list: 404 ``model_not_found``.

Token arrays are made integers only once their number and lengths are known to be within
bounds, so a hostile body costs no more than an accepted one; a token id below 0 or from
``MAX_TOKEN_ID`` on is an input of a shape the API does not take (the 400 above).

Each 400 has ``param`` and ``code`` null, as OpenAI sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ApiError
from ..providers import DEFAULT_EMBEDDING_MODEL, EmbeddingModel, Profile
from ..tokens import count_tokens
from .request import schema_error
from .schema import Invalid

MAX_INPUTS = 2048
MAX_REQUEST_TOKENS = 300_000
# Above any tokenizer's ids (cl100k_base has 100,277, o200k_base 200,019): a token id is a
# vector's word, and one of 300 digits (``1e308``) cost a thousand times a real one.
MAX_TOKEN_ID = 2**31
ENCODINGS = ("float", "base64")
INVALID_INPUT = (
    "'$.input' is invalid. Please check the API reference: "
    "https://platform.openai.com/docs/api-reference."
)

Input = str | list[int]  # one text, or one token array


@dataclass(frozen=True, slots=True)
class EmbeddingsRequest:
    """A checked embeddings request: its inputs (each a text or a token array), their tokens,
    the model and its vector size, and how the vectors are written."""

    inputs: list[Input]
    tokens: list[int]
    model: str
    spec: EmbeddingModel
    dimensions: int
    encoding: str


def check_embeddings(body: dict[str, Any], profile: Profile) -> EmbeddingsRequest:
    """``body`` checked as ``profile``'s provider checks an embeddings request; raises
    ``ApiError`` for one it refuses (see the module docstring)."""
    checks = profile.api_checks["embeddings"]
    try:
        checks.check(body)
    except Invalid as invalid:
        if invalid.reversed_path and invalid.top_level_field == "input":
            raise _invalid_input() from None
        raise schema_error(invalid, profile, body, checks.known_fields) from None
    items = _items(body["input"])
    if not items or len(items) > MAX_INPUTS or not all(items):
        raise _invalid_input()
    model = body["model"]
    spec = profile.embedding_models.get(model)
    if spec is None:
        if model in profile.models or model in profile.model_aliases:
            raise ApiError(
                "403",
                status=403,
                message="You are not allowed to generate embeddings from this model",
                type="invalid_request_error",
                code=None,
            )
        if profile.reject_unknown_models:
            raise ApiError("404", values={"model": model}, param="model", code="model_not_found")
        spec = DEFAULT_EMBEDDING_MODEL
    encoding = body.get("encoding_format", "float")
    if encoding not in ENCODINGS:
        raise _refused(
            f"Invalid value for 'encoding_format' = {encoding}. Supported values: "
            f"{list(ENCODINGS)}."
        )
    dimensions = body.get("dimensions")
    if dimensions is not None:
        dimensions = int(dimensions)
        if not spec.shortens:
            raise _refused("This model does not support specifying dimensions.")
        if not 1 <= dimensions <= spec.dimensions:
            raise _refused(
                f"Invalid value for 'dimensions' = {dimensions}. Must be between 1 and "
                f"{spec.dimensions}."
            )
    tokens = [count_tokens(item) if isinstance(item, str) else len(item) for item in items]
    if max(tokens) > spec.max_tokens:
        raise _refused(f"Invalid 'input': maximum context length is {spec.max_tokens} tokens.")
    if sum(tokens) > MAX_REQUEST_TOKENS:
        raise ApiError(
            "400",
            message=f"Requested {sum(tokens)} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
            type="max_tokens_per_request",
            code="max_tokens_per_request",
        )
    # Integral decimals (2.0) count as integers, as for chat.
    inputs = [item if isinstance(item, str) else list(map(int, item)) for item in items]
    if any(not isinstance(item, str) and not 0 <= min(item) <= max(item) < MAX_TOKEN_ID
           for item in inputs):  # fmt: skip
        raise _invalid_input()
    return EmbeddingsRequest(inputs, tokens, model, spec, dimensions or spec.dimensions, encoding)


def _items(value: Any) -> list[Any]:
    """``input`` (schema-checked) as a list of inputs: a string, or one token array (its first
    item a number), is one input."""
    if isinstance(value, str) or (value and isinstance(value[0], int | float)):
        return [value]
    return value


def _invalid_input() -> ApiError:
    return _refused(INVALID_INPUT)


def _refused(message: str) -> ApiError:
    return ApiError("400", message=message, type="invalid_request_error", code=None)
