"""Keeping secrets out of what the server shows and writes: API keys and tokens masked the way
providers mask them in their own error messages, the request headers that carry them, and
credentials found in bodies (``Scrubber``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Headers that carry a credential: keys (Azure API Management's subscription key among them),
# tokens, a proxy's credentials and cookies. OpenAI-Organization and OpenAI-Project name an
# account, and grant nothing without a key: they are shown as sent.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "x-goog-api-key",
     "ocp-apim-subscription-key", "x-admin-token", "cookie", "set-cookie"}
)  # fmt: skip
# A key shorter than this is masked whole: its first three and last four characters would be
# most of it.
ENDS_SHOWN_FROM = 13


def redact(key: str) -> str:
    """A secret shown the way providers show keys in errors: its ends, the middle masked."""
    if len(key) < ENDS_SHOWN_FROM:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


def shown_key(key: str) -> dict[str, str]:
    """The placeholders an error message may show a key by: ``key`` redacted, ``key_tail`` its
    last four characters (none of a key short enough to be masked whole)."""
    tail = key[-4:] if len(key) >= ENDS_SHOWN_FROM else ""
    return {"key": redact(key), "key_tail": "****" + tail}


def redact_headers(pairs: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """Raw header pairs as a mapping of lower-case names, secret values masked."""
    out = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("utf-8", "replace").lower()
        value = raw_value.decode("utf-8", "replace")
        out[name] = redact_header_value(value) if name in SECRET_HEADERS else value
    return out


# An authorization scheme (``Bearer``, ``Basic``: an HTTP token) and the credentials after it.
_SCHEME = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S.*)", re.S)


def redact_header_value(value: str) -> str:
    """A secret header's value masked, its scheme (``Bearer``) kept; a value that does not
    start with one (a cookie's ``name=value; ...``) is masked whole."""
    if found := _SCHEME.fullmatch(value):
        return f"{found[1]} {redact(found[2])}"
    return redact(value)


# What a credential in a body looks like: OpenAI-style keys (sk-..., sk-proj-..., DeepSeek's and
# Anthropic's alike), also run into a name after an underscore (``param_sk-...``), Google API
# keys, bearer tokens (``Bearer`` or ``bearer``, the token holding a capital letter or a digit:
# "bearer authentication.", "a bearer well-known token" are prose). Each is matched by its
# shape, and in a recorded match condition stands in for any value of that shape.
CREDENTIAL_PATTERNS = (
    r"\bsk-[A-Za-z0-9_\-]{8,}",
    r"(?<=_)sk-[A-Za-z0-9_\-]{8,}",
    r"\bAIza[0-9A-Za-z_\-]{20,}",
    r"\b[Bb]earer\s+(?=[A-Za-z0-9._~+/\-]*[A-Z0-9])[A-Za-z0-9._~+/\-]{8,}=*",
)
PLACEHOLDER = "[REDACTED]"
# Values of keys named like these are secrets whatever they look like: a name's last word, or
# its last two, in any case and any spelling of words (``access_token``, ``accessToken``,
# ``X-Api-Key``, ``private_key``).
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "pwd", "passphrase", "credential", "credentials",
     "cookie", "auth", "authorization", "apikey", "privatekey"}
)  # fmt: skip
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key")}
)


def secret_name(name: str) -> bool:
    """Whether a value under the key ``name`` is a secret, whatever it looks like."""
    words = [word.lower() for word in _WORDS.findall(name)]
    return bool(words) and (words[-1] in _SECRET_WORDS or tuple(words[-2:]) in _SECRET_PAIRS)


class Scrubber:
    """Credentials found in text and JSON keys and values replaced by a placeholder."""

    def __init__(self, extra_patterns: Iterable[str] = ()) -> None:
        self.patterns = [re.compile(p) for p in (*CREDENTIAL_PATTERNS, *extra_patterns)]
        branches, groups = [], 0
        for compiled in self.patterns:  # a branch's groups are numbered after those before it
            branches.append(_joinable(_renumbered(compiled.pattern, groups)))
            groups += compiled.groups
        self._any = re.compile("|".join(branches))

    def text(self, text: str) -> str:
        return self._any.sub(PLACEHOLDER, text)

    def value(self, value: Any) -> Any:
        """A JSON value with every credential-looking string, a key included, and every string
        under a secret-named key (``credentials: {user: ..., pass: ...}``: all of them),
        replaced."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            alike: dict[Any, int] = {}  # keys redacted alike so far: each is kept, numbered
            for key, item in value.items():
                shown = self.value(key)
                if shown != key and shown in out:
                    alike[shown] = alike.get(shown, 1) + 1
                    shown = f"{shown}#{alike[shown]}"
                out[shown] = _hidden(item) if secret_name(str(key)) else self.value(item)
            return out
        return value

    def pattern(self, text: str) -> str | None:
        """A regex matching exactly ``text`` with each credential in it replaced by the shape
        it has (so a match condition holds for the next request without storing the secret):
        a built-in credential's pattern, and any text for what a pattern of one's own found
        (``--redact Oslo`` would write ``Oslo`` again); None when ``text`` holds none."""
        if not self._any.search(text):
            return None
        shapes = self.patterns[: len(CREDENTIAL_PATTERNS)]
        parts, position = [], 0
        for found in self._any.finditer(text):
            shape = next(  # tried where it was found: a pattern may look at what is around it
                (p.pattern for p in shapes if p.fullmatch(text, found.start(), found.end())),
                r"[\s\S]+?",
            )
            parts += [_escaped(text[position : found.start()]), f"(?:{shape})"]
            position = found.end()
        return "^" + "".join(parts) + _escaped(text[position:]) + "$"


# What may come before a pattern's first character: global flags, and comments.
_LEADING = re.compile(r"\(\?([aiLmsux]+)\)|\(\?#[^)]*\)")


def _joinable(pattern: str) -> str:
    """``pattern`` as one branch of a union: a group, its leading global flags (``(?i)``, which
    a union may hold only at its start) made the group's own (``(?i:...)``), and comments or,
    once verbose, white space before them left out."""
    flags = ""
    while found := _LEADING.match(rest := pattern.lstrip() if "x" in flags else pattern):
        pattern, flags = rest[found.end() :], flags + (found.group(1) or "")
    end = "\n" if "x" in flags else ""  # a verbose pattern's last line may be a comment
    return f"(?{flags}:{pattern}{end})"


# A numbered reference (``\\1``, ``(?(1)``), an escape, or a character class, whose escapes are
# characters: read in that order, a pattern's references are told from what only looks like one.
_REFERENCE = re.compile(r"\\([1-9][0-9]?)|\(\?\(([0-9]+)\)|\\.|\[\^?\]?(?:\\.|[^\]\\])*\]", re.S)
_OCTAL = frozenset("01234567")


def _renumbered(pattern: str, offset: int) -> str:
    """``pattern`` with its numbered group references moved up by ``offset``, for a union in
    which ``offset`` groups come before its own; three octal digits (``\\101``) stay the
    character Python reads them as."""

    def moved(found: re.Match[str]) -> str:
        backward, conditional = found.groups()
        if conditional is not None:
            return f"(?({int(conditional) + offset})"
        third = pattern[found.end() : found.end() + 1]
        if backward is None or (len(backward) == 2 and third and set(backward + third) <= _OCTAL):
            return found.group()
        if int(backward) + offset > 99:  # Python reads \\100 as a character
            raise re.error(f"the reference \\{backward} would be to group {int(backward) + offset}")
        return f"\\{int(backward) + offset}"

    return _REFERENCE.sub(moved, pattern) if offset else pattern


def _hidden(value: Any) -> Any:
    """``value`` with every string in it replaced by the placeholder (the rest as it is)."""
    if isinstance(value, str):
        return PLACEHOLDER
    if isinstance(value, list):
        return [_hidden(item) for item in value]
    if isinstance(value, dict):
        return {key: _hidden(item) for key, item in value.items()}
    return value


def _escaped(text: str) -> str:
    """``re.escape``, leaving spaces as they are (they need no escape), for reading."""
    return re.escape(text).replace("\\ ", " ")
