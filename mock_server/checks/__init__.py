"""Request validation: loading the provider profiles, the JSON Schema compiler they are checked
with, and the checks a request body passes before anything answers it (body, schema,
semantics).

May import the shared top-level modules only (``errors``, ``jsonio``, ``yamlio``, ``bundled``,
``caches``, ``providers``).
"""
