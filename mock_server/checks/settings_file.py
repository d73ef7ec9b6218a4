"""A YAML file of settings (a config file, a profile file): read, then its problems said as a
``ConfigError`` at their line and column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..yamlio import Locator, YAMLError, did_you_mean, load_yaml, not_valid
from .schema import Invalid


def read_settings_file(path: Path, kind: str) -> tuple[dict[str, Any], bytes]:
    """The mapping of settings a ``kind`` of file (``config``, ``profile``) holds, and its
    bytes, to say where a problem is; an empty file holds none."""
    try:
        text = path.read_bytes()
        data = load_yaml(text)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {kind}: {exc.strerror}") from None
    except YAMLError as exc:
        raise ConfigError(not_valid(str(path), exc, text)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1:1: a {kind} file holds a mapping of settings")
    return data, text


def what_is_wrong(invalid: Invalid, known: list[str], what: str, *, named: bool = True) -> str:
    """``invalid`` in words: a name no ``what`` has (``unknown setting 'prot'; did you mean
    'port'?``), or what the schema says of a value, after its path when ``named`` (for a
    place that does not name it itself, as a line and column do not)."""
    parts = invalid.reversed_path
    if invalid.code == "unknown_parameter" and len(parts) == 1:
        return f"unknown {what} {parts[0]!r}; {did_you_mean(str(parts[0]), known, what + 's')}"
    return invalid.named if named else invalid.text


def wrong_in_file(
    path: Path, text: bytes, invalid: Invalid, known: list[str], what: str
) -> ConfigError:
    """``invalid``, found in the file ``path`` holding ``text``, at its line and column."""
    parts = list(reversed(invalid.reversed_path))
    line, column = Locator(text).find(parts, key=invalid.code == "unknown_parameter")
    return ConfigError(f"{path}:{line}:{column}: {what_is_wrong(invalid, known, what)}")
