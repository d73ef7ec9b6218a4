"""What goes out on the wire: answers, completion bodies (ids, usage, finish reasons, profile
extras), the SSE stream and its pacer, transport faults, and the token heuristic behind usage
and chunking.

May import the shared top-level modules (a completion is shaped by its ``providers.Profile``),
never ``checks``: what a provider sends is its data, not its request checks.
"""
