"""Where the bundled data lives: ``schemas/`` and ``scenarios/`` at the top of the repository,
installed as ``mock_server.schemas`` and ``mock_server.scenarios`` (see pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent


def bundled(name: str) -> Path:
    """The folder of bundled data called ``name`` (``schemas`` or ``scenarios``)."""
    in_tree = _SOURCE_TREE / name
    if (_SOURCE_TREE / "pyproject.toml").is_file() and in_tree.is_dir():
        return in_tree
    from importlib import resources  # costs ~20 ms of start-up; only installed copies need it

    return Path(str(resources.files(f"mock_server.{name}")))
