"""Loading scenarios: read YAML (or JSON) files, lint them, and build ``Scenario`` objects.

Every problem is reported as ``file:line:column: scenario 'name': what is wrong`` — unknown
keys with a did-you-mean, wrong types, bad regexes, broken templates, duplicate names, a reply
that is both an answer and an error. A file with any problem is refused whole.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..bundled import bundled
from ..checks.schema import Invalid, SchemaCompiler
from ..errors import ConfigError
from ..gc_pause import without_gc
from ..jsonio import MAX_NESTING, dumps, nests_deeper_than
from ..providers import ProfileRegistry
from ..yamlio import (
    MAX_INTEGER_DIGITS,
    Locator,
    YAMLError,
    did_you_mean,
    load_yaml,
    looks_like_json,
    not_valid,
)
from .conditions import build_conditions
from .patterns import MAX_FOLDED, folded, unbounded
from .reply_specs import build_reply
from .scenario import Scenario
from .templating import TemplateError
from .values import shown

SCENARIO_SUFFIXES = (".yaml", ".yml", ".json")


class _Checker:
    """The scenario schema compiled once, with its sub-schemas reachable for did-you-means."""

    def __init__(self) -> None:
        path = bundled("schemas") / "scenario.schema.json"
        self.schema = json.loads(path.read_text("utf-8"))
        compiler = SchemaCompiler({"scenario.schema.json": self.schema})
        self.check_scenario = compiler.compile({"$ref": "#/$defs/scenario"}, "scenario.schema.json")

    def known_keys(self, path: list[str | int]) -> list[str]:
        """Property names allowed at ``path`` inside a scenario."""
        node: Any = self.schema["$defs"]["scenario"]
        for part in path:
            node = self._object_branch(node)
            if isinstance(part, int):
                node = node.get("items", {})
            else:
                node = node.get("properties", {}).get(part, {})
        return sorted(self._object_branch(node).get("properties", {}))

    def _object_branch(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
        for branch in node.get("anyOf", ()):
            branch = self._object_branch(branch)
            if branch.get("type") == "object" or "properties" in branch:
                return branch
        return node


@functools.cache
def _get_checker() -> _Checker:
    return _Checker()


class ScenarioProblems(ConfigError):
    """One or more problems in scenario sources; ``problems`` lists them, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@without_gc
def parse_document(
    text: str | bytes, source: str, first_order: int = 0
) -> tuple[list[Scenario], list[str]]:
    """Scenarios of one YAML/JSON document and the problems found in it."""
    try:
        data = _parse(text, strict_json=source.lower().endswith(".json"))
    except YAMLError as exc:
        return [], [not_valid(source, exc, text)]
    except json.JSONDecodeError as exc:
        return [], [f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"]
    except (RecursionError, ValueError) as exc:  # nesting past the stack, or a huge integer
        reason = TOO_DEEP if isinstance(exc, RecursionError) else str(exc)
        return [], [f"{source}:1:1: not usable: {reason}"]
    if nests_deeper_than(data):
        return [], [f"{source}:1:1: not usable: {TOO_DEEP}"]
    if _SURROGATE_ESCAPE[type(text)].search(text) and not _is_text(data):
        return [], [f"{source}:1:1: not usable: {HALF_A_PAIR}"]
    locator = Locator(text)
    if isinstance(data, list):
        data, locator = {"scenarios": data}, Locator(text, implied=1)
    elif isinstance(data, dict) and "scenarios" not in data and "name" in data:
        data, locator = {"scenarios": [data]}, Locator(text, implied=2)
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        return [], [f"{source}:1:1: a scenario file holds a mapping with a 'scenarios:' list"]
    extra = sorted(set(data) - {"scenarios"})
    problems = [
        f"{source}:{':'.join(map(str, locator.find([k], key=True)))}: unknown top-level key "
        f"{k!r}; a scenario file holds only 'scenarios:'"
        for k in extra
    ]
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(data["scenarios"]):
        path: list[str | int] = ["scenarios", index]
        name = raw.get("name") if isinstance(raw, dict) else None
        where = _Where(source, locator, path)
        label = f"scenario {name!r}" if isinstance(name, str) else f"scenario #{index + 1}"
        if isinstance(name, str) and name in seen:
            problems.append(f"{where}: {label}: duplicate name; first defined at {seen[name]}")
            continue
        if isinstance(name, str):
            seen[name] = where
        invalid_parts = _schema_problems(raw)
        for invalid in invalid_parts:
            parts = list(reversed(invalid.reversed_path))
            line, column = locator.find(path + parts, key=invalid.code == "unknown_parameter")
            problems.append(f"{source}:{line}:{column}: {label}: {_describe(invalid, parts)}")
        if invalid_parts:
            continue
        try:
            scenario = _build(raw, where, first_order + index)
        except _Problems as failed:
            for problem in failed.found:
                line, column = locator.find(path + problem.path)
                problems.append(f"{source}:{line}:{column}: {label}: {problem}")
            continue
        scenarios.append(scenario)
    return scenarios, problems


TOO_DEEP = f"arrays and mappings nest more than {MAX_NESTING} levels deep"
HALF_A_PAIR = "a string holds half a surrogate pair (a \\ud800 to \\udfff escape alone): not text"


def _parse(text: str | bytes, strict_json: bool = False) -> Any:
    """JSON when it looks like JSON (much faster to parse), else YAML (which also reports
    where broken JSON breaks, and refuses what JSON cannot hold or a key written twice)."""
    if looks_like_json(text):
        try:
            return json.loads(
                text, parse_constant=_not_a_number, parse_int=_integer, object_pairs_hook=_unique
            )
        except json.JSONDecodeError:
            load_yaml(text)  # YAML's words for where it breaks, when YAML finds it broken too
            if strict_json:  # a .json file that only YAML takes (a trailing comma)
                raise
        except ValueError:  # a key written twice, NaN: YAML says where
            pass
    return load_yaml(text)


# A \u escape of half a surrogate pair: a pair is one character, but one alone makes a string
# no UTF-8 can hold (JSON's parser and PyYAML's pure-Python one leave it so).
_SURROGATE_ESCAPE = {
    str: re.compile(r"\\u[dD][89a-fA-F]"),
    bytes: re.compile(rb"\\u[dD][89a-fA-F]"),
}


def _is_text(data: Any) -> bool:
    """Whether every string in ``data`` is text UTF-8 can hold."""
    try:
        dumps(data)
    except TypeError:  # orjson: "str is not valid UTF-8: surrogates not allowed"
        return False
    return True


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each written once (else YAML says where one is twice)."""
    mapping = dict(pairs)
    if len(mapping) < len(pairs):
        raise ValueError("a key written twice")
    return mapping


def _integer(digits: str) -> int:
    """An integer of JSON, as long as YAML's reading allows (else YAML says where it is)."""
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError("an integer too long")
    return int(digits)


def _not_a_number(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


class _Where:
    """``file:line:column`` of a scenario, worked out only when it is shown."""

    def __init__(self, source: str, locator: Locator, path: list[str | int]) -> None:
        self.source, self.locator, self.path = source, locator, path

    def __str__(self) -> str:
        line, column = self.locator.find(self.path)
        return f"{self.source}:{line}:{column}"


class _Problem(ValueError):
    def __init__(self, message: str, path: list[str | int]) -> None:
        super().__init__(message)
        self.path = path


class _Problems(ValueError):
    """What keeps a scenario of the right shape from being built: the first mistake of each of
    its regexes and of each of its replies, at most ``MAX_SCHEMA_PROBLEMS``."""

    def __init__(self, found: list[_Problem]) -> None:
        self.found = found[:MAX_SCHEMA_PROBLEMS]
        super().__init__("\n".join(map(str, self.found)))


MAX_SCHEMA_PROBLEMS = 20  # a scenario's, reported at once
# A larger scenario (its JSON) is checked once: each further check walks all of it again, and a
# document sent to the admin API is client data (a 4 MB sequence with 20 mistakes at its end
# took 2 s to check 21 times).
MAX_RECHECKED_BYTES = 64 * 1024


def _schema_problems(raw: Any) -> list[Invalid]:
    """What a scenario breaks of the scenario schema, each part once: a problem found, the value
    it is in is left out and the rest checked again (up to ``MAX_SCHEMA_PROBLEMS``, for a
    scenario of at most ``MAX_RECHECKED_BYTES``)."""
    check = _get_checker().check_scenario
    rest: Any = raw  # copied before anything is left out of it
    found: list[Invalid] = []
    left_out: set[tuple[str | int, ...]] = set()
    while len(found) < MAX_SCHEMA_PROBLEMS:
        try:
            check(rest)
        except Invalid as invalid:
            where = tuple(reversed(invalid.reversed_path))
            if where in left_out:
                break  # the value left out for an earlier problem, or what stands in its place
            found.append(invalid)
            if invalid.code == "missing_required_parameter":
                break
            if rest is raw:
                if len(dumps(raw)) > MAX_RECHECKED_BYTES:
                    break
                rest = copy.deepcopy(raw)
            if not _leave_out(rest, where):
                break
            left_out.add(where)
        else:
            break
    return found


def _leave_out(data: Any, path: tuple[str | int, ...]) -> bool:
    """Take the value at ``path`` out of ``data`` (an item of a list becomes an empty mapping,
    so the others keep their places); False when there is none to take."""
    *outer, last = path or (None,)
    for part in outer:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(data, dict) and last in data:
        del data[last]
        return True
    if isinstance(data, list) and isinstance(last, int) and 0 <= last < len(data):
        if data[last] == {}:
            return False  # already as little as an item can be
        data[last] = {}
        return True
    return False


def _describe(invalid: Invalid, path: list[str | int]) -> str:
    if invalid.code == "unknown_parameter":
        unknown = str(path[-1])
        known = _get_checker().known_keys(path[:-1])
        where = ".".join(str(p) for p in path[:-1]) or "the scenario"
        return f"unknown key {unknown!r} in {where}; {did_you_mean(unknown, known, 'keys')}"
    return invalid.named


def _shown_regex(regex: str) -> str:
    """``regex`` quoted as written (its first 80 characters), backslashes single; a control
    character in it escaped."""
    short = regex[:80] + ("..." if len(regex) > 80 else "")
    return f"'{short}'" if short.isprintable() and "'" not in short else repr(short)


def _check_regex(regex: str, where: list[str | int]) -> None:
    """A condition's regex is bounded before it is compiled, by the code points compiling it
    case-folds (``patterns.folded``); then it must compile."""
    quoted = _shown_regex(regex)
    try:
        if folded(regex) > MAX_FOLDED:
            raise _Problem(
                f"regex {quoted} ignores case over character ranges of more than {MAX_FOLDED} "
                "characters in all, which compiling it folds one by one; narrow the ranges",
                where,
            )
        re.compile(regex)
    except (re.error, OverflowError) as exc:  # OverflowError: a repeat count past 2**32 - 1
        raise _Problem(f"bad regex {quoted}: {exc}", where) from None
    except RecursionError:
        raise _Problem(f"regex {quoted} nests too deeply to compile", where) from None


def _build(raw: Any, source: Any, order: int) -> Scenario:
    """The scenario ``raw`` (which passes the scenario schema: ``_schema_problems``); raises
    ``_Problems``."""
    if "reply" in raw and "sequence" in raw:
        raise _Problems([_Problem("give either 'reply' or 'sequence', not both", ["sequence"])])
    found: list[_Problem] = []
    match = raw.get("match") or {}
    for key, spec in match.items():
        if isinstance(spec, dict) and "regex" in spec:
            try:
                _check_regex(spec["regex"], ["match", key, "regex"])
            except _Problem as problem:
                found.append(problem)
                continue
            why = unbounded(spec["regex"], "message")
            if why is not None:
                shown = _shown_regex(spec["regex"])
                found.append(_Problem(f"regex {shown} {why}", ["match", key, "regex"]))
    replies = []
    sources = [("sequence", i, r) for i, r in enumerate(raw.get("sequence") or ())] or [
        ("reply", None, raw.get("reply") or {})
    ]
    for key, index, reply in sources:
        where: list[str | int] = [key] if index is None else [key, index]
        try:
            replies.append(build_reply(reply))
        except TemplateError as exc:
            found.append(_Problem(f"bad template: {exc}", [*where, *exc.path]))
        except ValueError as exc:
            found.append(_Problem(str(exc), where))
        if len(found) >= MAX_SCHEMA_PROBLEMS:
            break
    if found:
        raise _Problems(found)
    return Scenario(
        name=raw["name"],
        conditions=build_conditions(match),
        replies=tuple(replies),
        on_exhausted=raw.get("on_exhausted", "repeat_last"),
        on_ruled_out=raw.get("on_ruled_out", "answer"),
        priority=raw.get("priority", 0),
        profile=raw.get("profile"),
        location=source,
        order=order,
    )


def scenario_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named by ``paths`` (``_listed``); raises ``ScenarioProblems`` when a path names
    none."""
    files, problems = _listed(paths)
    if problems:
        raise ScenarioProblems(problems)
    yield from files


def _listed(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """Files named by ``paths`` (files as given, folders by their scenario files, sorted; each
    file once), and a problem for each path that names none: an empty path (``Path("")`` would
    be the working directory, venv and all), a missing one, a folder that cannot be listed, or
    what is not a regular file (a FIFO or a device would be read forever)."""
    files: dict[Path, Path] = {}  # as given, by where it is
    problems: list[str] = []
    for entry in paths:
        if not str(entry).strip():
            problems.append("an empty path: name a scenario file or folder")
            continue
        path = Path(entry)
        if path.is_dir():
            found = []
            for folder, _, names in os.walk(path, onerror=lambda exc: problems.append(_why(exc))):
                found += [
                    Path(folder, n) for n in names if Path(n).suffix.lower() in SCENARIO_SUFFIXES
                ]
            for file in sorted(found):
                if file.is_file():
                    files.setdefault(file.resolve(), file)
                else:  # a FIFO or device, a link to nothing
                    problems.append(_not_a_file(file))
        elif path.is_file():
            files.setdefault(path.resolve(), path)
        else:
            problems.append(_not_a_file(path))
    return list(files.values()), problems


def _not_a_file(path: Path) -> str:
    if path.exists():
        return f"{path}: not a file or folder of scenarios"
    return f"{path}: no such file or folder"


def _why(error: OSError) -> str:
    """A file or folder that could not be read, in the system's words."""
    return f"{error.filename}: cannot be read: {error.strerror or error}"


def _shown(path: Path) -> str:
    """A path as reports show it: a bundled file as ``mock_server/scenarios/NAME`` wherever the
    package is installed; another file relative to the working directory when inside it."""
    resolved = path.resolve()
    folder = bundled("scenarios")
    if resolved.is_relative_to(folder):
        return str(resolved.relative_to(folder.parent.parent))
    if resolved.is_relative_to(Path.cwd()):
        return str(resolved.relative_to(Path.cwd()))
    return str(path)


def load_paths(paths: Iterable[str | Path]) -> list[Scenario]:
    """Every scenario in ``paths``, in file order; raises ``ScenarioProblems`` on any problem."""
    return _load(*_listed(paths))


def _load(files: list[Path], problems: list[str]) -> list[Scenario]:
    """Every scenario in ``files``, after the ``problems`` of listing them."""
    scenarios: list[Scenario] = []
    seen: dict[str, str] = {}
    for path in files:
        try:
            text = path.read_bytes()
        except OSError as exc:
            problems.append(_why(exc))
            continue
        found, file_problems = parse_document(text, _shown(path), len(scenarios))
        problems.extend(file_problems)
        for scenario in found:
            if scenario.name in seen:
                problems.append(
                    f"{scenario.source}: scenario {scenario.name!r}: duplicate name; first "
                    f"defined at {seen[scenario.name]}"
                )
            seen[scenario.name] = scenario.location
        scenarios.extend(found)
    if problems:
        raise ScenarioProblems(problems)
    return scenarios


def check_profiles(scenarios: Iterable[Scenario], profiles: ProfileRegistry) -> None:
    """Refuse scenarios that name a profile the server does not have (they could never match:
    a typo would lie dead); ``ScenarioProblems`` lists them."""
    problems = [
        f"{s.source}: scenario {shown(s.name)}: {profiles.unknown(s.profile)}"
        for s in scenarios
        if s.profile is not None and profiles.get(s.profile) is None
    ]
    if problems:
        raise ScenarioProblems(problems)


def parse_scenarios(spec: Any, source: str = "<added>", first_order: int = 0) -> list[Scenario]:
    """Scenarios from one scenario mapping, a list of them, ``{"scenarios": [...]}``, or
    YAML/JSON text of any of these."""
    text = spec if isinstance(spec, (str, bytes)) else json.dumps(spec)
    scenarios, problems = parse_document(text, source, first_order)
    if problems:
        raise ScenarioProblems(problems)
    return scenarios


def bundled_scenarios_dir() -> Path:
    return bundled("scenarios")


def check_paths(paths: list[str]) -> int:
    """``mock-server check``: lint files, print every problem, exit non-zero on any."""
    files, problems = _listed(paths)
    try:
        scenarios = _load(files, problems)
    except ScenarioProblems as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"ok: {len(scenarios)} scenario(s) in {len(files)} file(s)")
    return 0
