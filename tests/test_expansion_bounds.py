"""What a few bytes may expand to: a template's filters, each sized as it is made, stop at the
first past ``MAX_RENDERED``; a YAML document whose aliases name one long text many times is
refused when it loads, from the sizes of its texts, before anything is expanded. Real servers,
raw HTTP, and ``mock-server check`` in a process of its own."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc

import pytest

from mock_server.cli import main

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
# ``mock-server check`` with libyaml's parser or without it (PyYAML's pure-Python one).
LOADERS = {
    "libyaml": "",
    "pure-python": "import yaml; yaml.__dict__.pop('CSafeLoader', None); ",
}


def json_chain(times: int) -> str:
    """``model`` written as JSON ``times`` over: each ``json`` about doubles the text, its
    quotes escaped again, so 23 of them pass 16,777,216 characters."""
    return "{{ model" + " | json" * times + " }}"


def test_a_chain_of_json_filters_stops_at_the_first_past_the_bound(tenant):
    """26 ``json`` filters would make 134 million characters; the refusal comes at the 23rd,
    having built a few tens of megabytes."""
    tenant.add(
        {
            "name": "within",
            "match": {"headers": {"x-chain": "21"}},
            "reply": {"content": json_chain(21)},
        }
    )
    tenant.add(
        {
            "name": "past",
            "match": {"headers": {"x-chain": "26"}},
            "reply": {"content": json_chain(26)},
        }
    )
    within = tenant.post(ASK, headers={"x-chain": "21"})
    assert within.status == 200, within.body[:300]
    assert len(within.json()["choices"][0]["message"]["content"]) == 4_194_308
    tracemalloc.start()
    try:
        started = time.process_time()
        refused = tenant.post(ASK, headers={"x-chain": "26"})
        spent = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert refused.status == 400, refused.body[:300]
    error = refused.json()["error"]
    assert error["code"] == "response_too_large", error
    assert error["message"] == (
        "A reply template renders to more than 16,777,216 characters for this request."
    )
    assert peak < 64_000_000, f"{peak:,} bytes at the peak"
    assert spent < 1, spent


def named_often(times: int) -> str:
    """A scenario of some 100 KB: one 100,000-character text, anchored, then named ``times``
    times in a tool call's arguments."""
    texts = ", ".join([f'&text "{"A" * 100_000}"'] + ["*text"] * times)
    return f"name: often\nreply: {{tool_calls: [{{name: f, arguments: {{q: [{texts}]}}}}]}}\n"


# Aliases may add 16,777,216 characters to what the document holds as written: 168 copies of
# the text pass that, so the 168th alias is where it is refused.
OFTEN = named_often(1_000)
WHERE = f"2:{OFTEN.splitlines()[1].index('*text') + 7 * 167 + 1}"
PAST = "not valid YAML: aliases expand the document beyond 16,777,216 characters of text"


def test_aliases_that_name_a_long_text_often_are_refused_where_they_pass_the_bound(tenant):
    started = time.monotonic()
    refused = tenant.admin("POST", "/scenarios", OFTEN)
    assert refused.status == 400, refused.body[:300]
    assert refused.json()["error"]["message"] == f"<admin>:{WHERE}: {PAST}"
    assert time.monotonic() - started < 3  # the expansion is never built
    tenant.add(named_often(160))  # 16,100,000 characters: within the bound


def test_a_long_document_without_aliases_is_not_taken_for_an_expanded_one(tmp_path):
    """``&`` and ``*`` in its text (``R&D``, ``**bold**``) make the loader look for aliases; a
    document as long as the bound, but holding none, is what it is."""
    text = "R&D **bold** " + "x" * 200
    path = tmp_path / "long.yaml"
    path.write_text(
        "scenarios:\n"
        + "".join(f"  - name: s{n}\n    reply: {{content: '{text}'}}\n" for n in range(80_000))
    )
    assert main(["check", str(path)]) == 0


@pytest.mark.parametrize("loader", LOADERS)
def test_check_refuses_aliases_past_the_bound_with_either_parser(tmp_path, loader):
    path = tmp_path / "often.yaml"
    path.write_text(OFTEN)
    code = LOADERS[loader] + "from mock_server.cli import main; raise SystemExit(main())"
    checked = subprocess.run(
        [sys.executable, "-c", code, "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert (checked.returncode, checked.stderr) == (
        1,
        f"{path}:{WHERE}: {PAST}\n1 problem(s) found\n",
    )
