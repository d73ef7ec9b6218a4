"""YAML reading: safe loading only, with libyaml's C parser when it is installed (it parses
our data files ten times faster than the pure-Python one, which matters for start-up)."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def load_yaml(source: str | bytes) -> Any:
    """Parse one YAML document with the safe loader; no Python objects can be built."""
    return yaml.load(source, Loader=SafeLoader)


def compose_yaml(source: str | bytes) -> yaml.Node | None:
    """The node tree of one document, with the line and column of every node."""
    return yaml.compose(source, Loader=SafeLoader)
