"""A recording file: the scenarios recorded into one YAML file, written atomically.

The file is read once when recording into it starts (its scenarios kept as written, with the
comment lines above each), held in memory, and rewritten whole after each recording: to a
temporary file in the same folder, then renamed over the old one, so a reader never sees half a
file. Writes run off the event loop, one at a time; a recording made while a write is under way
is in the next one, and ``save`` returns once what it added is on disk.

Each recorded answer is a step of its request's scenario: an answer to a request recorded
before (in this run or an earlier one) is appended to that scenario's ``sequence:``, except in
mode ``all``, where the first answer this run records for a request replaces its scenario (the
request is recorded afresh from its first step) and the next ones are appended to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows, which opens no folders (``_BY_FOLDER``)
    fcntl = None  # type: ignore[assignment]

from ..yamlio import YAMLError, dump_yaml, load_yaml, not_valid

SIGNATURE = "# Recorded by mock-server"  # a line of a file the recorder wrote, among its first
HEADER = (
    f"{SIGNATURE} (docs/recording.md). Edit freely: the recorder keeps every\n"
    "# scenario and the comment lines above it; it adds steps, and replaces a scenario only by\n"
    "# re-recording it (mode all).\n"
)
_ITEM = re.compile(r"^  - name: (.+)$")
_COMMENT = re.compile(r"^  (#.*)$")


class RecordingFile:
    """The scenarios of one recording file, by name, in file order."""

    def __init__(self, path: Path, fresh: bool = False, root: Path | None = None) -> None:
        """The file at ``path`` (``fresh``: its scenarios not kept); ``root``: the folder it
        must stay inside when written (a tenant's file). ``ValueError`` or ``OSError`` when it
        cannot be read."""
        self.path = path
        self.root = root
        self.scenarios: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[str]] = {}
        self._this_run: set[str] = set()
        self._blocks: dict[str, str] = {}  # each scenario's YAML with its comment lines
        self._lock = asyncio.Lock()
        self._dirty = False
        if path.exists():
            self._read()  # a file that holds no scenarios is not one to write over, fresh or not
            if fresh:
                self.scenarios.clear()
                self.comments.clear()
                self._blocks.clear()

    def _read(self) -> None:
        raw = self.path.read_bytes()
        try:  # read as a scenario file is, so a problem is pointed at in the same words
            data = load_yaml(raw) or {}
        except YAMLError as exc:
            raise ValueError(not_valid(str(self.path), exc, raw)) from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # UTF-16 or UTF-32, which YAML reads by its byte-order mark
            raise ValueError(
                f"{self.path}: cannot record into it: not UTF-8; save the file as UTF-8"
            ) from None
        items = data.get("scenarios") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ValueError(f"{self.path}: cannot record into it: no 'scenarios:' list")
        if not _signed(text):  # a scenario or settings file: rewriting it would lose what it holds
            raise ValueError(
                f"{self.path}: cannot record into it: the recorder did not write it (its files "
                f"hold '{SIGNATURE}' among their first comment lines); name a new file, or one "
                "it wrote"
            )
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                self.scenarios[item["name"]] = item
        pending: list[str] = []
        for line in text.splitlines():
            comment, item = _COMMENT.match(line), _ITEM.match(line)
            if comment:
                pending.append(comment.group(1))
            elif item:
                try:
                    name = load_yaml(item.group(1))
                except YAMLError:  # not a name this file's writer wrote: its notes are kept
                    name = None  # in the data, not above it
                if isinstance(name, str):
                    self.comments[name] = pending
                pending = []
            elif line.strip():
                pending = []
        self.render()  # the YAML of what is there, made now rather than at the first recording

    def put(
        self, scenario: dict[str, Any], comment: list[str], mode: str
    ) -> tuple[dict[str, Any], int]:
        """Add a freshly recorded answer as a step (see the module doc); returns the scenario
        as it now stands and how many steps it has."""
        name = scenario["name"]
        self._blocks.pop(name, None)
        known = self.scenarios.get(name)
        fresh = known is None or (mode == "all" and name not in self._this_run)
        self._this_run.add(name)
        if fresh:
            if mode == "all":
                self._forget_earlier(scenario)
            self.scenarios[name] = scenario
            self.comments[name] = [f"# {line}" for line in comment]
            return scenario, 1
        steps = [*_steps(known), scenario["reply"]]
        # The steps where the reply (or sequence) was; the rest, hand edits too, as it was.
        merged = {("sequence" if key == "reply" else key): value for key, value in known.items()}
        merged["sequence"] = steps
        self.scenarios[name] = merged
        self.comments[name] = [
            *self.comments.get(name, []),
            *(f"# step {len(steps)}: {line}" for line in comment),
        ]
        return merged, len(steps)

    def _forget_earlier(self, scenario: dict[str, Any]) -> None:
        """Drop what an earlier run recorded for the request ``scenario`` is recorded afresh
        for, under another name: its digest is the same, but a readable condition is not (the
        ``tool_call_id`` of an agent loop's later step, which the upstream names anew each
        run), so it would never answer again."""
        digest = _digest(scenario)
        if digest is None:
            return
        for other in [n for n, s in self.scenarios.items() if _digest(s) == digest]:
            if other != scenario["name"] and other not in self._this_run:
                del self.scenarios[other]
                self.comments.pop(other, None)
                self._blocks.pop(other, None)

    def render(self) -> str:
        """The whole file; each scenario is turned into YAML once, until it changes, so that a
        recording into a large file costs its own scenario, not the file's."""
        if not self.scenarios:
            return HEADER + "scenarios: []\n"
        blocks = self._blocks
        for name in self.scenarios.keys() - blocks.keys():
            lines = [f"  {c}" for c in self.comments.get(name, ())]
            item = dump_yaml([self.scenarios[name]])
            lines += ["  " + line if line else line for line in item.splitlines()]
            blocks[name] = "\n".join(lines)
        return HEADER + "scenarios:\n" + "\n\n".join(blocks[n] for n in self.scenarios) + "\n"

    async def save(self) -> None:
        """Write the file if something changed; returns once this call's changes are on disk."""
        self._dirty = True
        async with self._lock:
            if not self._dirty:
                return  # a write that started after our change already carried it
            self._dirty = False
            await asyncio.to_thread(write_atomically, self.path, self.render(), self.root)


def _digest(scenario: dict[str, Any]) -> str | None:
    """The SHA-256 of a recorded scenario's ``request_digest`` condition, if it has one."""
    match = scenario.get("match")
    pinned = match.get("request_digest") if isinstance(match, dict) else None
    if isinstance(pinned, dict):
        pinned = pinned.get("sha256")
    return pinned.removeprefix("sha256:") if isinstance(pinned, str) else None


def _steps(scenario: dict[str, Any]) -> list[Any]:
    """The replies of a scenario as written: its ``sequence:``, or its one ``reply:``."""
    if "sequence" in scenario:
        return list(scenario["sequence"])
    return [scenario["reply"]] if "reply" in scenario else []


def _signed(text: str) -> bool:
    """Whether ``text`` is a file the recorder wrote: its first comment lines (a byte-order
    mark or an editor's own line before them) hold ``SIGNATURE``."""
    for line in text.lstrip("\ufeff").splitlines():
        if not line.startswith("#"):
            return False
        if line.startswith(SIGNATURE):
            return True
    return False


def write_atomically(path: Path, text: str, root: Path | None = None) -> None:
    """``text`` into ``path`` through a temporary file and a rename; with a ``root``, only if
    the path, its links followed now, still lies inside it (a link made since it was given
    could lead elsewhere). Where the system opens folders (``_BY_FOLDER``), both are made in
    the folder as it was opened, and that folder is checked once open, so a link swapped in
    meanwhile leads nowhere else (``_opened``)."""
    target = path if root is None else confined(path, root)
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = _opened(target.parent, root) if _BY_FOLDER else None
    try:
        _replaced(target, text, folder)
    finally:
        if folder is not None:
            os.close(folder)


_BY_FOLDER = {os.open, os.rename, os.unlink} <= os.supports_dir_fd  # renameat; not on Windows
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def _replaced(target: Path, text: str, folder: int | None) -> None:
    """``target`` holding ``text``, written to a new file beside it and renamed over it; the
    names are taken in the folder ``folder`` is a descriptor of, when it is given."""
    temporary = f".{target.name}.{secrets.token_hex(6)}"

    def named(name: str) -> str:
        return name if folder is not None else str(target.parent / name)

    handle = os.open(named(temporary), _NEW_FILE, 0o644, dir_fd=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(named(temporary), named(target.name), src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(named(temporary), dir_fd=folder)
        raise


def _opened(folder: Path, root: Path | None) -> int:
    """A descriptor of ``folder``; with a ``root``, ``ValueError`` unless the folder it opened
    lies inside it, where the system tells which folder a descriptor is (``/proc/self/fd`` on
    Linux, ``F_GETPATH`` on macOS; elsewhere the check before it was opened stands alone)."""
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    opened = None if root is None else _where(handle)
    if opened is not None and not opened.is_relative_to(root):
        os.close(handle)
        raise _outside(root, f"{str(folder)!r} is now {str(opened)!r}")
    return handle


def _where(handle: int) -> Path | None:
    """The folder a descriptor is of, as the system tells it, or None where it cannot."""
    proc = Path(f"/proc/self/fd/{handle}")
    if proc.exists():
        return proc.resolve()
    if fcntl is not None and hasattr(fcntl, "F_GETPATH"):
        return Path(os.fsdecode(fcntl.fcntl(handle, fcntl.F_GETPATH, bytes(1024))).rstrip("\0"))
    return None


def confined(path: Path, root: Path) -> Path:
    """``path`` resolved (symbolic links followed), or ``ValueError`` naming the rule when it
    climbs with ``..`` or resolves outside ``root``."""
    if ".." in path.parts:
        raise ValueError(f"a recording file's path may not contain '..': {str(path)!r}")
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise _outside(root, f"{str(path)!r} resolves to {str(resolved)!r}")
    return resolved


def _outside(root: Path, where: str) -> ValueError:
    """The refusal of a file that lies outside ``root``; ``where``: where it lies."""
    return ValueError(f"a recording file must lie inside the recording root {str(root)!r}; {where}")


def check_writable(path: Path) -> None:
    """``ValueError`` saying why a file could not be written at ``path`` (its nearest folder
    that exists is no folder, or one this process may not write into), if it could not."""
    problem = _unwritable(path)
    if problem is not None:
        raise ValueError(f"cannot record into {str(path)!r}: {problem}")


def _unwritable(path: Path) -> str | None:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{str(folder)!r} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"this process may not write into {str(folder)!r}"
    if path.is_dir():
        return "it is a folder"
    return None
