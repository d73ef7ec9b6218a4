"""``Exchange``: one request on its way through the server, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDictProxy

from ..engine.choosing import Selection
from ..providers import Profile
from ..redaction import shown_key
from ..wire.answer import Written
from ..wire.faults import Fault
from .state import ServerState
from .tenant_state import TenantState


@dataclass(slots=True, eq=False)
class Incoming:
    """What the pipeline reads of a request, whichever way it came in: through aiohttp's
    request object or straight from the connection (``server.connection``)."""

    method: str
    path: str
    headers: CIMultiDictProxy[str]
    raw_headers: tuple[tuple[bytes, bytes], ...]
    tenant: str | None  # the {tenant} and {profile} parts of the path, when it has them
    profile: str | None

    @classmethod
    def of(cls, request: web.BaseRequest) -> Incoming:
        """What aiohttp's request object says."""
        match = request.match_info
        return cls(
            request.method,
            request.path,
            request.headers,
            request.raw_headers,
            match.get("tenant"),
            match.get("profile"),
        )


MAX_NAMED_MODEL = 256  # the longest model name an error's wording names


@dataclass(slots=True, eq=False)
class Exchange:
    """One request on its way through the server, and what became of it (for the journal)."""

    state: ServerState
    incoming: Incoming
    api: Any  # the ``apis.api.Api`` the request is for (the seam's object)
    request_id: str
    tenant: TenantState
    profile: Profile
    started: float
    raw: bytes | None = None  # the body as sent (decoded), for an upstream
    # The JSON body, once read: as sent until the API's check passes it (a refused one is
    # still there for the error's wording and the log line to name its model).
    body: dict[str, Any] | None = None
    checked: Any = None  # what the API's check made of the body, for its later stages
    key: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)  # routing hints a gateway consumes
    headers: dict[str, str] = field(default_factory=dict)  # e.g. x-ratelimit-*, on every answer
    chaos: Fault | None = None
    selection: Selection | None = None
    asked: bool = False  # scenarios (or, recording, the upstream) were asked: it got that far
    # No scenario answered and a placeholder did (the fallback reply, or strict mode's 404).
    placeholder: bool = False
    near_miss: list[dict[str, Any]] | None = None
    warnings: tuple[str, ...] = ()  # what the scenario's reply says that the request rules out
    status: int = 200  # 0: a fault left the client without a response
    written: Written | None = None  # what the API's encoder made of the reply
    chunks: int | None = None  # events sent, for a stream
    client_left: bool = False  # the client hung up before the stream's end
    chunk_ms: list[float] = field(default_factory=list)  # when each chunk was due
    fault: str | None = None
    error_code: str | None = None  # the code (or kind) of an error answer, for the request log
    forwarded: bool = False  # answered by an upstream (recording)
    recorded: str | None = None  # the scenario the upstream's answer was recorded as
    summary: bytes | None = None  # a relayed stream's answer as one completion, for the journal

    def named(self) -> dict[str, str]:
        """What an error's wording may name of the request: the model it asked for (a name of
        up to ``MAX_NAMED_MODEL`` characters), its key as providers show keys."""
        named = shown_key(self.key) if self.key else {}
        model = self.body.get("model") if isinstance(self.body, dict) else None
        if isinstance(model, str) and len(model) <= MAX_NAMED_MODEL:
            named["model"] = model
        return named
