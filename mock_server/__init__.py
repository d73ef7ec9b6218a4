"""mock-server: a deterministic emulator of OpenAI-compatible chat-completions APIs."""

from .app import create_app
from .config import Settings
from .errors import ApiError, ConfigError

__all__ = ["ApiError", "ConfigError", "Settings", "create_app"]
__version__ = "0.1.0"
