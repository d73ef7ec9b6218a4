"""Recording: forward what no scenario answers to a real upstream, relay its answer to the
client as it arrives, and write it as an ordinary scenario that replays it offline — upstreams
and their pooled client, reading answers (JSON, SSE, errors) into replies, the match conditions
and names of recorded scenarios, atomic recording files.

May import ``engine`` (recordings are parsed and linted as scenarios, matched on the request
view), ``wire``, ``checks``, ``config`` and the shared top-level modules; never ``server``.
"""
