"""``--watch``: reload scenario files when they change, without a restart.

Files are polled (twice a second; no extra dependency) and read in a worker thread, so the
event loop never blocks on the disk. A broken edit keeps the last good set and logs why.

A file counts as changed when its modification time or size changes. Timestamps are coarse
on many filesystems, so two quick writes of the same length can leave both unchanged; files
modified within the last ``RACY_SECONDS`` are therefore compared by content too (the way git
treats "racily clean" index entries).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from ..engine.loading import check_profiles, load_paths, scenario_files
from ..errors import ConfigError
from .state import STATE

log = logging.getLogger("mock_server")
POLL_SECONDS = 0.5
RACY_SECONDS = 2.0

Stamp = tuple[int, int, bytes]
"""A file's modification time (ns), size, and content digest when recently modified."""


def _stamps(paths: list[str | Path]) -> dict[Path, Stamp]:
    racy_after = time.time_ns() - int(RACY_SECONDS * 1e9)
    stamps: dict[Path, Stamp] = {}
    try:
        for path in scenario_files(paths):
            stat = path.stat()
            digest = b""
            if stat.st_mtime_ns >= racy_after:
                digest = hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
            stamps[path] = (stat.st_mtime_ns, stat.st_size, digest)
    except (OSError, ConfigError):
        return {}
    return stamps


def _changed(before: dict[Path, Stamp], after: dict[Path, Stamp]) -> bool:
    if before.keys() != after.keys():
        return True
    for path, (mtime, size, digest) in after.items():
        old_mtime, old_size, old_digest = before[path]
        if (mtime, size) != (old_mtime, old_size):
            return True
        if digest and old_digest and digest != old_digest:
            return True
    return False


async def _watch(app: web.Application, seen: dict[Path, Stamp]) -> None:
    state = app[STATE]
    while True:
        await asyncio.sleep(POLL_SECONDS)
        paths = state.scenario_paths()  # a recording file appears with its first recording
        current = await asyncio.to_thread(_stamps, paths)
        changed = _changed(seen, current)
        seen = current
        if not changed:
            continue
        try:
            scenarios = await asyncio.to_thread(load_paths, paths)
            check_profiles(scenarios, state.profiles)
        except ConfigError as exc:
            log.warning("scenario files changed but were not reloaded:\n%s", exc)
            continue
        except Exception:  # a fault of ours: the last good set stays, and the watch goes on
            log.exception("scenario files changed but could not be reloaded")
            continue
        state.engine.replace(scenarios)
        log.info("reloaded %d scenario(s)", len(scenarios))


async def watch_scenarios(app: web.Application) -> AsyncIterator[None]:
    """An aiohttp ``cleanup_ctx`` that runs the watcher for the app's lifetime. The files are
    first looked at before the server answers anything, so an edit made once it answers is
    never taken for the starting state."""
    seen = await asyncio.to_thread(_stamps, app[STATE].scenario_paths())
    task = asyncio.create_task(_watch(app, seen))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
