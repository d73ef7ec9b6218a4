"""Headers an operator writes into the answers (a scenario's reply, a profile file): each one a
client can read, and none of those the server frames an answer with."""

from __future__ import annotations

import re
from typing import Any

# RFC 9110 section 5.6.2: a field name is a token; a value holds no control character but a tab.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")
MAX_VALUE = 8192  # characters: what common HTTP clients read in one header line
# The server's to write, and why: an answer's framing, and what its body is (JSON, or an event
# stream: a second Content-Type beside the server's would leave a client to guess).
_THE_SERVERS = {
    "content-length": "it frames the answer",
    "transfer-encoding": "it frames the answer",
    "content-type": "it says what the body is, which the server writes",
}


def checked_headers(given: dict[Any, Any]) -> dict[str, str]:
    """``given`` as header names and values; raises ``ValueError`` naming the first header
    that is not one to send."""
    headers = {str(name): str(value) for name, value in given.items()}
    for name, value in headers.items():
        shown = name[:80]  # repr() shows any control character escaped
        if not _NAME.fullmatch(name):
            raise ValueError(f"header name {shown!r} is not an HTTP token (RFC 9110)")
        why = _THE_SERVERS.get(name.lower())
        if why is not None:
            raise ValueError(f"header {shown!r} is the server's to write: {why}")
        if len(value) > MAX_VALUE or not _VALUE.fullmatch(value):
            raise ValueError(
                f"header {shown!r}: a value holds no control characters (a line break ends the "
                f"header) and at most {MAX_VALUE} characters"
            )
    return headers
