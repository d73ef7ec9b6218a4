"""The APIs a server serves, each behind the seam of ``apis.api``."""

from __future__ import annotations

from .api import Api, Encoded
from .chat_completions import CHAT_COMPLETIONS
from .embeddings import EMBEDDINGS
from .responses import RESPONSES

DEFAULT_APIS: tuple[Api, ...] = (CHAT_COMPLETIONS, RESPONSES, EMBEDDINGS)

__all__ = ["DEFAULT_APIS", "Api", "Encoded"]
