"""A fast first verdict on a request body, before our own schema compiler words an error.

Most bodies pass. ``jsonschema-rs`` (a Rust-backed Draft 2020-12 validator) says so in a few
microseconds where our compiled checks (``checks.schema``) take tens on an agent's turn; only a
body it finds invalid goes through our compiler, which finds the error and words it as the
provider does (message, ``param`` path, code) — or finds none, and then its verdict stands: the
body passes. Both are built once per schema, at start-up (or on first use, for profiles a
server is not asked for). The test suite's fuzz battery holds the two to the same verdict on
every body it makes, for every profile's request schemas (``tests/test_fuzz.py``).

Without the ``fast`` extra (``pip install "llm-mock-server[fast]"``), or where ``jsonschema-rs``
cannot be installed or imported, our compiler decides alone, with the same verdicts;
``fast_verdicts()`` says which (shown by the server's start-up banner and ``GET /__admin/health``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .schema import Check

try:
    import jsonschema_rs
except ImportError:  # no wheel for this platform: the pure-Python path
    jsonschema_rs = None


def fast_verdicts() -> str | None:
    """What judges request bodies first: ``"jsonschema-rs"``, or None (our compiler alone)."""
    return "jsonschema-rs" if jsonschema_rs is not None else None


def meta_valid(schema: Any) -> bool | None:
    """The fast validator's verdict on ``schema`` against the JSON Schema meta-schema (draft
    2020-12); None without it, or when it cannot judge. A schema naming its own ``$schema`` is
    not given to it: it would take another draft's meta-schema for that one, and fetch an
    unknown one over the network."""
    if jsonschema_rs is None or "$schema" in schema:
        return None
    try:
        return jsonschema_rs.meta.is_valid(schema)
    except (ValueError, OverflowError, jsonschema_rs.ReferencingError):
        return None


class Verdicts:
    """Fast validators for the schema ``documents`` (which ``$ref`` one another by ``$id``)."""

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self._registry = None
        if jsonschema_rs is not None:
            self._registry = jsonschema_rs.Registry(list(documents.items()))

    def first(self, schema: Mapping[str, Any], schema_id: str, worded: Check) -> Check:
        """A check of ``schema`` that asks the fast validator first and ``worded`` (our
        compiled check of the same schema) only for a body it finds invalid."""
        if self._registry is None:
            return worded
        validator = jsonschema_rs.validator_for(schema, registry=self._registry, base_uri=schema_id)
        return FirstVerdict(validator.is_valid, worded)


class FirstVerdict:
    """``fast`` decides; for a body it finds invalid, or cannot judge, ``worded`` raises the
    provider's error (and when it finds none, its verdict stands: the body passes)."""

    __slots__ = ("fast", "worded")

    def __init__(self, fast: Callable[[Any], bool], worded: Check) -> None:
        self.fast = fast
        self.worded = worded

    def verdict(self, value: Any) -> bool | None:
        """The fast validator's verdict on ``value``; None when it cannot judge it (it raises:
        early releases did on an integer past 64 bits)."""
        try:
            return self.fast(value)
        except (ValueError, OverflowError):
            return None

    def __call__(self, value: Any) -> None:
        if not self.verdict(value):
            self.worded(value)
