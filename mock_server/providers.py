"""What a provider is, as data: its paths, its error catalog and envelope, how it writes bodies,
headers and ids, and the compiled checks of its requests. Loaded from profile files by
``checks.profiles``; read by every stage that answers (``wire``, ``accounts``, ``server``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, ConfigError
from .jsonio import COMPACT, JsonStyle
from .yamlio import did_you_mean

DEFAULT_PROFILE = "openai"
DEFAULT_APIS = ("chat_completions",)
BASE_PATHS = ("/v1", "/api/v1", "/v1beta/openai")
ENVELOPES = ("openai", "google")
MAX_NAME_SHOWN = 80  # characters of an unknown profile's name a message repeats
# The wait a rate-limited answer names when nothing else gives one (``retry-after: 1``).
RETRY_AFTER_SECONDS = 1
Check = Callable[[Any], None]


@dataclass(frozen=True)
class ErrorEntry:
    """One error of a profile's catalog: its status, type, code and message template."""

    status: int
    type: str  # in Google's envelope: the status name (INVALID_ARGUMENT ...)
    code: str | None
    message: str
    details: tuple[Any, ...] = ()  # Google's envelope only


RETRY_HEADERS = ("retry-after", "retry-after-ms")


@dataclass(frozen=True)
class RequestChecks:
    """The compiled schema check of one API's requests to a profile (beside chat completions,
    whose checks are the profile's own), and the top-level fields that schema knows."""

    check: Check
    known_fields: frozenset[str]


@dataclass(frozen=True)
class EmbeddingModel:
    """What an embedding model answers: its vector ``dimensions``, whether a request may
    shorten them (``dimensions``), the most tokens one input may have, and the model it names."""

    dimensions: int
    shortens: bool = True
    max_tokens: int = 8192
    answers_as: str | None = None  # e.g. text-embedding-ada-002-v2; None: the name asked for


DEFAULT_EMBEDDING_MODEL = EmbeddingModel(1536)  # a model a profile does not list


@dataclass(eq=False)
class Profile:
    """One emulated provider."""

    name: str
    description: str
    source: str
    check_request: Check  # raises ``ApiError`` for a body the provider refuses
    check_read_fields: Check  # the fields the server reads (read-fields.json), for every profile
    known_fields: frozenset[str]  # the request schema's top-level properties
    paths: tuple[str, ...]
    auth_required: bool
    value_error_status: int
    models: tuple[str, ...]
    errors: dict[str, ErrorEntry]
    response: dict[str, bool] = field(default_factory=dict)
    strip_fields: tuple[str, ...] = ()
    default_provider: str | None = None
    keepalive: bool = False
    keepalive_interval: float = 1.0
    model_aliases: dict[str, str] = field(default_factory=dict)
    reject_unknown_models: bool = False
    error_envelope: str = "openai"
    body_format: JsonStyle = COMPACT
    error_format: JsonStyle = COMPACT
    headers: dict[str, str] = field(default_factory=dict)
    trace_headers: tuple[str, ...] = ()
    processing_ms_header: str | None = None
    retry_headers: bool = True
    rate_limit_headers: bool = True
    error_code: str | None = None  # the code of every error, whatever the catalog or rule says
    apis: tuple[str, ...] = DEFAULT_APIS  # the APIs served at its paths (``apis.api``)
    api_checks: dict[str, RequestChecks] = field(default_factory=dict)  # by API name
    embedding_models: dict[str, EmbeddingModel] = field(default_factory=dict)
    reasoning_models: frozenset[str] = frozenset()  # with the snapshots they answer as
    # The reasoning efforts and verbosities a model takes, by model (and snapshot); one not
    # named takes any.
    reasoning_efforts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    verbosities: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def id_style(self) -> str:
        """How this provider writes ids (see ``wire.ids``)."""
        if self.response.get("uuid_ids"):
            return "uuid"
        return "google" if self.response.get("google_ids") else "openai"

    def reasons(self, model: Any) -> bool:
        """Whether ``model`` is one of the profile's reasoning models (``checks.reasoning``)."""
        return isinstance(model, str) and model in self.reasoning_models

    def does_not_reason(self, model: Any) -> bool:
        """Whether ``model`` is one the profile lists (or the snapshot one answers as) and
        knows not to reason: it names its reasoning models, and this is not one of them."""
        listed = model in self.models or model in self.model_aliases.values()
        return bool(self.reasoning_models) and listed and not self.reasons(model)

    def answer_model(self, model: str) -> str:
        """The model a response names: the dated snapshot an alias stands for, if any."""
        return self.model_aliases.get(model, model)

    def answer_headers(self, headers: dict[str, str], request_id: str) -> dict[str, str]:
        """``headers`` as this provider sends them: its own added, those it never sends
        dropped, the request id (and trace ids) set."""
        out = {**self.headers, **headers, "x-request-id": request_id}
        for name in self.trace_headers:
            out[name] = request_id.removeprefix("req_")
        if not (self.retry_headers and self.rate_limit_headers):
            out = {
                name: value
                for name, value in out.items()
                if (self.retry_headers or name.lower() not in RETRY_HEADERS)
                and (self.rate_limit_headers or not name.lower().startswith("x-ratelimit-"))
            }
        return out

    def error_body(
        self, error: ApiError, named: Mapping[str, str] | None = None
    ) -> tuple[int, Any]:
        """The status and body of ``error`` in this profile's wording and envelope; ``named``:
        what the wording may name of the request (``model``, ``key``) where ``error`` does not."""
        entry = self.errors.get(error.kind) or self.errors.get(str(error.status or 500))
        status = error.status or (entry.status if entry else 500)
        entry = entry or ErrorEntry(status, "api_error", None, "{detail}")
        values = {
            "detail": error.detail, "model": "", "key": "", "key_tail": "", "name": "",
            "suggestion": "", "retry": f"{RETRY_AFTER_SECONDS}s", **(named or {}), **error.values,
        }  # fmt: skip
        if error.message is not None:
            message = error.message
        else:
            message = entry.message.format_map(_Fields(values))
            if not error.detail and message.endswith(": "):
                message = message[:-2]
            if not message.strip():  # a scripted status the catalog words only by its detail
                message = _reason_phrase(status)
        code = self.error_code or (entry.code if error.code is ... else error.code)
        if self.error_envelope == "google":
            # Google's compatible endpoint: a list of one error with the gRPC status name and
            # no type or param; several unknown fields make one error, a line each.
            if error.kind == "unknown_field" and error.values.get("names"):
                message = "\n".join(
                    entry.message.format_map(_Fields({**values, "name": name}))
                    for name in error.values["names"]
                )
            # The status is a gRPC name (INVALID_ARGUMENT ...): an error's own OpenAI-style
            # type (invalid_request_error, mock_no_match) gives way to the catalog's.
            grpc_status = error.type if error.type and error.type.isupper() else entry.type
            google: dict[str, Any] = {"code": status, "message": message, "status": grpc_status}
            if entry.details:
                google["details"] = list(entry.details)
            return status, [{"error": google}]
        body = {
            "error": {
                "message": message,
                "type": error.type or entry.type,
                "param": error.param,
                "code": code,
            }
        }
        return status, body

    def serves(self, base_path: str) -> bool:
        return base_path in self.paths


class _Fields(dict):
    """An error's values for its message: a field the error does not give (a profile file's
    typo) is shown as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _reason_phrase(status: int) -> str:
    from http import HTTPStatus  # an enum of every status: built only when a phrase is needed

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP error {status}"


def unknown_profile(name: str, known: Iterable[str]) -> str:
    """What to say of ``name`` a request, scenario or setting gives when no profile has it:
    ``unknown profile 'opnai'; did you mean 'openai'?`` (the name cut to a readable length)."""
    cut = name if len(name) <= MAX_NAME_SHOWN else name[:MAX_NAME_SHOWN] + "..."
    return f"unknown profile {cut!r}; {did_you_mean(cut, sorted(known), 'profiles')}"


class ProfileRegistry:
    """Every profile known to a server, by name."""

    def __init__(self, profiles: dict[str, Profile], default: str = DEFAULT_PROFILE) -> None:
        if default not in profiles:
            raise ConfigError(unknown_profile(default, profiles))
        self.profiles = profiles
        self.default = profiles[default]

    def get(self, name: str) -> Profile | None:
        return self.profiles.get(name)

    def unknown(self, name: str) -> str:
        """What to say of ``name`` when no profile has it (``unknown_profile``)."""
        return unknown_profile(name, self.profiles)

    def __iter__(self):
        return iter(self.profiles.values())
