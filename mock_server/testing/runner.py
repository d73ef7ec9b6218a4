"""Run a server in a background thread with its own event loop.

``MockServer`` serves on an ephemeral port (unless told otherwise) and reads the real port back
after binding, so sync and async clients in the calling thread can both use it::

    with MockServer(scenarios=["scenarios/"]) as server:
        client = OpenAI(base_url=server.base_url, api_key=server.api_key)
        server.add({"name": "hi", "reply": {"content": "Hello!"}})

Keyword arguments are settings in the config file's form (``limits={"requests_per_minute":
60}``, see docs/configuration.md), checked and converted as the file is: a wrong one is a
``ConfigError`` at construction. ``None`` sets a setting that may be None to None
(``admin_token=None``: no token; ``scenarios=None``: the bundled scenarios; a bound such as
``max_body_bytes`` may not be None), and the ``Settings`` fields no config file holds
(``recording_root``, ``chaos_profiles``) are taken as given. They override ``settings``, whose
``scenarios`` default to none at all here (the command line serves the bundled ones).
``add``, ``requests``, ``unmatched``, ``reset`` ... act on the default tenant;
``tenant(name)`` gives a handle on any other.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any

from aiohttp import web

from ..accounts.clock import Clock
from ..config import Settings, settings_from
from ..server.app import create_app, server_options
from ..server.connection import AppRunner
from ..server.state import STATE
from .tenant_handle import DEFAULT_API_KEY, TenantHandle

# What requests still open get to finish when the server stops (aiohttp's default is a minute):
# a test's server stops when its session ends or is interrupted, and no test waits for them.
SHUTDOWN_SECONDS = 0.5
# Settings no config file holds, taken as given.
_AS_GIVEN = frozenset({"recording_root", "chaos_profiles"})
# Settings that may be None (``admin_token=None``: no token), which None sets as it is.
_NULLABLE = frozenset(
    f.name for f in dataclasses.fields(Settings) if "None" in str(f.type).split(" | ")
)


class MockServer:
    """A mock-server in a daemon thread; also a context manager."""

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        given = {  # None is taken as given where a setting may be None; else it is checked
            k: v
            for k, v in overrides.items()
            if k not in _AS_GIVEN and not (v is None and k in _NULLABLE)
        }
        values = settings_from(given, lambda name: f"MockServer({name}=...)")
        values.update((k, v) for k, v in overrides.items() if k not in given)
        self.settings = dataclasses.replace(settings or Settings(port=0, scenarios=[]), **values)
        self.app: web.Application | None = None
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._default_handle: TenantHandle | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` with no path."""
        if self.port is None:
            raise RuntimeError("the server is not running")
        return f"http://{self.settings.host}:{self.port}"

    @property
    def api_key(self) -> str:
        """A key the server accepts: the first configured one, else any will do."""
        keys = self.settings.api_keys
        return keys[0].key if keys else DEFAULT_API_KEY

    def tenant(self, name: str | None = None, profile: str | None = None) -> TenantHandle:
        """A handle on one tenant (the default tenant when ``name`` is None)."""
        return TenantHandle(
            self.url,
            name,
            api_key=self.api_key,
            profile=profile,
            admin_token=self.settings.admin_token,
        )

    @property
    def _default(self) -> TenantHandle:
        if self._default_handle is None:
            self._default_handle = self.tenant()
        return self._default_handle

    def add(self, scenario: Any) -> list[str]:
        return self._default.add(scenario)

    def load(self, path: str) -> list[str]:
        return self._default.load(path)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self._default.requests

    @property
    def unmatched(self) -> list[dict[str, Any]]:
        return self._default.unmatched

    def reset(self) -> list[dict[str, Any]]:
        return self._default.reset()

    @property
    def clock(self) -> Clock:
        """The server's clock (a ``ManualClock`` when started with ``clock="manual"``)."""
        return self.app[STATE].clock

    @property
    def base_url(self) -> str:
        """The URL an OpenAI client takes as ``base_url`` (ends in ``/v1``)."""
        return self.url + "/v1"

    def start(self) -> MockServer:
        """Serve, once the socket is bound (again, after ``stop``: on a new port unless one was
        given)."""
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="mock-server", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._loop.close()
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.run_until_complete(_cancel_the_rest())
        self._loop.close()

    async def _serve(self) -> None:
        self.app = create_app(self.settings)
        self._runner = AppRunner(
            self.app,
            handle_signals=False,
            shutdown_timeout=SHUTDOWN_SECONDS,
            **server_options(self.settings),
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def call(self, function: Any, *args: Any) -> Any:
        """Run ``function(*args)`` on the server's loop and return its result (thread-safe)."""

        async def invoke() -> Any:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result()

    def stop(self) -> None:
        """Stop serving; requests still open get ``SHUTDOWN_SECONDS`` to finish."""
        if self._default_handle is not None:
            self._default_handle.close()
            self._default_handle = None  # a start again may serve on another port
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


async def _cancel_the_rest() -> None:
    """Cancel what the shutdown cut short (a handler still waiting on its client), and let it
    end, so that the loop closes with no task pending."""
    left = asyncio.all_tasks() - {asyncio.current_task()}
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)
