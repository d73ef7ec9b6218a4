"""Upstreams: the real providers (or gateways) a recording server forwards requests to.

``--record [PROFILE=]URL`` names one per profile (a bare URL: the default profile). The key sent
is the client's own ``Authorization``, unless ``MOCK_SERVER_UPSTREAM_KEY_<PROFILE>`` or
``MOCK_SERVER_UPSTREAM_KEY`` is set, read once at start-up. One pooled aiohttp client session
serves every upstream; a connection refused answers 502, an upstream silent past
``upstream_timeout`` 504, both in the wording of the profile that serves the request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import aiohttp

from ..config import split_upstream, upstream_problem
from ..errors import ApiError, ConfigError

KEY_VARIABLE = "MOCK_SERVER_UPSTREAM_KEY"
UPSTREAM_ERROR_HEADER = "x-mock-upstream-error"
_KEY = re.compile(r"[!-~]{1,512}")
# Not forwarded: hop-by-hop headers, what aiohttp sets itself, and what only mock-server reads.
_NOT_FORWARDED = frozenset(
    {
        "host", "content-length", "content-encoding", "transfer-encoding", "connection",
        "keep-alive", "accept-encoding", "te", "trailer", "upgrade", "proxy-authorization",
        "cookie", "x-admin-token",
    }
)  # fmt: skip
# Not relayed back: hop-by-hop headers and the framing aiohttp redoes for the client.
_NOT_RELAYED = frozenset(
    {
        "content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive",
        "set-cookie", "date", "server",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Upstream:
    """Where one profile's requests go, and the key that replaces the client's (if any)."""

    profile: str
    url: str  # the base URL, e.g. https://api.openai.com/v1
    key: str | None = field(default=None, repr=False)
    path: str = "/chat/completions"  # the API's, under the base URL

    @property
    def endpoint(self) -> str:
        return self.url + self.path


def parse_upstreams(
    specs: Iterable[str], default_profile: str, environ: Mapping[str, str] | None = None
) -> dict[str, Upstream]:
    """``[PROFILE=]URL`` specs as upstreams by profile name; ``ConfigError`` for a bad one."""
    environ = os.environ if environ is None else environ
    upstreams: dict[str, Upstream] = {}
    for spec in specs:
        profile, url = split_upstream(spec)
        profile = profile or default_profile
        problem = upstream_problem(spec)
        if problem is not None:
            raise ConfigError(f"record: {problem}")
        if profile in upstreams:
            raise ConfigError(f"record {spec!r}: profile {profile!r} already has an upstream")
        suffix = profile.upper().replace("-", "_")
        variable = (
            f"{KEY_VARIABLE}_{suffix}" if environ.get(f"{KEY_VARIABLE}_{suffix}") else KEY_VARIABLE
        )
        key = environ.get(variable) or None
        if key is not None and not _KEY.fullmatch(key):
            raise ConfigError(
                f"{variable}: not usable as a key (printable ASCII without spaces, as providers "
                "issue them)"
            )
        url = url.rstrip("/").removesuffix("/chat/completions")
        upstreams[profile] = Upstream(profile, url, key)
    return upstreams


def forwarded_headers(headers: Mapping[str, str], upstream: Upstream) -> dict[str, str]:
    """The client's headers as sent on: hop-by-hop and mock-only ones dropped, the key
    replaced when the upstream has its own."""
    out = {
        name: value
        for name, value in headers.items()
        if name.lower() not in _NOT_FORWARDED
        and not name.lower().startswith("x-mock-")
        and _sendable(value)
    }
    out["Content-Type"] = "application/json"
    if upstream.key is not None:
        for name in [n for n in out if n.lower() in ("authorization", "api-key", "x-api-key")]:
            del out[name]
        out["Authorization"] = f"Bearer {upstream.key}"
    return out


def _sendable(value: str) -> bool:
    """Whether a header value can go on as it came: aiohttp hands on bytes that are not UTF-8
    as lone surrogates, which no client can encode again."""
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def relayed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The upstream's answer headers as the client gets them."""
    return {name: value for name, value in headers.items() if name.lower() not in _NOT_RELAYED}


class UpstreamClient:
    """One pooled HTTP client for every upstream, opened on first use."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self.timeout, sock_read=self.timeout
                ),
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def send(
        self, upstream: Upstream, body: bytes, headers: Mapping[str, str]
    ) -> aiohttp.ClientResponse:
        """POST ``body`` to the upstream; its response with the headers read, the body not."""
        try:
            return await self._client().post(
                upstream.endpoint, data=body, headers=forwarded_headers(headers, upstream)
            )
        except TimeoutError:
            raise upstream_error(
                "504", f"upstream {upstream.endpoint} sent no answer within {self.timeout:g} s"
            ) from None
        except aiohttp.ClientError as exc:
            # Not reached at all, or reached and then gone (a reset, a closed connection).
            what = "is unreachable" if isinstance(exc, aiohttp.ClientConnectorError) else "failed"
            raise upstream_error(
                "502", f"upstream {upstream.endpoint} {what}: {type(exc).__name__}: {exc}"
            ) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def upstream_error(status: str, detail: str) -> ApiError:
    """A 502/504 in the serving profile's words, the reason in a header of its own."""
    reason = detail.encode("ascii", "replace").decode().replace("\r", " ").replace("\n", " ")
    return ApiError(
        status, detail, status=int(status), headers={UPSTREAM_ERROR_HEADER: reason[:300]}
    )
