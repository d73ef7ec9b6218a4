"""A whole answer as it goes out: status, headers and body, ready for either way of sending it
(aiohttp's response, or the connection's own bytes)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web


@dataclass(slots=True)
class Answer:
    """A whole answer, ready to send: status, headers (without the ones the HTTP layer adds:
    Content-Length, Date, Server) and body; ``close``: the connection ends after it."""

    status: int
    headers: dict[str, str]
    body: bytes
    close: bool = False

    def response(self) -> web.Response:
        """The answer as aiohttp sends it."""
        response = web.Response(status=self.status, body=self.body, headers=self.headers)
        if self.close:
            response.force_close()  # e.g. after a 413, rather than draining an unread body
        return response
