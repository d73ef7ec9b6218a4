"""The documentation says what the code does: its examples parse, load and run."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT

from mock_server.config import build_settings
from mock_server.engine.loading import parse_scenarios
from mock_server.testing.runner import MockServer

DOCS = ROOT / "docs"


def blocks(name: str, language: str) -> list[str]:
    text = (DOCS / name).read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


SCENARIO_EXAMPLES = [
    (name, block)
    for name in ("scenarios.md", "recording.md", "agents.md")
    for block in blocks(name, "yaml")
]


@pytest.mark.parametrize(("name", "block"), SCENARIO_EXAMPLES)
def test_scenario_examples_load(name, block):
    assert parse_scenarios(block, source=f"docs/{name}")


def test_pytest_examples_are_the_tested_project():
    project = (ROOT / "tests" / "plugin_project" / "test_user_style.py").read_text()
    examples = blocks("pytest.md", "python")
    assert len(examples) >= 6
    for example in examples[:-1]:  # the last one is the library example, tested below
        assert example in project, example[:80]


def test_library_example_runs(tmp_path):
    source = blocks("pytest.md", "python")[-1]
    assert "MockServer(scenarios=[" in source
    from mock_server import MockServer

    with MockServer(scenarios=[]) as server:
        server.add({"name": "hi", "reply": {"content": "library"}})
        assert server.requests == []


@pytest.mark.parametrize(
    "doc, test",
    [
        ("embeddings.md", "test_the_right_document_ranks_first"),
        ("responses.md", "test_a_tool_loop_over_the_responses_api"),
    ],
)
def test_api_examples_run_and_are_the_readmes(doc, test):
    (source,) = blocks(doc, "python")
    assert f"```python\n{source}```" in (ROOT / "README.md").read_text()
    namespace: dict = {}
    exec(compile(source, f"docs/{doc}", "exec"), namespace)
    with MockServer() as server:
        namespace[test](server)


def test_config_example_loads(tmp_path):
    (config,) = [b for b in blocks("configuration.md", "yaml") if "api_keys" in b]
    (tmp_path / "scenarios").mkdir()
    path = tmp_path / "mock-server.yaml"
    path.write_text(config)
    settings = build_settings({}, str(path), environ={})
    assert [k.key for k in settings.api_keys] == ["sk-test-1", "sk-test-2", "sk-test-3"]
    assert settings.chaos_profiles["gemini"].probability == 0.2


def test_readme_commands_match_ci():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "\nbash .ci/run\n" in readme
    assert "-m pytest -p no:cacheprovider -n 2 -q" in ci  # the suite, against the installed wheel
    assert "pip install -e . && mock-server" in readme


def test_every_doc_the_readme_links_exists():
    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / link).is_file(), link
