"""A fast first verdict on a request body, before our own schema compiler words an error.

Most bodies pass. ``jsonschema-rs`` (a Rust-backed Draft 2020-12 validator) says so in a few
microseconds where our compiled checks (``checks.schema``) take tens on an agent's turn; only a
body it finds invalid goes through our compiler, which finds the error and words it as the
provider does (message, ``param`` path, code) — or finds none, and then its verdict stands: the
body passes. The test suite's fuzz battery holds the two to the same verdict on every body it
makes, for every profile's request schemas (``tests/test_fuzz.py``).

The fast validator of a schema is built once that schema has judged ``WARM_UP`` bodies, and the
library is imported then (or for the first client schema a request brings, which it checks
against the meta-schema: ``checks.client_schema_rules``). Building it costs some 5 ms and
8 MiB the first time in a process: a server that answers a test's few requests never pays it,
and one under load has paid it after its first hundred bodies. Our compiler judges the bodies
before, with the same verdicts.

Without the ``fast`` extra (``pip install "llm-mock-server[fast]"``), or where ``jsonschema-rs``
cannot be installed or imported, our compiler decides alone; ``fast_verdicts()`` says which
(shown by the server's start-up banner and ``GET /__admin/health``).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Mapping
from typing import Any

from .schema import Check

log = logging.getLogger("mock_server")

# Bodies a schema's compiled check judges alone before its fast validator is built: building
# costs about what our compiler spends on a hundred agent's turns.
WARM_UP = 100
_NOT_YET = object()
jsonschema_rs: Any = _NOT_YET  # the module once imported; None where it cannot be
_ALONE = "judged by mock-server's schema compiler alone"


def _library() -> Any:
    """``jsonschema_rs``, imported on first use; None where it cannot be imported."""
    global jsonschema_rs
    if jsonschema_rs is _NOT_YET:
        try:
            import jsonschema_rs as module
        except Exception as exc:  # not installed (no wheel for this platform), or broken
            if not (isinstance(exc, ModuleNotFoundError) and exc.name == "jsonschema_rs"):
                log.warning(
                    "mock-server: jsonschema-rs cannot be imported (%s): request bodies are %s",
                    exc,
                    _ALONE,
                )
            module = None
        jsonschema_rs = module
    return jsonschema_rs


def fast_verdicts() -> str | None:
    """What judges request bodies first: ``"jsonschema-rs"``, or None (our compiler alone)."""
    if jsonschema_rs is _NOT_YET:
        found = importlib.util.find_spec("jsonschema_rs") is not None
    else:
        found = jsonschema_rs is not None
    return "jsonschema-rs" if found else None


def meta_valid(schema: Any) -> bool | None:
    """The fast validator's verdict on ``schema`` against the JSON Schema meta-schema (draft
    2020-12); None without it, or when it cannot judge. A schema naming its own ``$schema`` is
    not given to it: it would take another draft's meta-schema for that one, and fetch an
    unknown one over the network."""
    if "$schema" in schema:
        return None
    library = _library()
    if library is None:
        return None
    try:
        return library.meta.is_valid(schema)
    except (ValueError, OverflowError, library.ReferencingError):
        return None


class Verdicts:
    """Fast validators for the schema ``documents`` (which ``$ref`` one another by ``$id``)."""

    def __init__(self, documents: Mapping[str, Mapping[str, Any]]) -> None:
        self._documents = documents
        self._registry: Any = None

    def resolve_now(self) -> None:
        """Build the registry of the documents now, rather than with the first validator: a
        ``ValueError`` when one of them refers to what is not there (a user's schema files are
        checked so at start-up)."""
        library = _library()
        if library is not None and self._registry is None:
            self._registry = library.Registry(list(self._documents.items()))

    def first(self, schema: Mapping[str, Any], schema_id: str, worded: Check) -> Check:
        """A check of ``schema`` that asks the fast validator first, once built, and ``worded``
        (our compiled check of the same schema) only for a body it finds invalid."""
        if fast_verdicts() is None:
            return worded
        return FirstVerdict(lambda: self._validator(schema, schema_id), worded)

    def _validator(self, schema: Mapping[str, Any], schema_id: str) -> Callable[[Any], bool] | None:
        """The fast validator of ``schema``, or None (said in one log line) when jsonschema-rs
        is not there or cannot build it: our compiler judges alone then."""
        library = _library()
        if library is None:
            return None
        try:
            self.resolve_now()
            validator = library.validator_for(schema, registry=self._registry, base_uri=schema_id)
        except Exception as exc:  # whatever it is, the compiler is there to judge
            said = " ".join(str(exc).split())  # one line
            log.warning(
                "mock-server: %s: no fast validator (%s); its bodies are %s",
                schema_id,
                said,
                _ALONE,
            )
            return None
        return validator.is_valid


class FirstVerdict:
    """``fast`` decides; for a body it finds invalid, or cannot judge, ``worded`` raises the
    provider's error (and when it finds none, its verdict stands: the body passes). Until the
    fast validator is built (``build``, after ``WARM_UP`` bodies), ``worded`` judges alone."""

    __slots__ = ("_build", "_left", "fast", "worded")

    def __init__(self, build: Callable[[], Callable[[Any], bool] | None], worded: Check) -> None:
        self._build = build
        self._left = WARM_UP
        self.fast: Callable[[Any], bool | None] = self._warming
        self.worded = worded

    @property
    def built(self) -> bool:
        """Whether the fast validator judges now."""
        return self.fast not in (self._warming, _unjudged)

    def build_now(self) -> None:
        """Build the fast validator now, without waiting for the warm-up to end."""
        self.fast = _unjudged  # built once, whatever comes of it
        self.fast = self._build() or _unjudged

    def _warming(self, value: Any) -> bool | None:
        self._left -= 1
        if self._left > 0:
            return None
        self.build_now()
        return self.fast(value)

    def verdict(self, value: Any) -> bool | None:
        """The fast validator's verdict on ``value``; None when it cannot judge it (not built
        yet, or it raises: early releases did on an integer past 64 bits)."""
        try:
            return self.fast(value)
        except (ValueError, OverflowError):
            return None

    def __call__(self, value: Any) -> None:
        if not self.verdict(value):
            self.worded(value)


def _unjudged(value: Any) -> None:
    """No fast verdict: the fast validator could not be built."""
    return None
