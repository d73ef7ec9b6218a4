"""What goes out on the wire: completion bodies (ids, usage, finish reasons, profile extras),
the SSE stream and its pacer, transport faults, and the token heuristic behind usage and chunking.

May import ``checks`` (a completion is shaped by its profile) and the shared top-level modules.
"""
