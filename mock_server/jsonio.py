"""JSON on the wire, through orjson: compact output (what OpenAI streams) and, on a completion
body, about nine times faster than the standard library's encoder (docs/performance.md)."""

from __future__ import annotations

import json
from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError  # a json.JSONDecodeError, so a ValueError too
# How deep arrays and objects may nest in anything the server reads (request bodies, scenario
# documents): below orjson's encoding limit (254) with room for the envelopes the journal and the
# admin API wrap around a body, and far below the standard library's recursion limit.
MAX_NESTING = 128


def dumps(value: Any) -> bytes:
    """Compact JSON, UTF-8 encoded."""
    return orjson.dumps(value)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def compact_json(value: Any) -> str:
    """JSON text as models emit it in tool arguments: no spaces after separators."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def nests_deeper_than(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` levels deep (walked
    level by level, so a deep value cannot exhaust the stack)."""
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        deeper = []
        for container in level:
            children = container.values() if isinstance(container, dict) else container
            deeper.extend(c for c in children if isinstance(c, (dict, list)))
        level = deeper
    return False
