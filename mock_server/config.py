"""Server settings: defaults, then the config file, then ``MOCK_SERVER_*`` variables, then flags.

The config file is checked against ``schemas/config.schema.json``; a problem is reported as
``file:line:column: what is wrong``, like scenario files.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .bundled import bundled
from .checks.schema import Check, Invalid, SchemaCompiler
from .errors import ConfigError
from .redaction import redact
from .yamlio import Locator, YAMLError, close_matches, load_yaml

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_JOURNAL_SIZE = 1000
DEFAULT_JOURNAL_BYTES = 32 * 1024 * 1024
DEFAULT_JOURNAL_TOTAL_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_TENANTS = 1000
DEFAULT_WINDOW_SECONDS = 60.0
DEFAULT_RECORD_TO = "recordings"
RECORD_MODES = ("new", "all", "none")
DEFAULT_UPSTREAM_TIMEOUT = 60.0
ENV_PREFIX = "MOCK_SERVER_"


@dataclass(frozen=True)
class Limits:
    """Rate limits of one key; ``window_seconds`` shortens the minute for tests."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    window_seconds: float = DEFAULT_WINDOW_SECONDS


@dataclass(frozen=True)
class Chaos:
    """Random failures: with ``probability``, one of ``statuses`` or ``faults`` (seeded)."""

    probability: float = 0.0
    statuses: tuple[int, ...] = ()
    faults: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeySpec:
    """An accepted API key and the account behind it."""

    key: str
    balance: int | None = None
    limits: Limits | None = None
    chaos: Chaos | None = None

    def __repr__(self) -> str:
        return (
            f"KeySpec(key={redact(self.key)!r}, balance={self.balance!r}, limits={self.limits!r})"
        )


@dataclass
class Settings:
    """Everything a server needs to start; see ``docs/configuration.md``."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    profile: str = "openai"
    profile_files: list[str] = field(default_factory=list)
    scenarios: list[str] | None = None  # None: the bundled scenarios/; []: none at all
    strict: bool = False
    api_keys: list[KeySpec] = field(default_factory=list)
    seed: int | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    watch: bool = False
    admin_token: str | None = None
    journal_size: int = DEFAULT_JOURNAL_SIZE
    journal_bytes: int = DEFAULT_JOURNAL_BYTES
    journal_total_bytes: int = DEFAULT_JOURNAL_TOTAL_BYTES
    max_tenants: int = DEFAULT_MAX_TENANTS
    overrides: bool = True
    shortcut: bool = True  # the connection shortcut, where aiohttp allows it (server.connection)
    keepalive_interval: float | None = None
    max_concurrent_requests: int | None = None
    limits: Limits | None = None
    chaos: Chaos | None = None
    chaos_profiles: dict[str, Chaos] = field(default_factory=dict)
    clock: str = "real"
    unknown_models: str | None = None  # accept / reject: every profile's setting overridden
    log_format: str | None = None  # text / json / none; None: the caller's default (serve: text)
    record: list[str] = field(default_factory=list)  # upstreams, [PROFILE=]URL
    record_to: str | None = DEFAULT_RECORD_TO  # None: only tenants record (into their own files)
    # Where tenants' recording files may lie; None: the record_to folder, else the working
    # directory (the pytest plugin gives its rootdir).
    recording_root: str | None = None
    record_mode: str | None = None  # new / all / none; None: new, or none with strict
    record_timing: bool = True
    redact: list[str] = field(default_factory=list)  # regexes scrubbed from recordings too
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT

    def __post_init__(self) -> None:
        self.api_keys = [k if isinstance(k, KeySpec) else KeySpec(str(k)) for k in self.api_keys]

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["admin_token"] = self.admin_token and redact(self.admin_token)
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


# Settings that flags and environment variables can set, and how their text is read.
_LISTS = {"profile_files", "scenarios", "api_keys", "record", "redact"}
# How a list is written in one variable: paths and keys by ``,`` or the path separator; URLs
# by white space; regexes (which may hold any of those) one per line.
_LIST_SEPARATORS = {"record": None, "redact": "\n"}
_INTS = {
    "port", "seed", "max_body_bytes", "max_response_bytes", "journal_size", "journal_bytes",
    "journal_total_bytes", "max_tenants", "max_concurrent_requests",
}  # fmt: skip
_FLOATS = {"keepalive_interval", "body_timeout", "idle_timeout", "upstream_timeout"}
_BOOLS = {"strict", "watch", "overrides", "shortcut", "record_timing"}
_TEXTS = {
    "host", "profile", "admin_token", "clock", "unknown_models", "log_format", "record_to",
    "record_mode",
}  # fmt: skip
_SIMPLE = _LISTS | _INTS | _FLOATS | _BOOLS | _TEXTS


def _coerce(name: str, value: Any, origin: str) -> Any:
    try:
        if name in _LISTS:
            if isinstance(value, str) and name in _LIST_SEPARATORS:
                return [v for v in value.split(_LIST_SEPARATORS[name]) if v.strip()]
            if isinstance(value, str):
                return [v for v in value.replace(",", os.pathsep).split(os.pathsep) if v]
            return list(value)
        if name in _INTS:
            return None if value is None else int(value)
        if name in _FLOATS:
            return None if value is None else float(value)
        if name in _BOOLS:
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {name} has a bad value {value!r}") from None
    return value if value is None else str(value)


@functools.cache
def _config_schema() -> dict[str, Any]:
    return json.loads((bundled("schemas") / "config.schema.json").read_text("utf-8"))


@functools.cache
def _config_check() -> Check:
    schema = _config_schema()
    return SchemaCompiler({"config.schema.json": schema}).compile(schema, "config.schema.json")


def _chaos(data: dict[str, Any]) -> Chaos:
    return Chaos(
        float(data.get("probability", 0.0)),
        tuple(data.get("statuses", ())),
        tuple(data.get("faults", ())),
    )


def _limits(data: dict[str, Any] | None) -> Limits | None:
    return None if data is None else Limits(**data)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read and check a YAML config file; values ready for ``Settings``."""
    path = Path(path)
    try:
        text = path.read_bytes()
        data = load_yaml(text) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: a config file holds a mapping of settings")
    try:
        _config_check()(data)
    except Invalid as invalid:
        parts = list(reversed(invalid.reversed_path))
        unknown = invalid.code == "unknown_parameter"
        line, column = Locator(text).find(parts, key=unknown)
        if unknown and len(parts) == 1:
            known = sorted(_config_schema()["properties"])
            close = close_matches(str(parts[0]), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known settings: {', '.join(known)}"
            message = f"unknown setting {parts[0]!r}; {hint}"
        else:
            message = invalid.text
        raise ConfigError(f"{path}:{line}:{column}: {message}") from None
    values: dict[str, Any] = {name: data[name] for name in _SIMPLE if name in data}
    if "api_keys" in data:
        values["api_keys"] = [
            KeySpec(k)
            if isinstance(k, str)
            else KeySpec(
                k["key"],
                k.get("balance"),
                _limits(k.get("limits")),
                _chaos(k["chaos"]) if "chaos" in k else None,
            )
            for k in data["api_keys"]
        ]
    if "limits" in data:
        values["limits"] = _limits(data["limits"])
    if "chaos" in data:
        values["chaos"] = _chaos(data["chaos"])
        values["chaos_profiles"] = {
            name: _chaos(spec) for name, spec in data["chaos"].get("profiles", {}).items()
        }
    for name in ("scenarios", "profile_files"):  # relative to the config file
        if name in values:
            values[name] = [str(path.parent / p) for p in values[name]]
    if "record_to" in values:
        values["record_to"] = str(path.parent / values["record_to"])
    return values


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    values = {}
    for name in _SIMPLE:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(name, raw, ENV_PREFIX + name.upper())
    return values


def build_settings(
    flags: dict[str, Any], config_file: str | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Settings from the config file, overridden by the environment, overridden by flags."""
    env_values = from_environment(environ)
    config_file = config_file or (os.environ if environ is None else environ).get(
        ENV_PREFIX + "CONFIG"
    )
    values = load_config_file(config_file) if config_file else {}
    if "api_keys" in env_values or flags.get("api_keys"):
        # Keys given on the command line or in the environment replace the file's list; a key
        # the file also lists keeps its account settings.
        configured = {k.key: k for k in values.get("api_keys", [])}
        given = flags.get("api_keys") or env_values["api_keys"]
        values["api_keys"] = [configured.get(str(k), KeySpec(str(k))) for k in given]
        env_values.pop("api_keys", None)
        flags = {k: v for k, v in flags.items() if k != "api_keys"}
    values.update(env_values)
    values.update({k: v for k, v in flags.items() if v is not None and v != []})
    return Settings(**values)
