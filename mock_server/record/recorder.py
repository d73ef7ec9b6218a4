"""The recorder: forward a request to its profile's upstream, relay the answer, keep it.

The pipeline calls ``Recorder.forward`` for a valid request no scenario answered (mode ``new``)
or for every valid request (mode ``all``). The upstream's answer goes to the client as it
arrives — a stream chunk by chunk — and is read at the same time into a step of the scenario
that answers exactly that request (``record.capture``, ``record.identity``), written to the
recording file (``record.store``) and put where it replays (the server's file scenarios, or,
for a tenant recording into a file of its own, that tenant's). Recorded scenarios say
``on_exhausted: record``: identical requests replay their steps in order, and in mode ``new``
one beyond the last step is forwarded again and its answer appended as the next step. The
tenant that sent the request counts the steps recorded so far as served, so its next identical
request asks for the step after. Answers to ``401``/``403`` are relayed but not kept: they say
something about the key, not the request; nor is an upstream's refusal of a request that names
what it stores — a response it continues, the conversation it goes on in, an item it references
— as one it does not hold (a 404, or a code ending in ``_not_found``): the server answers that
itself for what it does not hold, so the upstream says it only of what the server holds and the
upstream never gave (a replayed response, the server's own conversation), which would stand for
ever.

A tenant's recording file (``PUT /__admin/recording``) lies inside the recording root: the
``--record-to`` folder (the folder of ``--record-to`` when that names a file), or the working
directory of a server that records only into tenants' files (``record_to`` none, as the pytest
plugin starts it); any other path is refused before anything is read or written.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from ..config import RECORD_MODES, Settings
from ..engine.choosing import ScenarioState
from ..engine.loading import ScenarioProblems, parse_scenarios
from ..engine.patterns import unbounded
from ..engine.request_view import RequestView
from ..engine.scenario import Scenario
from ..errors import ConfigError
from ..jsonio import dumps
from ..providers import ProfileRegistry
from ..redaction import Scrubber
from ..wire.faults import reset_connection
from .capture import Facts, StreamCapture, completion_reply, error_reply
from .identity import match_conditions, scenario_name
from .store import RecordingFile, check_writable, confined
from .upstream import Upstream, UpstreamClient, parse_upstreams, relayed_headers, upstream_error

log = logging.getLogger("mock_server")
NOT_KEPT = (401, 403)
DONE = b"data: [DONE]"
RECORDING_SUFFIXES = (".yaml", ".yml")
# Recorded scenarios rank after those loaded from files at start-up.
_RECORDED_ORDER = itertools.count(10**9)


@dataclass
class RecordingTarget:
    """Where one tenant's (or the server's) recordings go, and when to forward."""

    mode: str
    file: RecordingFile
    # Called with the parsed scenario so the next identical request replays it.
    replay: Callable[[list[Scenario]], None]


@dataclass
class _Step:
    """One forwarded request: where its answer is recorded, and whose sequence it advances."""

    target: RecordingTarget
    upstream: Upstream
    view: RequestView
    progress: ScenarioState


@dataclass
class Outcome:
    """What a forwarded request became, for the journal and the log line."""

    response: web.StreamResponse
    recorded: str | None = None  # the scenario written
    chunks: int | None = None
    summary: bytes | None = None  # a relayed stream's answer, whole
    client_left: bool = False  # the client hung up before the relayed stream's end


class Recorder:
    """Upstreams by profile, the recording mode and what redaction adds; see the module doc."""

    def __init__(
        self,
        settings: Settings,
        profiles: ProfileRegistry,
        replay: Callable[[list[Scenario]], None],
    ) -> None:
        self.upstreams = parse_upstreams(settings.record, profiles.default.name)
        for name in self.upstreams:
            if profiles.get(name) is None:
                known = ", ".join(sorted(p.name for p in profiles))
                raise ConfigError(f"record {name}=...: no profile {name!r}; known: {known}")
        mode = settings.record_mode or ("none" if settings.strict else "new")
        if mode not in RECORD_MODES:
            raise ConfigError(f"record_mode must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
        self.mode = mode
        self.timing = settings.record_timing
        for pattern in settings.redact:  # it searches what clients and upstreams send
            why = unbounded(pattern, "text")
            if why is not None:
                raise ConfigError(f"redact: {pattern!r} {why}")
        try:  # each pattern was checked with the settings; together they may still clash
            self.scrubber = Scrubber(settings.redact)
        except (re.error, OverflowError, ValueError) as exc:  # a group name used twice, say
            raise ConfigError(f"redact: these patterns cannot be used together: {exc}") from None
        self.client = UpstreamClient(settings.upstream_timeout)
        # None: no recording file of the server's own, only tenants' (the pytest plugin).
        self.record_to = Path(settings.record_to) if settings.record_to else None
        self.root = (
            Path(settings.recording_root).resolve()
            if settings.recording_root
            else recording_root(self.record_to)
        )
        # Every target writing one file shares its one RecordingFile (each save rewrites the
        # whole file), while some target holds it.
        self._files: weakref.WeakValueDictionary[Path, RecordingFile] = (
            weakref.WeakValueDictionary()
        )
        # Opened now, so that no request waits for a file to be read.
        self._server_targets: dict[str, RecordingTarget] = {}
        if self.record_to is not None:
            for name in self.upstreams:
                if mode != "none":  # a file only replayed may lie where nothing is written
                    _writable(self.server_file(name))
                file = self._file(self.server_file(name), fresh=False)
                self._server_targets[name] = RecordingTarget(self.mode, file, replay)

    def _file(self, path: Path, fresh: bool, root: Path | None = None) -> RecordingFile:
        """The recording file at ``path``: the one already open there, unless ``fresh``;
        ``root``: the folder it must stay inside (a tenant's)."""
        resolved = path.resolve()
        file = self._files.get(resolved)
        if file is None or fresh:
            file = self._files[resolved] = _open(path, fresh, root)
        return file

    def server_file(self, profile: str) -> Path:
        """The server's recording file for ``profile``: ``--record-to`` itself when it names a
        file, else ``<folder>/<profile>.yaml``."""
        assert self.record_to is not None
        if self.record_to.suffix in RECORDING_SUFFIXES:
            return self.record_to
        return self.record_to / f"{profile}.yaml"

    def existing_files(self) -> list[Path]:
        """Recordings to load at start-up (replayed without the upstream)."""
        return [self.record_to] if self.record_to and self.record_to.exists() else []

    def server_target(self, profile: str) -> RecordingTarget | None:
        """The server's recording file for a profile that has an upstream."""
        return self._server_targets.get(profile)

    def tenant_target(
        self, mode: str, path: Path, replay: Callable[[list[Scenario]], None], fresh: bool
    ) -> RecordingTarget:
        """Where a tenant records (``PUT /__admin/recording``): ``path``, inside the root."""
        if mode not in RECORD_MODES:
            raise ValueError(f"mode must be one of {', '.join(RECORD_MODES)}, not {mode!r}")
        if path.suffix not in RECORDING_SUFFIXES:
            raise ValueError(f"a recording file ends in .yaml or .yml, not {path.name!r}")
        resolved = confined(path, self.root)
        if mode != "none":
            check_writable(resolved)
        return RecordingTarget(mode, self._file(resolved, fresh, self.root), replay)

    def upstream(self, profile: str) -> Upstream | None:
        return self.upstreams.get(profile)

    async def forward(
        self,
        target: RecordingTarget,
        upstream: Upstream,
        request: web.Request,
        raw_body: bytes,
        view: RequestView,
        progress: ScenarioState,
        records: bool = True,
    ) -> Outcome:
        """Send the request upstream, relay the answer, record it (see the module doc);
        ``progress``: the sequence positions of the tenant that sent it; ``records``: False
        for an API whose answers are only relayed (embeddings)."""
        started = time.monotonic()
        response = await self.client.send(upstream, raw_body, request.headers)
        step = _Step(target, upstream, view, progress)
        try:
            streamed = response.content_type == "text/event-stream"
            if records and response.status == 200 and streamed:
                return await self._relay_stream(step, request, response, started)
            try:
                data = await response.read()
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise _cut(upstream, exc, self.client.timeout) from None
        finally:
            response.release()
        outcome = Outcome(
            web.Response(
                body=data, status=response.status, headers=relayed_headers(response.headers)
            )
        )
        reply = self._reply_of(response.status, data, response.headers, view) if records else None
        if reply is not None:
            outcome.recorded = await self._keep(step, *reply)
        return outcome

    def _reply_of(
        self, status: int, data: bytes, headers: Any, view: RequestView
    ) -> tuple[dict[str, Any], Facts] | None:
        try:
            body: Any = json.loads(data)
        except ValueError:
            body = data.decode("utf-8", "replace")
        if status == 200:
            return completion_reply(body, self.scrubber)
        if _not_held(status, body) and _names_stored(view.sent):
            log.warning(
                "recording: the upstream does not hold the response, conversation or item this "
                "request names (one replayed from a recording, or the server's own?); its "
                "refusal is relayed, not recorded: record the conversation afresh "
                "(--record-mode all)"
            )
        elif status == 404 and not _about_model(_error_of(body)):
            log.warning(
                "recording: the upstream answered 404 for a path it does not serve, it seems: "
                "is the --record URL its API's base (https://api.openai.com/v1 for OpenAI)? "
                "Relayed, not recorded"
            )
        elif status >= 400 and status not in NOT_KEPT:
            return error_reply(status, body, headers, self.scrubber), Facts()
        return None

    async def _relay_stream(
        self, step: _Step, request: web.Request, response: aiohttp.ClientResponse, started: float
    ) -> Outcome:
        out = web.StreamResponse(status=200, headers=relayed_headers(response.headers))
        await out.prepare(request)
        capture = StreamCapture(started)
        outcome = Outcome(out)
        try:
            async for data in response.content.iter_any():
                capture.feed(data)
                if capture.done and outcome.summary is None:
                    # The client gets [DONE] (or, for a Responses stream, the last byte of its
                    # last event) once the recording is on disk, so a test that has read the
                    # whole stream can read the recording too.
                    end = data.find(DONE)
                    end = end if end >= 0 else len(data) - 1
                    await out.write(data[:end])
                    await self._record_stream(step, capture, outcome)
                    data = data[end:]
                await out.write(data)
            if not capture.done:  # the upstream ended its stream without [DONE]
                await self._record_stream(step, capture, outcome)
            await out.write_eof()
        except (TimeoutError, ConnectionError, aiohttp.ClientError) as exc:
            if request.transport is None or request.transport.is_closing():
                outcome.client_left = True  # the client hung up, not the upstream
            elif not capture.done:  # after its end, the answer was whole (and is recorded)
                log.warning(
                    "stream from %s cut short (%s): not recorded", step.upstream.endpoint, exc
                )
                reset_connection(request)  # the client's stream is broken off too, not ended
        outcome.chunks = capture.events
        return outcome

    async def _record_stream(self, step: _Step, capture: StreamCapture, outcome: Outcome) -> None:
        """Record a stream the upstream ended (the log says why not, when it cannot be)."""
        problem = capture.problem()
        if capture.done or problem is None:
            outcome.summary = dumps(capture.completion())
        if problem is not None:
            log.warning("stream from %s not recorded: %s", step.upstream.endpoint, problem)
            return
        reply = capture.reply(self.scrubber, self.timing)
        outcome.recorded = await self._keep(step, reply, capture.facts)

    async def _keep(self, step: _Step, reply: dict[str, Any], facts: Facts) -> str | None:
        """Write the answer as the next step of its request's scenario and make it replay;
        the scenario's name, or None when it cannot be kept (the log says why)."""
        target, upstream, view = step.target, step.upstream, step.view
        match = match_conditions(view, self.scrubber)
        name = scenario_name(view.profile, match, view, self.scrubber)
        when = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        comment = [f"recorded {when} from {upstream.endpoint}"]
        answered = [
            f"{label} {value}"
            for label, value in (
                ("model", facts.model),
                ("system_fingerprint", facts.system_fingerprint),
            )
            if value
        ]
        if answered:
            comment.append("answered by " + ", ".join(answered))
        comment = [self.scrubber.text(line) for line in comment]  # an internal host, a model
        scenario = {
            "name": name,
            "profile": view.profile,
            "on_exhausted": "record",
            "match": match,
            "reply": reply,
        }
        try:
            parse_scenarios(scenario, str(target.file.path))
        except ScenarioProblems as problems:
            log.warning("answer from %s not recorded: %s", upstream.endpoint, problems)
            return None
        stored, steps = target.file.put(scenario, comment, target.mode)
        target.replay(
            parse_scenarios(stored, str(target.file.path), first_order=next(_RECORDED_ORDER))
        )
        step.progress.recorded(name, steps)
        try:
            await target.file.save()
        except (OSError, ValueError) as exc:  # the answer is relayed all the same
            log.warning("answer from %s replays, but is not written: %s", upstream.endpoint, exc)
            return None
        return name

    async def close(self, _app: object = None) -> None:
        await self.client.close()


def recording_root(record_to: Path | None) -> Path:
    """The folder tenants' recording files must lie in (see the module doc)."""
    if record_to is None:
        return Path.cwd()
    folder = record_to.parent if record_to.suffix in RECORDING_SUFFIXES else record_to
    return folder.resolve()


def _writable(path: Path) -> None:
    """``check_writable``, as a ``ConfigError`` (the server's own file, at start-up)."""
    try:
        check_writable(path)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _open(path: Path, fresh: bool, root: Path | None) -> RecordingFile:
    try:
        return RecordingFile(path, fresh, root)
    except (OSError, ValueError) as exc:
        raise ConfigError(str(exc)) from None


def _error_of(body: Any) -> dict[str, Any]:
    """An upstream error body's ``error`` object (empty when it has none)."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _about_model(error: dict[str, Any]) -> bool:
    """Whether an upstream's error is about the model asked for (one it does not serve)."""
    return error.get("code") == "model_not_found" or error.get("param") == "model"


def _not_held(status: int, body: Any) -> bool:
    """Whether an upstream's error says something it stores was not found: a 404, or a code
    such as ``previous_response_not_found`` (a model it does not serve is another matter)."""
    error = _error_of(body)
    if _about_model(error):
        return False
    code = error.get("code")
    return status == 404 or (isinstance(code, str) and code.endswith("_not_found"))


def _names_stored(sent: dict[str, Any]) -> bool:
    """Whether a request names what an upstream stores: a response it continues, the
    conversation it goes on in, an item it references."""
    if sent.get("previous_response_id") is not None or sent.get("conversation") is not None:
        return True
    given = sent.get("input")
    return isinstance(given, list) and any(
        isinstance(item, dict) and item.get("type") == "item_reference" for item in given
    )


def _cut(upstream: Upstream, exc: BaseException, timeout: float):
    if isinstance(exc, asyncio.TimeoutError):
        return upstream_error(
            "504", f"upstream {upstream.endpoint} stopped answering for {timeout:g} s"
        )
    return upstream_error("502", f"upstream {upstream.endpoint} broke off its answer: {exc}")
