"""``--watch``: reload scenario files when they change, without a restart.

Files are polled (twice a second; no extra dependency) and read in a worker thread, so the
event loop never blocks on the disk. A broken edit keeps the last good set and logs why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from .errors import ConfigError
from .scenario import bundled_scenarios_dir, load_paths, scenario_files
from .state import STATE

log = logging.getLogger("mock_server")
POLL_SECONDS = 0.5


def _fingerprint(paths: list[str | Path]) -> dict[Path, float]:
    try:
        return {path: path.stat().st_mtime for path in scenario_files(paths)}
    except (OSError, ConfigError):
        return {}


async def _watch(app: web.Application) -> None:
    state = app[STATE]
    paths = state.settings.scenarios
    if paths is None:
        paths = [bundled_scenarios_dir()]
    seen = await asyncio.to_thread(_fingerprint, paths)
    while True:
        await asyncio.sleep(POLL_SECONDS)
        current = await asyncio.to_thread(_fingerprint, paths)
        if current == seen:
            continue
        seen = current
        try:
            scenarios = await asyncio.to_thread(load_paths, paths)
        except ConfigError as exc:
            log.warning("scenario files changed but were not reloaded:\n%s", exc)
            continue
        state.engine.replace(scenarios)
        log.info("reloaded %d scenario(s)", len(scenarios))


async def watch_scenarios(app: web.Application) -> AsyncIterator[None]:
    """An aiohttp ``cleanup_ctx`` that runs the watcher for the app's lifetime."""
    task = asyncio.create_task(_watch(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
