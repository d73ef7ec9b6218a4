"""What the release check (``.ci/run``) reads off the built distributions.

python .ci/release.py floors WHEEL        pip constraints pinning every dependency of the
                                          wheel (its test extra too) at its declared floor
python .ci/release.py floor-python WHEEL  the lowest Python the wheel declares (3.11)
python .ci/release.py same-files A B      fails unless wheels A and B hold the same files
"""

from __future__ import annotations

import re
import sys
import zipfile
from email.parser import Parser

_FLOOR = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)")


def metadata(wheel: str):
    """The wheel's METADATA, parsed."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def floors(wheel: str) -> list[str]:
    """``name==floor`` for every requirement with a ``>=`` floor; one without is an error."""
    pins = []
    for requirement in metadata(wheel).get_all("Requires-Dist") or ():
        found = _FLOOR.match(requirement)
        if found is None:
            raise SystemExit(f"{requirement!r} declares no floor (>=)")
        pins.append(f"{found[1]}=={found[2]}")
    return pins


def floor_python(wheel: str) -> str:
    """The ``3.N`` of the wheel's ``Requires-Python: >=3.N``."""
    declared = metadata(wheel)["Requires-Python"]
    found = re.fullmatch(r">=\s*(3\.\d+)", declared or "")
    if found is None:
        raise SystemExit(f"Requires-Python {declared!r} is not of the form >=3.N")
    return found[1]


def same_files(first: str, second: str) -> None:
    """Exit with the difference unless the two wheels hold the same files (metadata aside)."""

    def names(wheel: str) -> set[str]:
        with zipfile.ZipFile(wheel) as archive:
            return {n for n in archive.namelist() if ".dist-info/" not in n}

    only_first, only_second = names(first) - names(second), names(second) - names(first)
    if only_first or only_second:
        raise SystemExit(f"the wheels differ: {sorted(only_first)} vs {sorted(only_second)}")
    print(f"same {len(names(first))} files in {first} and {second}")


def main(argv: list[str]) -> None:
    """Run one command of the module's docstring."""
    command, *paths = argv
    if command == "floors":
        print("\n".join(floors(*paths)))
    elif command == "floor-python":
        print(floor_python(*paths))
    elif command == "same-files":
        same_files(*paths)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
