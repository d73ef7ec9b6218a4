"""The data shipped inside the package: ``schemas/`` (request and response JSON Schemas,
provider profiles), ``scenarios/`` (the default scenarios) and the inspector's files.

Found through ``importlib.resources``, so they are where the package is, however it was
installed (a wheel in any environment, pipx, an editable checkout).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled(name: str) -> Path:
    """The bundled folder ``name`` (``schemas``, ``scenarios``, ``server/inspector``).

    Installed packages live on a file system, so the folder is a real path; a package loaded
    from a zip archive has none, and is refused with a message saying so.
    """
    folder = resources.files(__package__).joinpath(*name.split("/"))
    if not isinstance(folder, Path):
        raise RuntimeError(
            f"mock-server reads its bundled {name}/ from the file system, but the package was "
            f"loaded from {folder!r}; install it unpacked (pip install llm-mock-server)"
        )
    return folder
