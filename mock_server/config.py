"""Server settings: defaults, then the config file, then ``MOCK_SERVER_*`` variables, then flags.

The config file is checked against ``schemas/config.schema.json``; a problem is reported as
``file:line:column: what is wrong``, like scenario files. Every other source is brought to the
file's form and held to the same schema (``settings_from``): variables and flags, ``MockServer``'s
keyword arguments, the pytest marker's settings; a problem there begins with what that source
calls the setting (``MOCK_SERVER_PORT``, ``--port``, ``MockServer(port=...)``).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .bundled import bundled
from .checks.schema import Check, Invalid, SchemaCompiler
from .checks.settings_file import read_settings_file, what_is_wrong, wrong_in_file
from .errors import ConfigError
from .redaction import Scrubber, redact
from .yamlio import closest

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
# The words a flag, a variable or a query may say yes or no with.
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parsed(name: str, text: str, origin: str) -> Any:
    """The value of setting ``name`` written as ``text`` (a variable's), in the config file's
    form; its ranges are checked with the file's."""
    try:
        if name in _LISTS and name in _LIST_SEPARATORS:
            return [v for v in text.split(_LIST_SEPARATORS[name]) if v.strip()]
        if name in _LISTS:
            items = [v.strip() for v in text.replace(",", os.pathsep).split(os.pathsep)]
            if text.strip() and not any(items):  # "," would configure no key at all
                raise ValueError(text)
            return [v for v in items if v]
        if name in _INTS:
            return int(text)
        if name in _FLOATS:
            return float(text)
        if name in _BOOLS and text.lower() not in TRUE_WORDS + FALSE_WORDS:
            raise ValueError(text)
    except ValueError:
        raise ConfigError(f"{origin}: {name} has a bad value {text!r}") from None
    return text.lower() in TRUE_WORDS if name in _BOOLS else text


@functools.cache
def _config_schema() -> dict[str, Any]:
    return json.loads((bundled("schemas") / "config.schema.json").read_text("utf-8"))


def _known() -> list[str]:
    """Every setting's name, for a did-you-mean."""
    return sorted(_config_schema()["properties"])


@functools.cache
def _compiler() -> SchemaCompiler:
    return SchemaCompiler({"config.schema.json": _config_schema()})


@functools.cache
def _config_check() -> Check:
    """The check of a whole config file."""
    return _compiler().compile(_config_schema(), "config.schema.json")


@functools.cache
def _setting_check(name: str) -> Check:
    """The check of one setting, compiled when a source first gives it."""
    return _compiler().compile(_config_schema()["properties"][name], "config.schema.json")


def _each_setting(data: dict[str, Any]) -> None:
    """``data`` checked as the config file's schema checks it (a mapping of known settings),
    setting by setting, so that start-up compiles only the checks of the settings given."""
    known = _config_schema()["properties"]
    for name in sorted(data, key=lambda name: name in known):  # unknown ones first, as there
        try:
            if name not in known:
                raise Invalid("unknown_parameter", lambda path: f"Unknown parameter: '{path}'.")
            _setting_check(name)(data[name])
        except Invalid as invalid:
            invalid.reversed_path.append(name)
            raise


def _plain(value: Any) -> Any:
    """``value`` as a config file holds it: ``Limits``, ``Chaos`` and ``KeySpec`` as mappings
    (unset fields left out), tuples as lists, paths as text. What no config file can hold (a
    number that is not finite, any other object) is ``Invalid``."""
    if is_dataclass(value) and not isinstance(value, type):
        given = {f.name: getattr(value, f.name) for f in fields(value)}
        value = {name: v for name, v in given.items() if v is not None}
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple, dict)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        plain = {}
        for key, item in items:
            try:
                plain[key] = _plain(item)
            except Invalid as invalid:
                invalid.reversed_path.append(key)
                raise
        return plain if isinstance(value, dict) else list(plain.values())
    if isinstance(value, float) and not math.isfinite(value):
        problem = f"a finite number, but got {value}"
    elif value is None or isinstance(value, (str, int, float)):
        return value
    else:
        problem = (
            f"a value a config file can hold, but got a value of type {type(value).__name__!r}"
        )
    raise Invalid("invalid_value", lambda path: f"Invalid '{path}': expected {problem} instead.")


def _checked(
    data: dict[str, Any], wrong: Callable[[Invalid], ConfigError], check: Check = _each_setting
) -> dict[str, Any]:
    """``data`` in the config file's form, checked against ``config.schema.json`` (by
    ``check``) and for what the schema cannot say (``_check_items``); a problem is the
    ``ConfigError`` that ``wrong`` makes of it."""
    try:
        data = _plain(data)
        check(data)
        _check_items(data)
    except Invalid as invalid:
        raise wrong(invalid) from None
    return data


def split_upstream(spec: str) -> tuple[str, str]:
    """An upstream to record from, ``[PROFILE=]URL``, as its profile ("" when it names none)
    and its URL."""
    if "=" not in spec.split("://")[0]:
        return "", spec
    profile, _, url = spec.partition("=")
    return profile, url


def upstream_problem(spec: str) -> str | None:
    """What is wrong with an upstream to record from (``[PROFILE=]URL``), or None. Said without
    the spec itself, which may hold a secret (a user part, a query)."""
    url = split_upstream(spec)[1]
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is no number, or out of range, raises
    except ValueError:  # that, or an unclosed [IPv6] host
        parts, port = None, None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or port == 0
        or any(c.isspace() for c in url)
    ):
        return "the upstream must be an http:// or https:// URL (optionally PROFILE=URL)"
    if parts.query or parts.fragment or "@" in parts.netloc or url.endswith(("?", "#")):
        return (
            "give the upstream's base URL, without credentials, query or fragment (keys go in "
            f"{ENV_PREFIX}UPSTREAM_KEY)"
        )
    return None


def regex_problem(pattern: str) -> str | None:
    """What is wrong with a regex to scrub from recordings (``redact``), or None: it is tried
    as the recorder uses it, one branch of a union with the built-in patterns."""
    try:
        scrubber = Scrubber([pattern])
    # OverflowError: a repeat count past 2**32 - 1; ValueError: flags that exclude each other
    except (re.error, OverflowError, ValueError) as exc:
        return f"not a regex: {exc}"
    if scrubber.patterns[-1].fullmatch(""):
        return "matches empty text, so it would scrub between every two characters"
    return None


def _check_items(data: dict[str, Any]) -> None:
    """Each item of the list settings whose items have a form the schema does not say."""
    for name, problem in (("record", upstream_problem), ("redact", regex_problem)):
        for index, item in enumerate(data.get(name) or ()):
            said = problem(item)
            if said is not None:
                invalid = Invalid(
                    "invalid_value", lambda path, said=said: f"Invalid '{path}': {said}."
                )
                invalid.reversed_path += [index, name]
                raise invalid


def _chaos(data: dict[str, Any]) -> Chaos:
    return Chaos(
        float(data.get("probability", 0.0)),
        tuple(data.get("statuses", ())),
        tuple(data.get("faults", ())),
    )


def _limits(data: dict[str, Any] | None) -> Limits | None:
    return None if data is None else Limits(**data)


def _key(data: str | dict[str, Any]) -> KeySpec:
    if isinstance(data, str):
        return KeySpec(data)
    chaos = _chaos(data["chaos"]) if "chaos" in data else None
    return KeySpec(data["key"], data.get("balance"), _limits(data.get("limits")), chaos)


def _converted(data: dict[str, Any], base: Path | None = None) -> dict[str, Any]:
    """Checked settings in the config file's form as ``Settings`` values; relative paths are
    relative to ``base`` when given (a config file's folder)."""
    values: dict[str, Any] = {name: data[name] for name in _SIMPLE if name in data}
    for name in _INTS & values.keys():  # an integral decimal (``2.0``) passes as an integer
        values[name] = values[name] if values[name] is None else int(values[name])
    if "api_keys" in data:
        values["api_keys"] = [_key(k) for k in data["api_keys"]]
    if "limits" in data:
        values["limits"] = _limits(data["limits"])
    if "chaos" in data:
        values["chaos"] = _chaos(data["chaos"])
        values["chaos_profiles"] = {
            name: _chaos(spec) for name, spec in data["chaos"].get("profiles", {}).items()
        }
    if values.get("record_to") == "":  # no recording file of the server's own
        values["record_to"] = None
    if base is not None:
        for name in ("scenarios", "profile_files"):
            if name in values:
                values[name] = [str(base / p) for p in values[name]]
        if values.get("record_to") is not None:
            values["record_to"] = str(base / values["record_to"])
    return values


def settings_from(data: dict[str, Any], name: Callable[[str], str]) -> dict[str, Any]:
    """Settings in the config file's form from one source (arguments, variables, flags),
    checked as the file is and ready for ``Settings``; a problem is a ``ConfigError`` that
    begins with ``name(setting)``, what that source calls the setting."""

    def wrong(invalid: Invalid) -> ConfigError:
        setting = name(str(invalid.reversed_path[-1]))
        return ConfigError(f"{setting}: {what_is_wrong(invalid, _known(), 'setting', named=False)}")

    return _converted(_checked(data, wrong))


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read and check a YAML config file; values ready for ``Settings``."""
    path = Path(path)
    data, text = read_settings_file(path, "config")

    def wrong(invalid: Invalid) -> ConfigError:
        return wrong_in_file(path, text, invalid, _known(), "setting")

    return _converted(_checked(data, wrong, _config_check()), path.parent)


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings ``MOCK_SERVER_*`` variables give, checked as the config file is."""
    environ = os.environ if environ is None else environ
    given = {
        name: _parsed(name, environ[ENV_PREFIX + name.upper()], ENV_PREFIX + name.upper())
        for name in sorted(_SIMPLE)
        if environ.get(ENV_PREFIX + name.upper())
    }
    return settings_from(given, lambda name: ENV_PREFIX + name.upper())


# Variables the server reads besides the settings': the config file's path and the recorder's
# upstream keys (``UPSTREAM_KEY`` and ``UPSTREAM_KEY_<PROFILE>``); and the pytest plugin's.
_OTHER_VARIABLES = ("CONFIG", "UPSTREAM_KEY")
_PLUGIN_VARIABLES = ("URL", "API_KEY")


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """What to say of each ``MOCK_SERVER_*`` variable the server does not read (a typo would
    lie dead): ``MOCK_SERVER_PROT: no such variable, ignored; did you mean MOCK_SERVER_PORT?``.
    An empty variable is unset; one of the pytest plugin's is said to be its, not the
    server's, when it looks like a setting (``API_KEY``, the plugin's; ``API_KEYS``, ours)."""
    environ = os.environ if environ is None else environ
    known = [*map(str.upper, _SIMPLE), *_OTHER_VARIABLES]
    said = []
    for name, value in sorted(environ.items()):
        given = name.removeprefix(ENV_PREFIX)
        if given == name or not value or given in known or given.startswith("UPSTREAM_KEY_"):
            continue
        close = closest(given, known)
        if given in _PLUGIN_VARIABLES:
            if close is not None:
                reads = f"{ENV_PREFIX}{close}"
                said.append(f"{name}: the pytest plugin's, not read by the server ({reads} is)")
            continue
        hint = f"; did you mean {ENV_PREFIX}{close}?" if close else ""
        said.append(f"{name}: no such variable, ignored{hint}")
    return said


def build_settings(
    flags: dict[str, Any],
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    flag_names: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from the config file, overridden by the environment, overridden by flags
    (given unset as None); each source is checked as the config file is, and a problem in a
    flag names it by ``flag_names`` (``{"max_body_bytes": "--max-body-bytes"}``)."""
    env_values = from_environment(environ)
    config_file = config_file or (os.environ if environ is None else environ).get(
        ENV_PREFIX + "CONFIG"
    )
    values = load_config_file(config_file) if config_file else {}
    given = {k: v for k, v in flags.items() if v is not None and v != []}
    flag_values = settings_from(given, lambda name: (flag_names or {}).get(name, name))
    flag_keys, env_keys = flag_values.pop("api_keys", None), env_values.pop("api_keys", None)
    if flag_keys or env_keys:
        # Keys given on the command line or in the environment replace the file's list; a key
        # the file also lists keeps its account settings.
        configured = {k.key: k for k in values.get("api_keys", [])}
        values["api_keys"] = [configured.get(k.key, k) for k in flag_keys or env_keys]
    values.update(env_values)
    values.update(flag_values)
    return Settings(**values)
