"""YAML reading for data files: safe loading only, with libyaml's C parser when it is installed
(ten times faster than the pure-Python one, which matters for start-up), and what file
diagnostics need — where a path is in a document, and did-you-mean suggestions."""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def load_yaml(source: str | bytes) -> Any:
    """Parse one YAML document with the safe loader; no Python objects can be built."""
    return yaml.load(source, Loader=SafeLoader)


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
            self._root = compose_yaml(self.text)
        return self._root

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
                pair = next((p for p in node.value if p[0].value == part), None)
                last = depth == len(path) - 1
                node = None if pair is None else (pair[0] if key and last else pair[1])
            else:
                node = None
            if node is not None:
                best = node
        if best is None:
            return (1, 1)
        return (best.start_mark.line + 1, best.start_mark.column + 1)


def close_matches(word: str, candidates: list[str], n: int = 1) -> list[str]:
    """Did-you-mean suggestions for a mistyped key."""
    import difflib  # only when there is a typo to explain

    return difflib.get_close_matches(word, candidates, n=n)
