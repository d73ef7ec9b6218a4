"""The JSON objects admin calls take (``clock``, ``settings``, ``recording``), read with a
message that says what is wrong: not JSON, not an object, a key the call does not take (with
the one it most likely mistypes), a key missing, or a value of the wrong kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ..checks.schema import describe_type
from ..engine.values import shown
from ..jsonio import compact_json, loads
from ..yamlio import did_you_mean


class Field(NamedTuple):
    """What one key of an admin body takes: a test of its value, and that test in words."""

    accepts: Callable[[Any], bool]
    words: str


NUMBER = Field(lambda v: type(v) in (int, float), "a number")  # a bool is no number
FLAG = Field(lambda v: isinstance(v, bool), "true or false")
FLAG_OR_NULL = Field(lambda v: v is None or isinstance(v, bool), "true, false or null")
TEXT = Field(lambda v: isinstance(v, str), "a string")


def read_fields(
    body: bytes, fields: Mapping[str, Field], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``body`` as a JSON object (an empty body is ``{}``) holding only ``fields``, each as its
    test asks, and every ``required`` one; a ``ValueError`` saying what is wrong otherwise."""
    try:
        value = loads(body or b"{}")
    except ValueError as exc:
        raise ValueError(f"the body is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"the body is {describe_type(value)}, not an object")
    for key in value:
        if key not in fields:
            hint = did_you_mean(key, list(fields), "keys")
            raise ValueError(f"{shown(key)} is not a key this call takes; {hint}")
    for key in required:
        if key not in value:
            raise ValueError(f"{key} is missing")
    for key, field in fields.items():
        if key in value and not field.accepts(value[key]):
            raise ValueError(f"{key} must be {field.words}, not {_given(value[key])}")
    return value


def _given(value: Any) -> str:
    """A value as a message shows it: a scalar as its JSON (escaped, cut), anything else by
    its type (an array may nest as deep as a body may: it is not written out)."""
    if isinstance(value, (dict, list)):
        return describe_type(value)
    return shown(compact_json(value))[1:-1]
