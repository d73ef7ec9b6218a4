"""mock-server: a deterministic emulator of OpenAI-compatible chat-completions APIs."""

from typing import TYPE_CHECKING

from .errors import ApiError, ConfigError

if TYPE_CHECKING:
    from .config import Settings
    from .server.app import create_app
    from .testing.runner import MockServer
    from .testing.tenant_handle import ScenarioWarning, TenantHandle

_LAZY = {
    "create_app": ".server.app",
    "Settings": ".config",
    "MockServer": ".testing.runner",
    "TenantHandle": ".testing.tenant_handle",
    "ScenarioWarning": ".testing.tenant_handle",
}


def __getattr__(name: str):
    if name == "__version__":
        from .cli import installed_version

        return installed_version()
    # The server's modules load on first use: the pytest plugin imports this package in every
    # test run, and most of those never start a server.
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ApiError",
    "ConfigError",
    "MockServer",
    "ScenarioWarning",
    "Settings",
    "TenantHandle",
    "create_app",
]
