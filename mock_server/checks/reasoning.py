"""What a model does not take (a reasoning model's settings, a verbosity), refused as the live
API refuses it.

A profile names its reasoning models (``reasoning_models``: ``o1``, ``o3``, ``gpt-5`` ... and the
dated snapshots they answer as). Sampling settings other than their defaults are refused, in
each API's words as OpenAI's users quote them:

- chat completions: ``Unsupported value: 'temperature' does not support 0.7 with this model.
  Only the default (1) value is supported.`` (code ``unsupported_value``; ``top_p`` alike), and
  ``Unsupported parameter: 'max_tokens' is not supported with this model. Use
  'max_completion_tokens' instead.`` (code ``unsupported_parameter``; ``stop`` alike, ``Unsupported
  parameter: 'stop' is not supported with this model.``, as users of gpt-5 and the o-series
  quote it); ``logprobs`` asked for is
  a 403, ``You are not allowed to request logprobs from this model`` (code null: an o4-mini
  answer quoted in confident-ai/deepeval#2184, 2025); and for a model the profile lists that
  does not reason, ``Unsupported parameter: 'reasoning_effort' is not supported with this
  model.`` (param ``reasoning_effort``, code ``unsupported_parameter``, as client libraries'
  tests quote the live answer); a reasoning effort the model does not take
  (``reasoning_efforts``), ``Unsupported value: 'reasoning_effort' does not support 'minimal'
  with this model. Supported values are: 'low', 'medium', and 'high'.`` (code
  ``unsupported_value``; an o-series answer quoted in client libraries' tests; on Responses
  ``'reasoning.effort'``);
- Responses: ``Unsupported parameter: 'temperature' is not supported with this model.`` (code
  null: vercel/ai's recorded answer ``reasoning-model-temperature-error.json``), and for a model
  the profile lists that does not reason, ``Unsupported parameter: 'reasoning.effort' is not
  supported with this model.`` (code ``unsupported_parameter``).

Any model the profile names in ``verbosities``, reasoning or not, refuses a verbosity it does not
take: ``Unsupported value: 'verbosity' does not support 'low' with this model. Supported values
are: 'medium'.`` (code ``unsupported_value``, as client libraries' tests quote the live answer; on
Responses ``'text.verbosity'``, by the reasoning effort's example).

Models a profile does not list are not checked: a name it does not know may be a model that
takes them; nor are a reasoning model's settings on a profile that names no reasoning models (its
models may all reason).
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError
from ..providers import Profile
from .schema import supported_values

SAMPLING_DEFAULTS = {"temperature": 1, "top_p": 1}


def check_chat(body: dict[str, Any], profile: Profile) -> None:
    """A chat request checked for what its model does not take."""
    model = body.get("model")
    _check_taken(body.get("verbosity"), profile.verbosities.get(model), "verbosity")
    if not profile.reasons(model):
        if body.get("reasoning_effort") is not None and profile.does_not_reason(model):
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
    if body.get("stop") is not None:
        raise _unsupported("stop", "unsupported_parameter")
    takes = profile.reasoning_efforts.get(model)
    _check_taken(body.get("reasoning_effort"), takes, "reasoning_effort")
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
    verbosity = (body.get("text") or {}).get("verbosity")
    _check_taken(verbosity, profile.verbosities.get(model), "text.verbosity")
    if profile.reasons(model):
        effort = (body.get("reasoning") or {}).get("effort")
        _check_taken(effort, profile.reasoning_efforts.get(model), "reasoning.effort")
        changed = _changed_sampling(body)
        if changed:
            raise _unsupported(changed[0][0], None)
    elif (body.get("reasoning") or {}).get("effort") is not None and profile.does_not_reason(model):
        raise _unsupported("reasoning.effort", "unsupported_parameter")


def _check_taken(value: Any, takes: tuple[str, ...] | None, name: str) -> None:
    """A setting's ``value`` the model does not take (``takes``: those it takes, or None for
    any: ``Profile.reasoning_efforts``, ``Profile.verbosities``) refused."""
    if value is not None and takes and value not in takes:
        raise ApiError(
            "400",
            message=f"Unsupported value: '{name}' does not support '{value}' with this model. "
            f"Supported values are: {supported_values(list(takes))}.",
            type="invalid_request_error",
            param=name,
            code="unsupported_value",
        )


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
