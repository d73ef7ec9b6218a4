"""What a reasoning model does not take, refused as the live API refuses it.

A profile names its reasoning models (``reasoning_models``: ``o1``, ``o3``, ``gpt-5`` ... and the
dated snapshots they answer as). Sampling settings other than their defaults are refused, in
each API's words as OpenAI's users quote them:

- chat completions: ``Unsupported value: 'temperature' does not support 0.7 with this model.
  Only the default (1) value is supported.`` (code ``unsupported_value``; ``top_p`` alike), and
  ``Unsupported parameter: 'max_tokens' is not supported with this model. Use
  'max_completion_tokens' instead.`` (code ``unsupported_parameter``); ``logprobs`` asked for is
  a 403, ``You are not allowed to request logprobs from this model`` (code null: an o4-mini
  answer quoted in confident-ai/deepeval#2184, 2025); and for a model the profile lists that
  does not reason, ``Unsupported parameter: 'reasoning_effort' is not supported with this
  model.`` (param ``reasoning_effort``, code ``unsupported_parameter``, as client libraries'
  tests quote the live answer);
- Responses: ``Unsupported parameter: 'temperature' is not supported with this model.`` (code
  null: vercel/ai's recorded answer ``reasoning-model-temperature-error.json``), and for a model
  the profile lists that does not reason, ``Unsupported parameter: 'reasoning.effort' is not
  supported with this model.`` (code ``unsupported_parameter``).

Models a profile does not list are not checked: a name it does not know may be a model that
takes them.
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError
from ..providers import Profile

SAMPLING_DEFAULTS = {"temperature": 1, "top_p": 1}


def check_chat(body: dict[str, Any], profile: Profile) -> None:
    """A chat request checked for what its model does not take."""
    model = body.get("model")
    if not profile.reasons(model):
        if body.get("reasoning_effort") is not None and model in profile.models:
            raise _unsupported("reasoning_effort", "unsupported_parameter")
        return
    if body.get("max_tokens") is not None:
        raise ApiError(
            "400",
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
            "'max_completion_tokens' instead.",
            param="max_tokens",
            code="unsupported_parameter",
        )
    changed = _changed_sampling(body)
    if changed:
        name, value, default = changed[0]
        raise ApiError(
            "400",
            f"Unsupported value: '{name}' does not support {value} with this model. Only the "
            f"default ({default}) value is supported.",
            param=name,
            code="unsupported_value",
        )
    if body.get("logprobs"):
        raise ApiError(
            "403",
            status=403,
            message="You are not allowed to request logprobs from this model",
            type="invalid_request_error",
            code=None,
        )


def check_responses(body: dict[str, Any], profile: Profile) -> None:
    """A Responses request checked for what its model does not take."""
    model = body.get("model")
    if profile.reasons(model):
        changed = _changed_sampling(body)
        if changed:
            raise _unsupported(changed[0][0], None)
    elif model in profile.models and (body.get("reasoning") or {}).get("effort") is not None:
        raise _unsupported("reasoning.effort", "unsupported_parameter")


def _changed_sampling(body: dict[str, Any]) -> list[tuple[str, str, int]]:
    """The sampling settings ``body`` gives other than their defaults: name, value as sent,
    default."""
    return [
        (name, _number(body[name]), default)
        for name, default in SAMPLING_DEFAULTS.items()
        if body.get(name) is not None and body[name] != default
    ]


def _number(value: Any) -> str:
    """A number as the request wrote it: ``0.7``, ``0``."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _unsupported(name: str, code: str | None) -> ApiError:
    return ApiError(
        "400",
        message=f"Unsupported parameter: '{name}' is not supported with this model.",
        type="invalid_request_error",
        param=name,
        code=code,
    )
