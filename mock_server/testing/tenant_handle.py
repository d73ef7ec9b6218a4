"""``TenantHandle``: one tenant of a running server, driven through its admin API.

It works the same for a server in this process (``MockServer``) and for one elsewhere
(``MOCK_SERVER_URL``), and it is what the pytest fixture ``mock_server`` gives each test.
"""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_API_KEY = "sk-mock-test-key"


class TenantHandle:
    """Scenarios, journal and settings of one tenant, and the URLs that reach it."""

    def __init__(
        self,
        server_url: str,
        tenant: str | None,
        *,
        api_key: str = DEFAULT_API_KEY,
        profile: str | None = None,
        admin_token: str | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.tenant = tenant
        self.api_key = api_key
        self.profile = profile
        self._admin_token = admin_token
        self._connection: Any = None  # one kept-alive connection for admin calls
        self._connection_lock = threading.Lock()  # one exchange at a time on it, of any thread
        # Scenarios every test shares (the ini option's), which ``assert_all_consumed`` leaves
        # to the tests that use them.
        self.shared: frozenset[str] = frozenset()

    def close(self) -> None:
        """Close the admin connection (a later call opens a new one)."""
        with self._connection_lock:
            self._disconnect()

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> TenantHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"TenantHandle({self.server_url!r}, tenant={self.tenant!r}, profile={self.profile!r})"
        )

    @property
    def _prefix(self) -> str:
        return self.server_url + (f"/t/{self.tenant}" if self.tenant else "")

    def url(self, profile: str | None = None, base: str = "/v1") -> str:
        """The base URL of one profile for this tenant (``.../v1``, for an OpenAI client)."""
        profile = profile or self.profile
        return self._prefix + (f"/{profile}" if profile else "") + base

    @property
    def base_url(self) -> str:
        """What ``OpenAI(base_url=...)`` takes: this tenant's URL, ending in ``/v1``."""
        return self.url()

    # --- admin API -------------------------------------------------------------------------

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``[/t/{tenant}]/__admin{path}``; the decoded JSON answer, or ``AdminError``."""
        __tracebackhide__ = True  # a refusal shows the test's line, not this one
        data = None
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        headers = {"X-Admin-Token": self._admin_token} if self._admin_token else {}
        status, answer = self._exchange(method, self._prefix + "/__admin" + path, data, headers)
        if status >= 400:
            detail = answer.decode("utf-8", "replace")
            with contextlib.suppress(ValueError, KeyError, TypeError):
                detail = json.loads(detail)["error"]["message"]
            if status == 401 and not self._admin_token:
                detail += (
                    " (this handle has none: TenantHandle(..., admin_token=...); the pytest"
                    " plugin's, from MOCK_SERVER_ADMIN_TOKEN)"
                )
            raise AdminError(f"{method} {path}: {status}: {detail}", detail)
        return json.loads(answer or b"null")

    def _exchange(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        import http.client  # here, not at import: the pytest plugin loads this module always
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        with self._connection_lock:
            for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
                if self._connection is None:
                    self._connection = http.client.HTTPConnection(parts.netloc, timeout=30)
                try:
                    self._connection.request(method, target, body=data, headers=headers)
                    response = self._connection.getresponse()
                    return response.status, response.read()
                except (http.client.HTTPException, OSError):
                    self._disconnect()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def add(self, scenario: Any) -> list[str]:
        """Add scenarios: one mapping, a list, ``{"scenarios": [...]}``, or YAML/JSON text."""
        __tracebackhide__ = True  # a refusal shows the test's line, not this one
        return self.admin("POST", "/scenarios", scenario)["added"]

    def load(self, path: str | Path) -> list[str]:
        """Add the scenarios of a YAML or JSON file; messages about them name the file."""
        __tracebackhide__ = True  # a refusal shows the test's line, not this one
        try:
            text = Path(path).read_text("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        return self.admin("POST", f"/scenarios?source={quote(str(path), safe='/')}", text)["added"]

    def record(self, path: str | Path, mode: str = "new", fresh: bool = False) -> int:
        """Record what no scenario answers into ``path`` (the server needs ``--record``) and
        replay the scenarios already there (none with ``fresh``); how many were loaded."""
        spec = {"file": str(Path(path).resolve()), "mode": mode, "fresh": fresh}
        return self.admin("PUT", "/recording", spec)["loaded"]

    @property
    def requests(self) -> list[dict[str, Any]]:
        """This tenant's journal, oldest first."""
        return self.admin("GET", "/requests")["requests"]

    @property
    def unmatched(self) -> list[dict[str, Any]]:
        """Valid requests that no scenario answered, each with its near-miss report."""
        return self.admin("GET", "/requests/unmatched")["requests"]

    @property
    def scenarios(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/scenarios")["scenarios"]

    def set_strict(self, strict: bool | None) -> None:
        """Strict mode for this tenant (None: the server's setting)."""
        self.admin("POST", "/settings", {"strict": strict})

    def reset(self) -> list[dict[str, Any]]:
        """Forget this tenant's scenarios, sequence positions, journal and account state;
        returns the requests no scenario matched, as ``unmatched`` did just before."""
        return self.reset_with_report()[0]

    def reset_with_report(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``reset``, returning the requests no scenario matched and those a scenario
        answered with a reply the request rules out (their ``warnings``)."""
        done = self.admin("POST", "/reset?report=unmatched")
        return done["unmatched"], done["warned"]

    def assert_all_consumed(self) -> None:
        """Fail unless every added scenario (but those in ``shared``) was used, and every
        sequence to its last step."""
        left = [
            f"{s['name']}: served {s['served']} of {s['steps']} step(s)"
            for s in self.scenarios
            if s["origin"] == "added" and s["served"] < s["steps"] and s["name"] not in self.shared
        ]
        if left:
            raise AssertionError("Scenarios not consumed:\n  " + "\n  ".join(left))


class AdminError(RuntimeError):
    """The admin API refused a call; the message carries its reason, ``detail`` the reason
    alone, in the server's words."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = message if detail is None else detail


class ScenarioWarning(UserWarning):
    """A scenario answered a test's request with what the provider would not send for it
    (a tool the request does not offer, a strict schema the reply breaks ...)."""


def warned_report(entries: list[dict[str, Any]]) -> str:
    """A readable account of requests a scenario answered with a reply they rule out."""
    lines = [f"{len(entries)} request(s) got a scripted reply the provider would not give:"]
    for entry in entries:
        lines.append(f"- {entry['method']} {entry['path']} answered by {entry['scenario']!r}:")
        lines.extend(f"    {warning}" for warning in entry["warnings"])
    return "\n".join(lines)


def unmatched_report(entries: list[dict[str, Any]]) -> str:
    """A readable account of unmatched requests and their closest scenarios."""
    lines = [f"{len(entries)} request(s) matched no scenario:"]
    for entry in entries:
        lines.append(
            f"- {entry['method']} {entry['path']} model={(entry['body'] or {}).get('model')!r} "
            f"last user message={entry['last_user_message']!r}"
        )
        for miss in entry.get("near_miss") or []:
            lines.append(f"    closest: {miss['scenario']} ({miss['source']})")
            lines.extend(f"      {reason}" for reason in miss["failed"])
        if not entry.get("near_miss"):
            lines.append("    no scenario is loaded for this tenant and profile")
    return "\n".join(lines)
