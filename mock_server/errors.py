"""The one error type of mock-server.

``ApiError`` is raised anywhere on the request path and rendered once, in the wording of the
profile that serves the request (see ``profiles.Profile.render_error``). It imports nothing from
the package so every module can use it.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer to a request.

    ``kind`` names an entry of the profile's error catalog: a status (``"400"``) or a named case
    (``"unknown_field"``, ``"missing_api_key"``, ``"insufficient_quota"`` ...). ``detail`` fills
    the catalog's ``{detail}`` placeholder and ``values`` its other placeholders; any of
    ``message``, ``type``, ``code`` given here win over the catalog (``code=...``, the default,
    means "the catalog's"). ``status`` defaults to the catalog entry's status.
    """

    def __init__(
        self,
        kind: str | int,
        detail: str = "",
        *,
        param: str | None = None,
        status: int | None = None,
        message: str | None = None,
        type: str | None = None,
        code: Any = ...,
        values: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or detail or str(kind))
        self.kind = str(kind)
        self.detail = detail
        self.param = param
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.values = values or {}
        self.headers = headers or {}

    def __repr__(self) -> str:
        return f"ApiError({self.kind!r}, {self.detail!r}, param={self.param!r})"


class ConfigError(Exception):
    """A scenario, profile or config file that cannot be used; the message says where and why."""
