"""A request longer than its model's context window, refused as the live API refuses it.

A profile gives its models' windows (``context_windows``, in tokens) and the words of the error
(its catalog's ``context_length_exceeded``); a model it gives no window is not checked. The
prompt is counted by ``tokens.py``'s heuristic, so the bound is as near the live one as the
count is. Chat completions: ``This model's maximum context length is 128000 tokens. However,
your messages resulted in 130012 tokens. Please reduce the length of the messages.`` (param
``messages``); the Responses API: ``Your input exceeds the context window of this model. Please
adjust your input and try again.`` (param ``input``, as dyad-sh/dyad#1672 quotes it, 2025).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ApiError
from ..providers import Profile

KIND = "context_length_exceeded"
RESPONSES_MESSAGE = (
    "Your input exceeds the context window of this model. Please adjust your input and try again."
)


def check(
    model: Any,
    profile: Profile,
    size: int | None,
    tokens: Callable[[], int],
    param: str = "messages",
) -> None:
    """Refuse a prompt past ``model``'s window; ``size``: a bound on its tokens known without
    counting them (a request body's bytes: the count is never more; None when nothing bounds
    it), ``tokens``: its count. ``param`` ``input``: the Responses API's words."""
    window = profile.context_windows.get(model) if isinstance(model, str) else None
    if window is None or (size is not None and size <= window) or KIND not in profile.errors:
        return
    counted = tokens()
    if counted <= window:
        return
    raise ApiError(
        KIND,
        param=param,
        message=RESPONSES_MESSAGE if param == "input" else None,
        values={"window": window, "tokens": counted},
    )
