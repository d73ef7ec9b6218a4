"""Loading provider profiles: data files in ``schemas/profiles/`` read, checked and compiled once
at start-up into ``providers.Profile``s.

A profile names its request schema, the base paths it is served at, whether unknown top-level
fields are refused, whether an API key is required, how value errors are answered (400 or 422),
its response extras and its error catalog. ``extends:`` inherits another profile's settings,
with ``errors`` and ``response`` merged key by key. Each file is checked against
``PROFILE_SHAPE`` when read, so a mistake is reported at its line in the file that made it.
"""

from __future__ import annotations

import functools
import json
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..bundled import bundled
from ..errors import ConfigError
from ..header_fields import checked_headers
from ..jsonio import MAX_NESTING, JsonStyle, nests_deeper_than
from ..providers import (
    BASE_PATHS,
    DEFAULT_APIS,
    DEFAULT_PROFILE,
    ENVELOPES,
    EmbeddingModel,
    ErrorEntry,
    Profile,
    ProfileRegistry,
    RequestChecks,
)
from .schema import Check, Invalid, SchemaCompiler, did_you_mean
from .settings_file import read_settings_file, wrong_in_file
from .verdicts import Verdicts

SCHEMA_DIR = bundled("schemas")
PROFILE_DIR = SCHEMA_DIR / "profiles"

_REQUIRED_KEYS = ("request_schema", "paths", "errors")  # given, or inherited (``extends``)
_TEXT: dict[str, Any] = {"type": "string"}
_TEXT_OR_NULL: dict[str, Any] = {"type": ["string", "null"]}
_SWITCH: dict[str, Any] = {"type": "boolean"}
_TEXTS: dict[str, Any] = {"type": "array", "items": _TEXT}
_TEXT_BY_NAME: dict[str, Any] = {"type": "object", "additionalProperties": _TEXT}


def _one_of(*values: Any) -> dict[str, Any]:
    """A string (or integer) among ``values``."""
    return {"type": "string" if isinstance(values[0], str) else "integer", "enum": list(values)}


def _mapping(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """A mapping of ``properties`` and no other keys."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


_JSON_STYLE = _mapping({"indent": _one_of(0, 2, 4), "sort_keys": _SWITCH, "newline": _SWITCH})
# What each key of a profile file holds (``extends`` and every inherited key may be left out).
PROFILE_SHAPE = _mapping(
    {
        "name": _TEXT,
        "extends": _TEXT,
        "description": _TEXT,
        "source": _TEXT,
        "request_schema": _TEXT,
        "paths": {"type": "array", "items": _one_of(*BASE_PATHS)},
        "errors": {
            "type": "object",
            "additionalProperties": _mapping(
                {
                    "status": {"type": "integer", "minimum": 100, "maximum": 599},
                    "type": _TEXT,
                    "code": _TEXT_OR_NULL,
                    "message": _TEXT,
                    "details": {"type": "array"},
                },
                "type",
                "message",
            ),
        },
        "unknown_fields": _one_of("accept", "reject"),
        "unknown_models": _one_of("accept", "reject"),
        "auth": _one_of("required", "optional"),
        "error_envelope": _one_of(*ENVELOPES),
        "value_error_status": {"type": "integer", "minimum": 400, "maximum": 599},
        "models": _TEXTS,
        "response": {"type": "object", "additionalProperties": _SWITCH},
        "strip_fields": _TEXTS,
        "default_provider": _TEXT_OR_NULL,
        "keepalive": _SWITCH,
        "keepalive_interval": {"type": "number", "exclusiveMinimum": 0},
        "model_aliases": _TEXT_BY_NAME,
        "body_format": _JSON_STYLE,
        "error_format": _JSON_STYLE,
        "headers": {
            "type": "object",
            "additionalProperties": {"type": ["string", "number"], "x-expected": "a string"},
        },
        "trace_headers": _TEXTS,
        "processing_ms_header": _TEXT_OR_NULL,
        "retry_headers": _SWITCH,
        "rate_limit_headers": _SWITCH,
        "error_code": _TEXT_OR_NULL,
        "apis": _TEXTS,
        "api_request_schemas": _TEXT_BY_NAME,
        "embedding_models": {
            "type": "object",
            "additionalProperties": _mapping(
                {
                    "dimensions": {"type": "integer", "minimum": 1},
                    "shortens": _SWITCH,
                    "max_tokens": {"type": "integer", "minimum": 1},
                    "answers_as": _TEXT_OR_NULL,
                },
                "dimensions",
            ),
        },
        "reasoning_models": _TEXTS,
        "reasoning_efforts": {"type": "object", "additionalProperties": _TEXTS},
        "verbosities": {"type": "object", "additionalProperties": _TEXTS},
    }
)
_KNOWN_KEYS = sorted(PROFILE_SHAPE["properties"])


def _read_schemas(directory: Path) -> dict[str, dict[str, Any]]:
    documents = {}
    for path in sorted(directory.glob("*.json")):
        with path.open(encoding="utf-8") as handle:
            documents[path.name] = json.load(handle)
    return documents


@functools.cache
def _shape_check() -> Check:
    """``PROFILE_SHAPE`` compiled, once: the words of its errors are those of config files."""
    return SchemaCompiler({}).compile(PROFILE_SHAPE, "profile")


def _read_profile(path: Path) -> dict[str, Any]:
    """A profile file's settings, their shape checked; a profile that does not give its
    ``name`` is named after its file (``my-gateway.yaml``: ``my-gateway``)."""
    data, text = read_settings_file(path, "profile")
    try:
        _shape_check()(data)
    except Invalid as invalid:
        raise wrong_in_file(path, text, invalid, _KNOWN_KEYS, "profile key") from None
    return {"name": path.stem, **data}


# A profile's name is a segment of its routes' paths (``/NAME/v1/chat/completions``).
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _check_known_keys(data: dict[str, Any], known: dict[str, frozenset[str]], path: Path) -> None:
    """Refuse a profile file's name that cannot be a path segment, and a key of its ``errors``
    (other than a status) or ``response`` that no profile uses: it would never be read."""
    if not _PROFILE_NAME.fullmatch(data["name"]):
        raise ConfigError(
            f"{path}: profile name {data['name']!r}: a name is part of its routes' paths "
            "(/NAME/v1/...): letters, digits, '.', '_' and '-'"
        )
    for key, names in known.items():
        for name in data.get(key, {}):
            name = str(name)
            status = key == "errors" and name.isdecimal()
            if (status and 100 <= int(name) <= 599) or name in names:
                continue
            if status:
                hint = " A status is from 100 to 599."
            else:
                hint = did_you_mean(name, names, {}) or f" Known: {', '.join(sorted(names))}."
            raise ConfigError(f"{path}: {key}: unknown key {name!r}.{hint}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **override}
    for key in (
        "errors",
        "response",
        "model_aliases",
        "headers",
        "api_request_schemas",
        "embedding_models",
        "reasoning_efforts",
        "verbosities",
    ):
        if key in base and key in override:
            merged[key] = {**base[key], **override[key]}
    merged.pop("extends", None)
    return merged


READ_FIELDS_SCHEMA = "read-fields.json"


class _CompiledOnFirstUse:
    """A schema check compiled when first called: for bundled profiles other than the
    default, which a server may never be asked for (the test suite compiles them all)."""

    __slots__ = ("_check", "_compile")

    def __init__(self, compile: Callable[[], Check]) -> None:
        self._compile = compile
        self._check: Check | None = None

    def __call__(self, value: Any) -> None:
        self.compiled(value)

    @property
    def compiled(self) -> Check:
        """The check itself, compiled now if it was not yet."""
        if self._check is None:
            self._check = self._compile()
        return self._check


class _Builder:
    """Makes profiles from their (merged) raw data, with one schema compiler (and one set of
    fast verdicts, ``checks.verdicts``) for them all."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.compiler = SchemaCompiler(documents)
        self.verdicts = Verdicts(documents)
        self.read_fields = self._compiled(documents[READ_FIELDS_SCHEMA], READ_FIELDS_SCHEMA)

    def _compiled(self, schema: dict[str, Any], schema_id: str) -> Check:
        """Our compiled check of ``schema``, behind the fast first verdict (``verdicts``)."""
        return self.verdicts.first(schema, schema_id, self.compiler.compile(schema, schema_id))

    def build(self, raw: dict[str, Any], origin: str, eager: bool, eager_apis: bool) -> Profile:
        """The profile; ``eager``: its chat request schema compiled now, ``eager_apis``: its
        other APIs' schemas too (else each when first used)."""
        missing = [k for k in _REQUIRED_KEYS if k not in raw]
        if missing:
            raise ConfigError(
                f"{origin}: profile is missing {', '.join(missing)} (neither given nor inherited "
                "through extends)"
            )
        try:
            headers = checked_headers(raw.get("headers", {}))
        except ValueError as exc:
            raise ConfigError(f"{origin}: headers: {exc}") from None
        for key, entry in raw["errors"].items():
            problem = _message_problem(entry["message"])
            if problem:
                raise ConfigError(f"{origin}: errors.{key}.message: {problem}")
        reject = raw.get("unknown_fields", "accept") == "reject"

        def checks(key: str, schema_id: str, now: bool) -> tuple[Check, frozenset[str]]:
            return self._checks(key, schema_id, reject, origin, now)

        check, known = checks("request_schema", raw["request_schema"], eager)
        api_checks = {
            str(api): RequestChecks(*checks(f"api_request_schemas.{api}", schema_id, eager_apis))
            for api, schema_id in raw.get("api_request_schemas", {}).items()
        }
        return _profile(raw, check, self.read_fields, known, api_checks, headers)

    def _checks(
        self, key: str, schema_id: str, reject: bool, origin: str, eager: bool
    ) -> tuple[Check, frozenset[str]]:
        """The check of the request schema the profile names under ``key`` (``eager``:
        compiled now), and its known fields."""
        if schema_id not in self.documents:
            raise ConfigError(f"{origin}: {key} {schema_id!r} is not in {SCHEMA_DIR}")
        # Whether unknown top-level fields are refused is the profile's to say; the schema file
        # describes the fields.
        schema = {**self.documents[schema_id], "additionalProperties": not reject}
        known = frozenset(schema.get("properties", {}))
        if not eager:
            return _CompiledOnFirstUse(lambda: self._compiled(schema, schema_id)), known
        try:
            return self._compiled(schema, schema_id), known
        except ValueError as exc:
            raise ConfigError(f"{origin}: {exc}") from None


def _message_problem(message: str) -> str | None:
    """What is wrong with an error's ``message`` as a template (None: nothing): its fields are
    names (``{model}``), filled in when the error is answered."""
    try:
        fields = [
            (field, spec, conversion)
            for _, field, spec, conversion in string.Formatter().parse(message)
            if field is not None
        ]
    except ValueError as exc:  # a lone brace
        return f"{exc} (write a literal brace as '{{{{' or '}}}}')"
    for field, spec, conversion in fields:
        if not field.isidentifier():
            return f"{{{field}}} is not a name (a field is written {{model}}, {{detail}} ...)"
        if spec or conversion:  # a width of 10**8 would make every answer 100 MB
            return f"{{{field}}} is written with a conversion or format: a field is its name alone"
    return None


def _profile(
    raw: dict[str, Any],
    check: Check,
    read_fields: Check,
    known: frozenset[str],
    api_checks: dict[str, RequestChecks],
    headers: dict[str, str],
) -> Profile:
    errors = {}
    for key, entry in raw["errors"].items():
        status = entry.get("status", int(key) if str(key).isdecimal() else 400)
        errors[str(key)] = ErrorEntry(
            status,
            entry["type"],
            entry.get("code"),
            entry["message"],
            tuple(entry.get("details", ())),
        )
    models = raw.get("embedding_models", {})
    embedding_models = {str(name): EmbeddingModel(**spec) for name, spec in models.items()}
    aliases = {str(k): v for k, v in raw.get("model_aliases", {}).items()}
    reasoning = set(raw.get("reasoning_models", ()))
    reasoning |= {aliases[name] for name in reasoning if name in aliases}
    return Profile(
        name=raw["name"],
        description=raw.get("description", ""),
        source=raw.get("source", ""),
        check_request=check,
        check_read_fields=read_fields,
        known_fields=known,
        paths=tuple(raw["paths"]),
        auth_required=raw.get("auth", "required") == "required",
        value_error_status=int(raw.get("value_error_status", 400)),
        models=tuple(raw.get("models", ())),
        errors=errors,
        response=dict(raw.get("response", {})),
        strip_fields=tuple(raw.get("strip_fields", ())),
        default_provider=raw.get("default_provider"),
        keepalive=bool(raw.get("keepalive", False)),
        keepalive_interval=float(raw.get("keepalive_interval", 1.0)),
        model_aliases=aliases,
        reject_unknown_models=raw.get("unknown_models", "accept") == "reject",
        error_envelope=raw.get("error_envelope", "openai"),
        body_format=JsonStyle(**raw.get("body_format", {})),
        error_format=JsonStyle(**raw.get("error_format", {})),
        headers=headers,
        trace_headers=tuple(raw.get("trace_headers", ())),
        processing_ms_header=raw.get("processing_ms_header"),
        retry_headers=bool(raw.get("retry_headers", True)),
        rate_limit_headers=bool(raw.get("rate_limit_headers", True)),
        error_code=raw.get("error_code"),
        apis=tuple(raw.get("apis", DEFAULT_APIS)),
        api_checks=api_checks,
        embedding_models=embedding_models,
        reasoning_models=frozenset(reasoning),
        reasoning_efforts=_by_model(raw.get("reasoning_efforts", {}), aliases),
        verbosities=_by_model(raw.get("verbosities", {}), aliases),
    )


def _by_model(values: dict[str, list[str]], aliases: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """The values each model takes of a setting, by model and by the snapshot it answers as."""
    taken = {str(model): tuple(named) for model, named in values.items()}
    return taken | {aliases[model]: named for model, named in taken.items() if model in aliases}


def load_profiles(
    extra_files: list[str | Path] = (), default: str = DEFAULT_PROFILE
) -> ProfileRegistry:
    """Load the bundled profiles and any user profile files; compile their schemas once."""
    documents = _read_schemas(SCHEMA_DIR)
    raw: dict[str, tuple[dict[str, Any], str]] = {}
    for path in sorted(PROFILE_DIR.glob("*.yaml")):
        data = _read_profile(path)
        raw[data["name"]] = (data, str(path))
    # The catalog's cases and the response's switches a profile file may set: the bundled ones.
    known = {key: frozenset(k for data, _ in raw.values() for k in data.get(key, {}))
             for key in ("errors", "response")}  # fmt: skip
    given: dict[str, Path] = {}  # a profile file's name, by the file that gave it first
    for extra in extra_files:
        path = Path(extra)
        data = _read_profile(path)
        _check_known_keys(data, known, path)
        first = given.setdefault(data["name"], path)
        if first.resolve() != path.resolve():
            raise ConfigError(
                f"{path}: profile {data['name']!r} is given by {first} too: "
                "each profile file needs a name of its own"
            )
        for schema_path in path.parent.glob("*.json"):
            if schema_path.name not in documents:
                documents[schema_path.name] = _read_user_schema(schema_path)
        raw[data["name"]] = (data, str(path))

    def resolved(name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
        data, origin = raw[name]
        parent = data.get("extends")
        if parent is None:
            return data
        if parent not in raw or parent in seen:
            raise ConfigError(f"{origin}: extends unknown or circular profile {parent!r}")
        return _merge(resolved(parent, (*seen, name)), data)

    builder = _Builder(documents)
    if extra_files:
        try:
            builder.verdicts.resolve_now()
        except ValueError as exc:  # a reference the fast verdicts' registry cannot resolve
            files = ", ".join(str(Path(extra)) for extra in extra_files)
            raise ConfigError(
                f"{files}: a request schema refers to what is not there: {exc}"
            ) from None
    # A profile file's schemas are compiled now, so that a mistake in them stops start-up; of
    # the bundled ones (which the test suite compiles), only the default profile's chat schema.
    user_files = {str(Path(extra)) for extra in extra_files}
    profiles = {
        name: builder.build(
            resolved(name), origin, name == default or origin in user_files, origin in user_files
        )
        for name, (_, origin) in raw.items()
    }
    return ProfileRegistry(profiles, default)


def _read_user_schema(path: Path) -> dict[str, Any]:
    """A user's JSON Schema, checked against the meta-schema, and for what would stop its
    checks: a reference that could only be fetched, nesting past the stack, a reference that
    leads back to itself with no part of the value checked between."""
    # jsonschema is imported only here: bundled schemas are checked by the test suite, and the
    # import would cost a tenth of a second of every start-up.
    from jsonschema import Draft202012Validator, SchemaError

    try:
        try:
            schema = json.loads(path.read_text("utf-8"))
        except RecursionError:  # the parser's own bound, some thousand levels
            raise ValueError(f"it nests more than {MAX_NESTING} levels deep") from None
        if not isinstance(schema, dict):
            raise ValueError("a request schema is a JSON object")
        if nests_deeper_than(schema):
            raise ValueError(f"it nests more than {MAX_NESTING} levels deep")
        Draft202012Validator.check_schema(schema)
        _check_references(schema)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read JSON Schema: {exc}") from None
    except RecursionError:  # references chained past the stack
        raise ConfigError(f"{path}: cannot read JSON Schema: its $refs chain too deep") from None
    except SchemaError as exc:
        raise ConfigError(f"{path}: not a valid JSON Schema: {exc.message}") from None
    return schema


def _check_references(schema: dict[str, Any]) -> None:
    """Raise ``ValueError`` for a ``$ref`` to another place than a schema file here or bundled
    (nothing is fetched), or one that comes back to where it started through ``$ref``s and
    ``allOf``/``anyOf``/``oneOf`` alone, which would check the same value forever."""
    done: set[str] = set()

    def visit(node: Any, pointer: str, path: tuple[str, ...]) -> None:
        if pointer in path:
            raise ValueError(
                f"$ref {'#' + pointer!r} leads back to itself without checking any part of the "
                "value"
            )
        if pointer in done or not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            if urlsplit(ref).scheme or ref.startswith("/"):
                raise ValueError(
                    f"$ref {ref!r}: only schema files beside the profile file, and the bundled "
                    "ones, are read"
                )
            if ref.startswith("#"):
                visit(_pointed(schema, ref[1:]), ref[1:], (*path, pointer))
        for key in ("allOf", "anyOf", "oneOf"):
            for index, branch in enumerate(node.get(key) or ()):
                visit(branch, f"{pointer}/{key}/{index}", (*path, pointer))
        done.add(pointer)

    for pointer, node in _subschemas(schema, ""):
        visit(node, pointer, ())


_VALUES = frozenset(
    ("const", "enum", "default", "examples")
)  # keywords holding values, not schemas


def _subschemas(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every mapping in ``node`` (a schema and all it holds but values), with its JSON
    pointer."""
    waiting = [(pointer, node)]
    while waiting:
        pointer, node = waiting.pop()
        if isinstance(node, dict):
            yield pointer, node
            members = [(key, member) for key, member in node.items() if key not in _VALUES]
        elif isinstance(node, list):
            members = enumerate(node)
        else:
            continue
        for key, member in members:
            token = str(key).replace("~", "~0").replace("/", "~1")
            waiting.append((f"{pointer}/{token}", member))


def _pointed(schema: dict[str, Any], pointer: str) -> Any:
    """What the JSON pointer ``pointer`` points at in ``schema`` (None: nothing)."""
    node: Any = schema
    for token in filter(None, pointer.split("/")):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node.get(token) if isinstance(node, dict) else None
    return node
