"""The code base stays ruff-clean and the public surface stays deliberate."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

import mock_server

PACKAGE = Path(mock_server.__file__).parent  # the package under test, wherever it is installed


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
@pytest.mark.skipif(
    PACKAGE.parent != ROOT, reason="an installed copy: .ci/run lints the source tree itself"
)
def test_ruff_clean():
    result = subprocess.run(
        ["ruff", "check", "mock_server", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_exported_members():
    assert mock_server.__all__ == sorted(mock_server.__all__)
    for name in mock_server.__all__:
        assert hasattr(mock_server, name)


# The stages of the package, lowest first: a module may import from its own stage or a lower one,
# never a higher one. Subpackages are stages; the shared top-level modules are the floor.
STAGES = (
    (
        "bundled",
        "caches",
        "errors",
        "gc_pause",
        "header_fields",
        "jsonio",
        "lazy_property",
        "messages",
        "providers",
        "redaction",
        "reply",
        "tokens",
        "yamlio",
    ),
    ("checks",),
    ("config",),
    ("wire",),
    ("engine",),
    ("accounts",),
    ("record",),
    ("server",),
    ("testing",),
    ("cli", "__main__", "__init__"),
)
STAGE_OF = {name: floor for floor, names in enumerate(STAGES) for name in names}


def _module_name(path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(part for part in parts if part != "__init__") or "__init__"


def _imports(path) -> set[str]:
    """Every mock_server module ``path`` imports, as dotted names inside the package: at the
    top, inside functions and under ``TYPE_CHECKING`` alike."""
    import ast

    module = _module_name(path)
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    if module == "__init__":
        package = []
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "mock_server":
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:  # `from . import x` may name a module
                candidate = ".".join([*target, alias.name])
                found.add(candidate if _exists(candidate) else ".".join(target))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("mock_server."):
                    found.add(alias.name.removeprefix("mock_server."))
        elif (  # importlib.import_module(".server.app", __name__): the package's lazy exports
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"(\.[a-z_]+)+", node.value)
            and _exists(node.value[1:])
        ):
            found.add(node.value[1:])
    found.discard("")
    return found


def _exists(dotted: str) -> bool:
    path = PACKAGE.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_has_a_stage():
    unplaced = sorted({name.split(".")[0] for name in _graph()} - STAGE_OF.keys())
    assert not unplaced, f"add these to STAGES in {__name__}: {unplaced}"


def test_imports_flow_down_the_stages():
    upward = [
        f"{module} (stage {STAGE_OF[module.split('.')[0]]}) imports {target} "
        f"(stage {STAGE_OF[target.split('.')[0]]})"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if STAGE_OF[target.split(".")[0]] > STAGE_OF[module.split(".")[0]]
    ]
    assert not upward, "\n".join(upward)


# What a stage may not import although the order of STAGES would allow it: what goes out on the
# wire is made from provider data, never from the request checks; the engine and the account
# rules know no API's encoder (they work on the API-neutral ``reply``).
ENCODERS = {
    "wire.completions", "wire.streaming", "wire.responses", "wire.embeddings", "wire.vectors",
    "server.apis",
}  # fmt: skip
FORBIDDEN = {"wire": {"checks"}, "engine": ENCODERS, "accounts": ENCODERS}


def test_what_a_stage_may_not_import():
    found = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in sorted(targets)
        for barred in FORBIDDEN.get(module.split(".")[0], ())
        if target == barred or target.startswith(barred + ".")
    ]
    assert not found, "\n".join(found)


def test_no_import_circles():
    graph = _graph()
    circles = []

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            circles.append(" -> ".join([*trail[trail.index(module) :], module]))
            return
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*trail, module])
        done.add(module)

    done: set[str] = set()
    for module in graph:
        visit(module, [])
    assert not circles, "\n".join(circles)
