"""Emulated account state: API keys, balances, rate-limit windows, overload and chaos, on one
clock; each tenant has its own accounts.

May import ``wire`` (chaos injects faults; requests are costed in tokens), ``checks``, ``config``
and the shared top-level modules; never ``engine`` or ``server``.
"""
