"""YAML reading for data files: safe loading only, with libyaml's C parser when it is installed
(ten times faster than the pure-Python one, which matters for start-up), and what file
diagnostics need — where a path is in a document, and did-you-mean suggestions.

Only JSON-compatible YAML is accepted: dates, timestamps, binary values, sets, ordered maps,
``.inf``/``.nan`` and integers too long to be useful are refused where they are written, and
aliases may not add more than ``MAX_EXPANDED`` values or ``MAX_EXPANDED_TEXT`` characters of
text to a document (a "billion laughs" document of a few hundred bytes, or
one long text named a thousand times, would otherwise cost gigabytes once serialised). A key
written twice in one mapping is refused where it is written again (YAML would keep the last
silently); merge keys (``<<``) may still be overridden.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError
MAX_EXPANDED = 100_000  # values a document's aliases may add to it
MAX_EXPANDED_TEXT = 16 * 1024 * 1024  # characters of text they may add, as a template renders
_EXPANSION_BOUNDS = ((MAX_EXPANDED, "values"), (MAX_EXPANDED_TEXT, "characters of text"))
MAX_INTEGER_DIGITS = 40
_ANCHOR = re.compile(rb"&[^\s]")
_ALIAS = re.compile(rb"\*[^\s]")
_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_NOT_JSON = {
    "tag:yaml.org,2002:timestamp": "a date or time; quote it to make it a string",
    "tag:yaml.org,2002:binary": "a binary value; JSON has none",
    "tag:yaml.org,2002:set": "a set; write a list",
    "tag:yaml.org,2002:omap": "an ordered map; write a mapping",
    "tag:yaml.org,2002:pairs": "a list of pairs; write a mapping",
}


class SafeLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader, refusing what JSON cannot hold and keys written twice."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._flattened: set[yaml.MappingNode] = set()

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """Merge keys (``<<``) expanded into ``node``, after refusing a key it writes twice."""
        # A mapping that is also a merge source is flattened first for the mapping that merges
        # it; after that its keys are no longer as written, so it is checked only once.
        if node in self._flattened:
            return
        self._flattened.add(node)
        written = [key for key, _ in node.value if key.tag != _MERGE]
        super().flatten_mapping(node)
        first: dict[Any, yaml.Node] = {}
        for key_node in written:
            if not isinstance(key_node, yaml.ScalarNode):  # unhashable: PyYAML says so itself
                continue
            # A string is its text; other keys are compared as built (``1`` is ``0x1``).
            key = key_node.value if key_node.tag == _STR else self.construct_object(key_node)
            if first.setdefault(key, key_node) is not key_node:
                line = first[key].start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {line})", key_node.start_mark
                )


def _refuse(kind: str):
    def construct(loader: Any, node: yaml.Node) -> Any:
        raise yaml.constructor.ConstructorError(None, None, f"not JSON: {kind}", node.start_mark)

    return construct


def _integer(loader: Any, node: yaml.Node) -> int:
    digits = sum(ch.isdigit() for ch in str(node.value))
    if digits > MAX_INTEGER_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {digits} digits; write it as a string", node.start_mark
        )
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


def _float(loader: Any, node: yaml.Node) -> float:
    value = yaml.constructor.SafeConstructor.construct_yaml_float(loader, node)
    if not math.isfinite(value):
        raise yaml.constructor.ConstructorError(
            None, None, f"not JSON: {node.value!r} is not a finite number", node.start_mark
        )
    return value


for _tag, _kind in _NOT_JSON.items():
    SafeLoader.add_constructor(_tag, _refuse(_kind))
SafeLoader.add_constructor("tag:yaml.org,2002:int", _integer)
SafeLoader.add_constructor("tag:yaml.org,2002:float", _float)


def load_yaml(source: str | bytes) -> Any:
    """Parse one YAML document with the safe loader; no Python objects can be built."""
    raw = source.encode() if isinstance(source, str) else source
    if _ANCHOR.search(raw) and _ALIAS.search(raw):
        _check_expansion(source)
    return yaml.load(source, Loader=SafeLoader)


def _check_expansion(source: str | bytes) -> None:
    """Refuse a document whose aliases add more than ``MAX_EXPANDED`` values or
    ``MAX_EXPANDED_TEXT`` characters of text to what it holds as written, from the sizes of
    what each alias names: the expansion itself is never built."""
    sizes: dict[str, tuple[int, int]] = {}
    # [anchor, values so far, characters so far] per open collection
    open_nodes: list[list[Any]] = [[None, 0, 0]]
    added = [0, 0]  # the values and characters aliases add
    for event in yaml.parse(source, Loader=SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            open_nodes.append([event.anchor, 1, 0])
            continue
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, values, characters = open_nodes.pop()
        elif isinstance(event, yaml.ScalarEvent):
            anchor, values, characters = event.anchor, 1, len(event.value)
        elif isinstance(event, yaml.AliasEvent):
            anchor, (values, characters) = None, sizes.get(event.anchor, (1, 0))
            added[0] += values
            added[1] += characters
            for total, (bound, unit) in zip(added, _EXPANSION_BOUNDS, strict=True):
                if total > bound:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"aliases expand the document beyond {bound:,} {unit}",
                        event.start_mark,
                    )  # fmt: skip
        else:
            continue
        if anchor is not None:
            sizes[anchor] = (values, characters)
        totals = open_nodes[-1]
        totals[1] += values
        totals[2] += characters


def looks_like_json(text: str | bytes) -> bool:
    """Whether ``text`` is written as JSON: an object or an array (JSON is YAML too)."""
    return text.lstrip()[:1] in ("{", "[", b"{", b"[")


def not_valid(source: str, exc: YAMLError, text: str | bytes) -> str:
    """``source:line:column: not valid YAML: reason`` (``JSON`` when ``text`` is written as
    JSON), as a data file's parse errors read; a file that is not UTF-8, at its first byte that
    is not, that byte named."""
    kind = "JSON" if looks_like_json(text) else "YAML"
    if isinstance(text, bytes):
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as bad:  # where the first byte that is not UTF-8 is
            line_start = text.rfind(b"\n", 0, bad.start) + 1
            line = text.count(b"\n", 0, bad.start) + 1
            column = len(text[line_start : bad.start].decode("utf-8", "replace")) + 1
            byte = text[bad.start]
            return (
                f"{source}:{line}:{column}: not valid {kind}: byte 0x{byte:02x} is not UTF-8 "
                f"({bad.reason}); save the file as UTF-8"
            )
    if isinstance(exc, yaml.reader.ReaderError):
        reason = str(exc).splitlines()[0]
        return f"{source}: not valid {kind}: {reason}, at byte {exc.position + 1}; save it as UTF-8"
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
    return f"{where}: not valid {kind}: {getattr(exc, 'problem', None) or exc}"


def compose_yaml(source: str | bytes) -> yaml.Node | None:
    """The node tree of one document, with the line and column of every node."""
    return yaml.compose(source, Loader=SafeLoader)


class Locator:
    """Line and column of any path in a YAML document; the document is composed into nodes
    only when a problem needs locating, so clean files are parsed once."""

    def __init__(self, text: str | bytes, implied: int = 0) -> None:
        # ``implied``: how many leading parts of a path the document leaves out (a file holding
        # one scenario, or a bare list of them, stands for ``{"scenarios": [...]}``).
        self.text = text
        self.implied = implied
        self._root: Any = None

    @property
    def root(self) -> Any:
        if self._root is None:
            try:
                self._root = compose_yaml(self.text)
            except (YAMLError, RecursionError):  # JSON that YAML reads differently: no lines
                self._root = False
        return self._root or None

    def find(self, path: list[str | int], key: bool = False) -> tuple[int, int]:
        """Where ``path`` is; with ``key``, where the last mapping key itself is written."""
        path = path[self.implied :]
        node = self.root
        best = node
        for depth, part in enumerate(path):
            if node is None:
                break
            if isinstance(part, int) and getattr(node, "id", "") == "sequence":
                node = node.value[part] if part < len(node.value) else None
            elif getattr(node, "id", "") == "mapping":
                pair = next((p for p in node.value if p[0].value == str(part)), None)
                last = depth == len(path) - 1
                node = None if pair is None else (pair[0] if key and last else pair[1])
            else:
                node = None
            if node is not None:
                best = node
        if best is None:
            return (1, 1)
        return (best.start_mark.line + 1, best.start_mark.column + 1)


def closest(word: str, known: list[str]) -> str | None:
    """The one of ``known`` that ``word`` most likely mistypes, if any is close."""
    import difflib  # only when there is a typo to explain

    close = difflib.get_close_matches(word, known, n=1)
    return close[0] if close else None


def did_you_mean(word: str, known: list[str], kind: str) -> str:
    """``did you mean 'x'?`` for a mistyped name, else the ``kind`` known (``known keys: a,
    b``)."""
    close = closest(word, known)
    return f"did you mean {close!r}?" if close else f"known {kind}: {', '.join(known)}"


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """The safe dumper, writing multi-line text as ``|`` blocks that read like the text."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value.rstrip("\n") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump_yaml(value: Any) -> str:
    """``value`` as readable YAML: keys in their order, text unescaped, long lines wrapped."""
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
