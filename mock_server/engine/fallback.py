"""The fallback reply: what the server answers when no scenario applies.

Deterministic, and valid for what the request asked: a tool call with arguments that satisfy
the tool's JSON Schema when ``tool_choice`` demands one, JSON that satisfies
``response_format.json_schema``, ``{"reply": ...}`` for ``json_object``, else text echoing the
last user message.
"""

from __future__ import annotations

from typing import Any

from ..jsonio import compact_json
from ..messages import last_user_text
from ..wire.completions import Choice, ToolCall


def fallback_choice(body: dict[str, Any]) -> Choice:
    """What the server answers when nothing scripted applies.

    A tool call with schema-valid arguments when ``tool_choice`` demands one; schema-valid JSON
    when ``response_format`` is ``json_schema``; ``{"reply": <last user message>}`` for
    ``json_object``; otherwise text echoing the last user message.
    """
    tool = _demanded_tool(body)
    if tool is not None:
        arguments = example_for(tool.get("parameters") or {"type": "object"})
        return Choice(tool_calls=[ToolCall(tool["name"], compact_json(arguments))])
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
        return Choice(content=compact_json(example_for(schema)))
    said = last_user_text(body.get("messages"))
    if response_format.get("type") == "json_object":
        return Choice(content=compact_json({"reply": said}))
    return Choice(content=f"This is a mock response to: {said}")


def _demanded_tool(body: dict[str, Any]) -> dict[str, Any] | None:
    choice = body.get("tool_choice")
    functions = [t.get("function") or {} for t in body.get("tools") or () if isinstance(t, dict)]
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return next((f for f in functions if f.get("name") == name), None)
    if choice == "required" and functions:
        return functions[0]
    return None


def example_for(schema: Any, depth: int = 0) -> Any:
    """A deterministic value that satisfies a (JSON) schema: enums pick their first value,
    numbers their lower bound, objects fill every property, arrays their minimum length."""
    if not isinstance(schema, dict) or depth > 16:
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_for(schema[key][0], depth + 1)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {
            name: example_for(sub, depth + 1)
            for name, sub in (schema.get("properties") or {}).items()
        }
    if kind == "array":
        return [example_for(schema.get("items") or {}, depth + 1)] * schema.get("minItems", 1)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = low + 1 if "exclusiveMinimum" in schema and "minimum" not in schema else low
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = "example"
    text += "x" * max(0, schema.get("minLength", 0) - len(text))
    return text[: schema.get("maxLength", len(text))]
