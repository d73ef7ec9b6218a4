"""Reading a request body: JSON, UTF-8, one object (its size is enforced while it is read,
in ``server.request_body``). Every failure raises ``ApiError`` with the provider's wording."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError
from ..jsonio import MAX_NESTING, JSONDecodeError, loads, nests_deeper_than
from .schema import describe_type

EMPTY = "The request body is empty; expected a JSON object."
TOO_DEEP = f"The JSON body nests arrays and objects more than {MAX_NESTING} levels deep."


def parse_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """Decode a request body into a JSON object, or raise the error that says why not."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime and not (mime.endswith("/json") or mime.endswith("+json")):
        raise ApiError(
            "400",
            f"Invalid Content-Type header ({content_type}), expected application/json.",
            code="invalid_content_type",
        )
    try:
        body = loads(raw)
    except JSONDecodeError as exc:
        if not raw.strip():
            raise ApiError("invalid_json", EMPTY) from None
        raise ApiError("invalid_json", _why_not_json(raw, exc)) from None
    # Counting brackets is a fast upper bound on the depth; only a body with many is walked.
    if raw.count(b"[") + raw.count(b"{") > MAX_NESTING and nests_deeper_than(body):
        raise ApiError("invalid_json", TOO_DEEP)
    if not isinstance(body, dict):
        raise ApiError(
            "400",
            f"Invalid type for request body: expected an object, but got "
            f"{describe_type(body)} instead.",
            code="invalid_type",
        )
    return body


def _why_not_json(raw: bytes, exc: JSONDecodeError) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"The request body is not valid UTF-8 ({bad.reason} at byte {bad.start})."
    if "recursion" in exc.msg or "depth limit" in exc.msg.lower():
        return TOO_DEEP
    return f"{exc.msg[:1].upper()}{exc.msg[1:]} at line {exc.lineno} column {exc.colno}."
