"""Scenarios: loading and linting files, the request view they match on, match conditions and
the index, near-miss reports, reply specs and their templates, the fallback reply (and the
bounds it keeps on a client's schema and regular expressions), and the engine that chooses a
scenario and advances its sequence.

May import ``wire`` (replies become completions and streams), ``checks`` (the scenario schema is
compiled by the schema compiler), ``config`` and the shared top-level modules.
"""
