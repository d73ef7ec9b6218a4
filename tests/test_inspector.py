"""The inspector page in a real headless Chromium (Debian's ``chromium`` package), driven with
Playwright's ``executable_path`` — Playwright for Python ships its driver in the wheel, so
nothing downloads a browser build. Under ``CI=true`` these tests fail, not skip, when the
browser cannot start."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator

import openai
import pytest
from conftest import API_KEY, made

from mock_server.engine.loading import parse_scenarios
from mock_server.testing.runner import MockServer

IN_CI = os.environ.get("CI") == "true"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Without the background-networking flags Chromium reaches for Google's hosts at every start.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WEATHER = {
    "name": "weather",
    "match": {"last_user_message": {"contains": "weather"}},
    "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"location": "Paris"}}]},
}


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright

        if CHROMIUM is None:
            raise RuntimeError("no chromium on PATH (apt-get install chromium)")
        playwright = sync_playwright().start()
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"the browser tests need Chromium and Playwright: {exc}")
        pytest.skip(f"no browser here: {exc}")
    yield launched
    launched.close()
    playwright.stop()


@pytest.fixture(scope="module")
def served() -> Iterator[MockServer]:
    with MockServer() as running:
        yield running


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context()
    opened = context.new_page()
    opened.problems = []
    opened.on("console", lambda m: m.type == "error" and opened.problems.append(m.text))
    opened.on("pageerror", lambda error: opened.problems.append(str(error)))
    yield opened
    context.close()


def client(server: MockServer, tenant: str | None = None) -> openai.OpenAI:
    base = server.url + (f"/t/{tenant}" if tenant else "") + "/v1"
    return made(openai.OpenAI(base_url=base, api_key=API_KEY, max_retries=0))


def open_inspector(page, server: MockServer, tenant: str | None = None) -> None:
    page.goto(server.url + (f"/t/{tenant}" if tenant else "") + "/__admin/")
    page.wait_for_selector("#requests-view:not([hidden])")


def test_page_loads_without_errors_and_shows_new_requests_live(page, served):
    with served.tenant("live") as handle:
        handle.add(WEATHER)
    open_inspector(page, served, "live")
    client(served, "live").chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[{"type": "function", "function": {"name": "get_weather"}}],
    )
    row = page.wait_for_selector("#requests tbody tr", timeout=2000)  # no reload
    assert "weather#1" in row.inner_text()
    row.click()
    arguments = page.wait_for_selector("#detail .arguments")
    assert '"location": "Paris"' in arguments.inner_text()
    assert page.problems == []


def test_near_miss_table_names_the_failed_condition(page, served):
    with served.tenant("strict-inspect") as handle:
        handle.add(WEATHER)
        handle.set_strict(True)
    with pytest.raises(openai.NotFoundError):
        client(served, "strict-inspect").chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Tell me a joke"}]
        )
    open_inspector(page, served, "strict-inspect")
    page.click("#requests tbody tr")
    table = page.wait_for_selector("#detail table.near-miss")
    text = table.inner_text()
    assert "weather" in text and "last_user_message" in text
    assert "'Tell me a joke'" in text and "contains 'weather'" in text


def test_request_text_is_shown_as_text_and_never_runs(page, served):
    hostile = '<img src=x onerror="window.__hit=1"><script>window.__hit=2</script><b>bold</b>'
    client(served, "xss").chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": hostile}]
    )
    open_inspector(page, served, "xss")
    page.click("#requests tbody tr")
    page.wait_for_selector("#detail .message.user")
    assert hostile in page.inner_text("#detail .message.user")
    assert page.query_selector("#detail img") is None and page.query_selector("#detail b") is None
    assert page.evaluate("window.__hit") is None
    assert page.problems == []


def test_save_as_scenario_lints_and_answers_the_same_request(page, served):
    ask = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Save me, please"}]}
    first = client(served, "save").chat.completions.create(**ask)
    open_inspector(page, served, "save")
    page.click("#requests tbody tr")
    page.click("#save-scenario")
    page.wait_for_selector("#output[data-filled]")
    text = page.inner_text("#output")
    (scenario,) = parse_scenarios(text, source="saved.yaml")  # lints
    with served.tenant("replayed") as replayed:
        replayed.add(text)
        again = client(served, "replayed").chat.completions.create(**ask)
        assert again.choices[0].message.content == first.choices[0].message.content
        assert replayed.requests[-1]["scenario"] == scenario.name


def test_save_as_scenario_says_why_a_request_cannot_be_one(page, served):
    ask = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 300_000}]}
    client(served, "too-big").chat.completions.create(**ask)
    open_inspector(page, served, "too-big")
    page.click("#requests tbody tr")
    page.click("#save-scenario")
    said = page.wait_for_selector("#output[data-filled]").inner_text()
    assert ": 409 request 'req_" in said
    assert said.endswith(
        "more than the journal keeps (262,144): no scenario can be built that matches it"
    )


def test_copy_as_curl_sends_the_same_request_with_the_shells_key(page):
    ask = {"model": "gpt-4o", "messages": [{"role": "user", "content": "It's curl's turn"}]}
    with MockServer(api_keys=["sk-only-this-one"]) as keyed:
        sdk = made(openai.OpenAI(base_url=keyed.url + "/v1", api_key="sk-only-this-one"))
        first = sdk.chat.completions.create(**ask)
        open_inspector(page, keyed)
        page.click("#requests tbody tr")
        page.click("#copy-curl")
        command = page.wait_for_selector("#output[data-filled]").inner_text()
        environment = {**os.environ, "OPENAI_API_KEY": "sk-only-this-one"}
        ran = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, env=environment, timeout=30
        )
    answer = json.loads(ran.stdout)  # the key checked: a 401 has no choices
    assert answer["choices"][0]["message"]["content"] == first.choices[0].message.content


def test_the_token_prompt_and_a_wrong_token_show_nothing(page):
    with MockServer(admin_token="inspect-token") as guarded, client(guarded) as guarded_client:
        guarded_client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "private"}]
        )
        page.goto(guarded.url + "/__admin/")
        page.wait_for_selector("#token-form:not([hidden])")
        assert page.is_hidden("#requests-view")
        page.fill("#token", "wrong")
        page.click("#token-form button")
        page.wait_for_selector("#token-error:not([hidden])")
        assert page.is_hidden("#requests-view")
        assert "private" not in page.inner_text("body")
        page.fill("#token", "inspect-token")
        page.click("#token-form button")
        row = page.wait_for_selector("#requests tbody tr", timeout=3000)
        assert row.inner_text()


def test_a_responses_request_shows_its_input_items_and_output_items(page, served):
    with served.tenant("responses-inspect") as handle:
        handle.add(WEATHER)
    with client(served, "responses-inspect") as sdk:
        first = sdk.responses.create(
            model="gpt-4o", input="What is the weather?", instructions="Be brief."
        )
        result = {
            "type": "function_call_output",
            "call_id": first.output[0].call_id,
            "output": "sunny",
        }
        sdk.responses.create(model="gpt-4o", previous_response_id=first.id, input=[result])
    open_inspector(page, served, "responses-inspect")
    page.wait_for_selector("#requests tbody tr:nth-child(2)")
    page.click("#requests tbody tr:last-child")  # the oldest: the first response
    page.wait_for_selector("#detail .message.system")
    assert "Be brief." in page.inner_text("#detail .message.system")
    assert "What is the weather?" in page.inner_text("#detail .message.user")
    assert '"location": "Paris"' in page.inner_text("#detail .arguments")  # its output item
    page.click("#requests tbody tr:first-child")
    page.wait_for_selector("#detail .message.tool")
    assert "sunny" in page.inner_text("#detail .message.tool")
    assert page.problems == []
