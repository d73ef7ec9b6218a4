"""What a request from a new tenant costs the tenants' registry, however many are configured.

    python benchmarks/tenants.py [--configured 999] [--new 20000]

Configures ``--configured`` tenants (as the pytest fixture does, one a test), then times
``Tenants.get`` for ``--new`` tenants never seen before: each one past ``max_tenants`` (1,000)
makes the registry forget another. Figures are microseconds a new tenant, best of three runs.
"""

from __future__ import annotations

import argparse
import time

from mock_server.server.tenants import Tenants


def per_new_tenant(configured: int, new: int) -> float:
    tenants = Tenants()
    for index in range(configured):
        tenant = tenants.get(f"configured-{index}")
        tenants.hold(tenant)
        tenant.strict = True
    for index in range(tenants.max_tenants):  # the registry full before timing starts
        tenants.get(f"warm-{index}")
    started = time.perf_counter()
    for index in range(new):
        tenants.get(f"new-{index}")
    return (time.perf_counter() - started) / new * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configured", type=int, default=999)
    parser.add_argument("--new", type=int, default=20_000)
    args = parser.parse_args()
    for configured in (0, args.configured):
        best = min(per_new_tenant(configured, args.new) for _ in range(3))
        print(f"{configured:>5} configured: {best:.2f} µs a new tenant")


if __name__ == "__main__":
    main()
