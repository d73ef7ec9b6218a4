"""Scenario files: lint messages (golden files), ``mock-server check``, loading folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from mock_server.bundled import bundled
from mock_server.cli import main
from mock_server.engine.loading import ScenarioProblems, load_paths, parse_scenarios

GOLDEN = Path("tests/golden/lint")


@pytest.mark.parametrize("name", ["typos", "rules", "syntax", "shape"])
def test_lint_messages_match_golden_files(name, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["check", str(GOLDEN / f"{name}.yaml")]) == 1
    assert capsys.readouterr().err == (GOLDEN / f"{name}.txt").read_text()


def test_check_passes_bundled_scenarios(capsys):
    assert main(["check", str(bundled("scenarios"))]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_check_missing_path(capsys):
    assert main(["check", "/nonexistent/scenarios.yaml"]) == 1
    assert "no such file or folder" in capsys.readouterr().err


BAD_REGEX = """\
scenarios:
  - name: big-repeat
    match: {last_user_message: {regex: "a{99999999999}"}}
"""


def test_check_reports_every_path_it_cannot_read_and_lints_the_others(tmp_path, capsys):
    """A path that names no file (missing, a FIFO, which would be read forever) is a problem of
    its own: the other files are still linted; a file named twice is read once."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_REGEX)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    good = bundled("scenarios") / "defaults.yaml"
    paths = [str(tmp_path / "missing.yaml"), str(fifo), str(bad), str(good), str(good)]
    assert main(["check", *paths]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{tmp_path / 'missing.yaml'}: no such file or folder",
        f"{fifo}: not a file or folder of scenarios",
        f"{bad}:3:40: scenario 'big-repeat': bad regex 'a{{99999999999}}': the repetition "
        "number is too large",
        "3 problem(s) found",
    ]
    assert main(["check", str(good), str(good)]) == 0


def test_a_json_file_that_only_yaml_would_take_is_not_valid_json():
    text = '{"scenarios": [{"name": "a", "reply": {"content": "x",}}]}'  # YAML takes it
    with pytest.raises(json.JSONDecodeError) as refused:
        json.loads(text)
    with pytest.raises(ScenarioProblems) as caught:
        parse_scenarios(text, "s.json")
    where, why = f"{refused.value.lineno}:{refused.value.colno}", refused.value.msg  # by Python
    assert caught.value.problems == [f"s.json:{where}: not valid JSON: {why}"]


MANY_MISTAKES = """\
scenarios:
  - name: multi
    priority: high
    match: {modle: x, turn: -1}
    reply: {content: x, contnet: y}
    on_exhausted: explode
  - name: seq
    sequence:
      - {content: ok, finish_reason: sideways}
      - {fault: [reset]}
  - priority: 1
"""


def test_every_mistake_of_a_scenario_is_said_at_once(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(MANY_MISTAKES)
    assert main(["check", str(path)]) == 1
    said = [line.split(": ", 1) for line in capsys.readouterr().err.splitlines()[:-1]]
    assert [(where.removeprefix(f"{path}:"), what.split(": ")[0]) for where, what in said] == [
        ("3:15", "scenario 'multi'"),
        ("4:13", "scenario 'multi'"),
        ("4:29", "scenario 'multi'"),
        ("5:25", "scenario 'multi'"),
        ("6:19", "scenario 'multi'"),
        ("9:38", "scenario 'seq'"),
        ("10:17", "scenario 'seq'"),
        ("11:5", "scenario #3"),
    ]  # priority, modle, turn, contnet, on_exhausted; finish_reason, fault; a missing name
    assert "Missing required parameter: 'name'." in said[-1][1]


def test_the_mistakes_of_a_scenarios_regexes_and_replies_are_said_together():
    scenario = {
        "name": "two",
        "match": {"last_user_message": {"regex": "(a"}, "system_message": {"regex": "(b"}},
        "sequence": [{"content": "{{ foo"}, {"content": "fine"}, {"refusal": "{{ bar"}],
    }
    with pytest.raises(ScenarioProblems) as caught:
        parse_scenarios(scenario)
    said = [problem.split(": scenario 'two': ")[1] for problem in caught.value.problems]
    assert [what.split(" ")[:2] for what in said] == [
        ["bad", "regex"], ["bad", "regex"], ["bad", "template:"], ["bad", "template:"]
    ]  # fmt: skip
    many = {"name": "many", "sequence": [{"content": "{{ x"}] * 100}
    with pytest.raises(ScenarioProblems) as caught:
        parse_scenarios(many)
    assert len(caught.value.problems) == 20  # as many as a scenario's shape is said with


def test_a_large_scenario_is_checked_once_however_many_its_mistakes():
    """Each further check walks the whole scenario again: past 64 KB of it, the first mistake
    alone is said (a document the admin API is sent is client data)."""
    steps = [{"content": "z" * 100} for _ in range(1000)] + [{"bogus": 1}, {"bogus": 2}]
    with pytest.raises(ScenarioProblems) as caught:
        parse_scenarios({"name": "long", "sequence": steps})
    assert len(caught.value.problems) == 1 and "unknown key 'bogus'" in caught.value.problems[0]
    with pytest.raises(ScenarioProblems) as caught:
        parse_scenarios({"name": "short", "sequence": steps[-2:]})
    assert len(caught.value.problems) == 2


def test_an_integer_too_long_is_refused_in_json_as_in_yaml():
    long = "1" + "0" * 4000
    for text in (f'{{"name": "a", "priority": {long}}}', f"name: a\npriority: {long}\n"):
        with pytest.raises(ScenarioProblems) as caught:
            parse_scenarios(text)
        assert "an integer of 4001 digits; write it as a string" in caught.value.problems[0]


def test_yaml_in_flow_style_is_yaml_wherever_it_is_not_a_json_file():
    text = "{scenarios: [{name: a, reply: {content: hi}}]}"  # not JSON: keys unquoted
    assert [s.name for s in parse_scenarios(text, "s.yaml")] == ["a"]
    assert [s.name for s in parse_scenarios("[{name: b, reply: {content: hi}}]")] == ["b"]


def test_a_fifo_inside_a_folder_is_a_problem_not_a_wait(tmp_path, capsys):
    (tmp_path / "ok.yaml").write_text("scenarios: []\n")
    os.mkfifo(tmp_path / "pipe.yaml")
    assert main(["check", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{tmp_path / 'pipe.yaml'}: not a file or folder of scenarios",
        "1 problem(s) found",
    ]


def test_serve_refuses_a_regex_past_the_engines_repeat_bound(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_REGEX)
    assert main(["serve", "--scenarios", str(bad), "--port", "0"]) == 2
    assert "the repetition number is too large" in capsys.readouterr().err


def test_serve_refuses_a_bad_scenario_file(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["serve", "--scenarios", str(GOLDEN / "typos.yaml"), "--port", "0"]) == 2
    assert "did you mean 'model'?" in capsys.readouterr().err


# ``mock-server check`` in a process of its own, with libyaml's parser or without it (PyYAML's
# pure-Python one, which yamlio falls back to).
LOADERS = {
    "libyaml": "",
    "pure-python": "import yaml; yaml.__dict__.pop('CSafeLoader', None); ",
}
TWO_MATCHES = """scenarios:
  - name: weather
    match: {model: gpt-4o}
    reply: {content: sunny}
    match:
      last_user_message: {contains: weather}
"""
# ``*sunny`` is merged into the reply before the mapping it names is built (it lies deeper), by
# which time its own merge key has been expanded: its keys are checked as written, once.
MERGED = """scenarios:
  - name: weather
    match: &weather
      model: gpt-4o
      last_user_message: {contains: weather}
    sequence:
      - &sunny {<<: {content: rain}, content: sunny}
  - name: weather-mini
    match: {<<: *weather, model: gpt-4o-mini}
    reply: {<<: *sunny, finish_reason: length}
"""


def check_in_process(path: Path, loader: str) -> subprocess.CompletedProcess[str]:
    code = LOADERS[loader] + "from mock_server.cli import main; raise SystemExit(main())"
    command = [sys.executable, "-c", code, "check", str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


# A key written twice, in YAML and in JSON (which the JSON parser reads when it can, keeping the
# last of the two): the file, where the second is, the line of the first, and what the file
# is said not to be.
WRITTEN_TWICE = {
    "yaml": ("s.yaml", TWO_MATCHES, "5:5", 3, "YAML"),
    "json": (
        "s.json",
        '{"scenarios": [{"name": "a",\n "match": {"model": "x"},\n "match": {"model": "y"},'
        ' "reply": {"content": "z"}}]}',
        "3:2",
        2,
        "JSON",
    ),
}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("form", WRITTEN_TWICE)
def test_a_key_written_twice_is_refused_where_it_is_written_again(tmp_path, loader, form):
    name, text, where, first, kind = WRITTEN_TWICE[form]
    path = tmp_path / name
    path.write_text(text)
    checked = check_in_process(path, loader)
    assert (checked.returncode, checked.stderr) == (
        1,
        f"{path}:{where}: not valid {kind}: duplicate key 'match' (first at line {first})\n"
        "1 problem(s) found\n",
    )


@pytest.mark.parametrize("loader", LOADERS)
def test_a_file_that_is_not_utf8_is_said_in_one_line(tmp_path, loader):
    path = tmp_path / "s.yaml"
    path.write_bytes(b'- name: a\n  reply: {content: "\xff"}\n')
    checked = check_in_process(path, loader)
    said, count = checked.stderr.splitlines()
    assert checked.returncode == 1 and count == "1 problem(s) found"
    assert said == (
        f"{path}:2:21: not valid YAML: byte 0xff is not UTF-8 (invalid start byte); save the "
        "file as UTF-8"
    )


@pytest.mark.parametrize("loader", LOADERS)
def test_half_a_surrogate_pair_is_refused_a_whole_one_taken(tmp_path, loader):
    """JSON's parser leaves a lone ``\\ud800`` as a string no UTF-8 can hold (every answer
    using it was a 500); a pair is one character (an emoji)."""
    path = tmp_path / "s.json"
    path.write_text('[{"name": "a", "reply": {"content": "\\ud800"}}]')
    checked = check_in_process(path, loader)
    assert checked.returncode == 1 and checked.stderr.startswith(f"{path}:1:"), checked.stderr
    path.write_text('[{"name": "a", "reply": {"content": "\\ud83d\\ude00"}}]')
    assert check_in_process(path, loader).returncode == 0


@pytest.mark.parametrize("loader", LOADERS)
def test_merge_keys_may_still_be_overridden(tmp_path, loader):
    path = tmp_path / "s.yaml"
    path.write_text(MERGED)
    checked = check_in_process(path, loader)
    assert (checked.returncode, checked.stdout) == (0, "ok: 2 scenario(s) in 1 file(s)\n")


def test_duplicate_names_across_files(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("scenarios:\n  - name: same\n    reply: {content: x}\n")
    with pytest.raises(ScenarioProblems) as caught:
        load_paths([tmp_path])
    assert "duplicate name" in str(caught.value)


def test_folders_load_in_file_order(tmp_path):
    (tmp_path / "2-second.yaml").write_text("scenarios:\n  - name: second\n")
    (tmp_path / "1-first.yml").write_text("scenarios:\n  - name: first\n")
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert [s.name for s in load_paths([tmp_path])] == ["first", "second"]


def test_a_folder_reads_scenario_files_whatever_the_case_of_their_suffix(tmp_path):
    (tmp_path / "1-shouted.YAML").write_text("scenarios:\n  - name: shouted\n")
    (tmp_path / "2-short.YML").write_text("scenarios:\n  - name: short\n")
    (tmp_path / "3-strict.JSON").write_text('{"scenarios": [{"name": "strict",}]}')
    with pytest.raises(ScenarioProblems) as caught:  # a .JSON file is JSON: no trailing comma
        load_paths([tmp_path])
    assert "3-strict.JSON:1:" in str(caught.value) and "not valid JSON" in str(caught.value)
    (tmp_path / "3-strict.JSON").write_text('{"scenarios": [{"name": "strict"}]}')
    assert [s.name for s in load_paths([tmp_path])] == ["shouted", "short", "strict"]


def test_one_scenario_mapping_and_json_text_are_accepted():
    assert parse_scenarios({"name": "solo", "reply": {"content": "x"}})[0].name == "solo"
    assert parse_scenarios('{"scenarios": [{"name": "j"}]}')[0].name == "j"


def test_environment_variable_sets_scenarios(tmp_path):
    from mock_server.config import build_settings

    settings = build_settings({}, environ={"MOCK_SERVER_SCENARIOS": f"{tmp_path}{os.pathsep}x"})
    assert settings.scenarios == [str(tmp_path), "x"]


def test_watch_sees_a_rewrite_that_keeps_size_and_modification_time(tmp_path):
    from mock_server.server.watch import _changed, _stamps

    path = tmp_path / "live.yaml"
    path.write_text("reply: {content: version one}")
    before = _stamps([tmp_path])
    mtime = path.stat().st_mtime_ns
    path.write_text("reply: {content: version two}")
    os.utime(path, ns=(mtime, mtime))  # what a coarse-grained filesystem clock gives
    after = _stamps([tmp_path])
    assert after[path][:2] == before[path][:2]
    assert _changed(before, after)
    assert not _changed(after, _stamps([tmp_path]))


def test_watch_reloads_and_keeps_the_last_good_set_on_a_broken_edit(tmp_path, caplog):
    import logging

    from conftest import TenantHandle, wait_for

    from mock_server.testing.runner import MockServer

    path = tmp_path / "live.yaml"
    path.write_text("scenarios:\n  - name: live\n    reply: {content: version one}\n")
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}

    def answer(handle) -> str:
        return handle.post(body).json()["choices"][0]["message"]["content"]

    with MockServer(scenarios=[str(tmp_path)], watch=True) as server:
        handle = TenantHandle(server, "watch")
        assert answer(handle) == "version one"
        path.write_text("scenarios:\n  - name: live\n    reply: {content: version two}\n")
        wait_for(lambda: answer(handle) == "version two")
        with caplog.at_level(logging.WARNING, logger="mock_server"):
            path.write_text("scenarios:\n  - name: live\n    reply: {contnet: broken}\n")
            wait_for(lambda: "were not reloaded" in caplog.text)
        assert "did you mean 'content'?" in caplog.text
        assert answer(handle) == "version two"
