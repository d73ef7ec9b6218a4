"""Server settings: defaults, then the config file, then ``MOCK_SERVER_*`` variables, then flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .yamlio import YAMLError, load_yaml

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
ENV_PREFIX = "MOCK_SERVER_"


@dataclass
class Settings:
    """Everything a server needs to start; see ``docs/configuration.md``."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    profile: str = "openai"
    profile_files: list[str] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)
    strict: bool = False
    api_keys: list[str] = field(default_factory=list)
    seed: int | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    watch: bool = False
    admin_token: str | None = None
    overrides: bool = True
    keepalive_interval: float | None = None
    journal_size: int = 1000

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["api_keys"] = [redact(k) for k in self.api_keys]
        shown["admin_token"] = self.admin_token and redact(self.admin_token)
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


_LISTS = {"profile_files", "scenarios", "api_keys"}
_INTS = {"port", "seed", "max_body_bytes", "journal_size"}
_BOOLS = {"strict", "watch", "overrides"}
_FLOATS = {"keepalive_interval"}
_FIELDS = {f.name for f in fields(Settings)}


def redact(key: str) -> str:
    """A key shown the way providers show it in errors: its ends, the middle masked."""
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def _coerce(name: str, value: Any, origin: str) -> Any:
    try:
        if name in _LISTS:
            if isinstance(value, str):
                return [v for v in value.replace(",", os.pathsep).split(os.pathsep) if v]
            return [str(v) for v in value]
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
    return str(value)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into settings values."""
    path = Path(path)
    try:
        data = load_yaml(path.read_bytes()) or {}
    except (OSError, YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file holds a mapping of settings")
    values = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in _FIELDS:
            known = ", ".join(sorted(_FIELDS))
            raise ConfigError(f"{path}: unknown setting {key!r}; known settings: {known}")
        if name == "api_keys" and isinstance(value, list):
            value = [v["key"] if isinstance(v, dict) else v for v in value]
        values[name] = _coerce(name, value, str(path))
    base = path.parent
    for name in ("scenarios", "profile_files"):
        if name in values:
            values[name] = [str(base / p) for p in values[name]]
    return values


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    values = {}
    for name in _FIELDS:
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(name, raw, ENV_PREFIX + name.upper())
    return values


def build_settings(
    flags: dict[str, Any], config_file: str | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Settings from the config file, overridden by the environment, overridden by flags."""
    env_values = from_environment(environ)
    config_file = config_file or (environ or os.environ).get(ENV_PREFIX + "CONFIG")
    values = load_config_file(config_file) if config_file else {}
    values.update(env_values)
    values.update({k: v for k, v in flags.items() if v is not None and v != []})
    return Settings(**values)
