"""The admin API: journal queries, scenario management, the admin token, and switches."""

from __future__ import annotations

import json

import pytest
from conftest import TenantHandle as Tenant
from conftest import raw_request

from mock_server.testing.runner import MockServer
from mock_server.testing.tenant_handle import AdminError, TenantHandle

ASK = {"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]}


def test_journal_filters_count_and_delete(tenant):
    tenant.add(
        {
            "name": "hi",
            "match": {"last_user_message": {"equals": "ping"}},
            "reply": {"content": "hello"},
        }
    )
    tenant.post(ASK)
    tenant.post({**ASK, "messages": [{"role": "user", "content": "other"}]})
    tenant.post({**ASK, "temperature": 9})
    assert [e["scenario"] for e in tenant.requests(scenario="hi")] == ["hi"]
    assert [e["status"] for e in tenant.requests(status="400")] == [400]
    (unmatched,) = tenant.requests(unmatched="true")
    assert unmatched["last_user_message"] == "other"
    assert "hi" in [miss["scenario"] for miss in unmatched["near_miss"]]
    assert tenant.admin("GET", "/requests/count").json() == {"count": 3}
    assert len(tenant.requests(limit="2")) == 2
    assert tenant.admin("DELETE", "/requests").status == 200
    assert tenant.requests() == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=abc", "?limit= must be a number of entries, not 'abc'"),
        ("status=abc", "?status= must be an HTTP status such as 429 (0: no response), not 'abc'"),
        ("unmatched=maybe", "?unmatched= must be true or false, not 'maybe'"),
        ("limit=2&limit=abc", "?limit= is given more than once"),
        ("scenario=a&scenario=b", "?scenario= is given more than once"),
    ],
)
def test_a_filter_it_cannot_read_is_refused_not_ignored(tenant, query, message):
    refused = tenant.admin("GET", f"/requests?{query}")
    assert (refused.status, refused.json()["error"]["message"]) == (400, message)


def test_a_filter_misspelt_is_refused_and_a_delete_takes_none(tenant):
    """A filter the journal does not know would be one left out: the whole journal counted,
    or, on a delete, cleared."""
    tenant.post(ASK)
    for path in ("/requests/count?scenaro=hi", "/requests?Limit=1"):
        refused = tenant.admin("GET", path)
        assert refused.status == 400 and "Did you mean" in refused.json()["error"]["message"]
    refused = tenant.admin("DELETE", "/requests?scenario=hi")
    assert refused.status == 400 and "no filter" in refused.json()["error"]["message"]
    assert len(tenant.requests()) == 1


def test_journal_entry_contents_and_redaction(tenant):
    tenant.add({"name": "hi", "priority": 5, "reply": {"content": "hello"}})
    tenant.post({**ASK, "stream": True})
    (entry,) = tenant.requests()
    assert entry["headers"]["authorization"] == "Bearer sk-*****************cdef"
    assert entry["body"]["stream"] is True
    assert (entry["stream"], entry["status"], entry["step"]) == (True, 200, 1)
    assert entry["chunks"] == 3
    assert entry["response"]["choices"][0]["message"]["content"] == "hello"
    assert entry["duration_ms"] >= 0


def test_large_bodies_are_summarised(tenant):
    big = {**ASK, "messages": [{"role": "user", "content": "x" * 300_000}]}
    assert tenant.post(big).status == 200
    (entry,) = tenant.requests()
    assert entry["body"] == {"truncated": True, "bytes": entry["body_bytes"]}
    assert entry["body_bytes"] > 300_000


def test_add_yaml_delete_one_and_all(tenant):
    response = tenant.admin("POST", "/scenarios", "name: y\nreply: {content: from yaml}\n")
    assert (response.status, response.json()) == (201, {"added": ["y"]})
    assert tenant.post(ASK).json()["choices"][0]["message"]["content"] == "from yaml"
    assert tenant.admin("DELETE", "/scenarios/y").status == 200
    assert tenant.admin("DELETE", "/scenarios/y").status == 404
    tenant.add([{"name": "a"}, {"name": "b"}])
    assert tenant.admin("DELETE", "/scenarios").status == 200
    assert [
        s for s in tenant.admin("GET", "/scenarios").json()["scenarios"] if s["origin"] == "added"
    ] == []


def test_scenario_list_counts_each_step_served(tenant):
    steps = [{"content": "one"}, {"content": "two"}]
    tenant.add(
        [
            {"name": "last", "match": {"last_user_message": {"equals": "a"}}, "sequence": steps},
            {
                "name": "cycle",
                "match": {"last_user_message": {"equals": "b"}},
                "sequence": [*steps, {"content": "three"}],
                "on_exhausted": "cycle",
            },
        ]
    )
    for text, times in (("a", 4), ("b", 5)):
        for _ in range(times):
            tenant.post({**ASK, "messages": [{"role": "user", "content": text}]})
    listed = {s["name"]: s for s in tenant.admin("GET", "/scenarios").json()["scenarios"]}
    assert (listed["last"]["served"], listed["last"]["served_per_step"]) == (4, [1, 3])
    assert (listed["cycle"]["served"], listed["cycle"]["served_per_step"]) == (5, [2, 2, 1])


def test_bad_scenario_is_refused_with_the_reason(tenant):
    response = tenant.admin("POST", "/scenarios", {"name": "x", "reply": {"contnet": "typo"}})
    assert response.status == 400
    assert "did you mean 'content'?" in response.json()["error"]["message"]


def test_reset_reports_unmatched(tenant):
    tenant.add({"name": "only", "match": {"last_user_message": {"equals": "nope"}}})
    tenant.post(ASK)
    report = tenant.admin("POST", "/reset?report=unmatched").json()["unmatched"]
    assert [e["last_user_message"] for e in report] == ["ping"]
    assert tenant.requests() == []


def test_a_report_misspelled_resets_nothing(tenant):
    tenant.post(ASK)
    refused = tenant.admin("POST", "/reset?report=unmached")
    assert (refused.status, len(tenant.requests())) == (400, 1)


@pytest.mark.parametrize(
    "query",
    ["report=unmatched&limit=1", "report=unmatched&scenario=x", "report=unmatched&report=x"],
)
def test_a_report_with_a_filter_resets_nothing(tenant, query):
    """A journal filter would leave requests out of the report the journal's reset loses."""
    tenant.post(ASK)
    refused = tenant.admin("POST", f"/reset?{query}")
    assert (refused.status, len(tenant.requests())) == (400, 1)
    assert "reset takes ?report=unmatched alone" in refused.body.decode()


def test_a_request_holding_a_key_saved_as_a_scenario_matches_it_again(tenant):
    """The journal shows the key redacted; the saved scenario matches the key's shape, as a
    recording does, and pins the rest of the request as it was sent (its own earlier answer
    included), so it answers the same request again without writing the key."""
    secret = "sk-live-" + "Q7x9" * 8
    said = [f"Keys like {secret} are secret.", f"Noted: {secret}", f"Log in with {secret}"]
    roles = ["system", "assistant", "user"]
    messages = [{"role": role, "content": text} for role, text in zip(roles, said, strict=True)]
    asked = {"model": "gpt-4o", "messages": messages}
    text = tenant.saved_and_replayed(asked)
    assert secret not in text and secret[8:] not in text


def test_a_refused_request_saved_as_a_scenario_loads_and_says_it_was_refused(tenant):
    """A request refused before scenarios saw it (not JSON) still saves as a scenario the
    server takes back (no ``turn: 0`` condition, which no request meets), which says that the
    server answered it first; a request a scenario answered says nothing of the kind."""
    path = tenant.url().removeprefix(tenant.server.url) + "/chat/completions"
    raw_request(tenant.server, "POST", path, b"{not json", {"Authorization": "Bearer sk-test"})
    tenant.post(ASK)
    refused, answered = tenant.requests()
    text = tenant.admin("GET", f"/requests/{refused['id']}/scenario").body.decode()
    assert text.startswith("# The server answered this request (400) before any scenario")
    assert tenant.admin("POST", "/scenarios", text).status == 201
    text = tenant.admin("GET", f"/requests/{answered['id']}/scenario").body.decode()
    assert text.startswith("scenarios:")
    assert (refused["asked"], answered["asked"]) == (False, True)


@pytest.mark.parametrize("profile", ["openai", "deepseek", "google"])
def test_a_strict_miss_saved_as_a_scenario_is_not_said_to_be_refused(server, profile):
    """Scenarios were asked, and none came near: whatever the profile's error envelope."""
    strict = Tenant(server, f"strict-{profile}")
    strict.admin("POST", "/settings", {"strict": True})
    model = {"openai": "gpt-4o", "deepseek": "deepseek-chat", "google": "gemini-2.5-flash"}
    assert strict.post({**ASK, "model": model[profile]}, profile=profile).status == 404
    (miss,) = strict.requests()
    assert miss["asked"] and not miss["matched"]
    text = strict.admin("GET", f"/requests/{miss['id']}/scenario").body.decode()
    assert text.startswith("scenarios:")


def test_a_request_whose_body_the_journal_did_not_keep_is_no_scenario(tenant):
    asked = {**ASK, "messages": [{"role": "user", "content": "x" * 300_000}]}
    assert tenant.post(asked).status == 200
    (entry,) = tenant.requests()
    refused = tenant.admin("GET", f"/requests/{entry['id']}/scenario")
    assert refused.status == 409
    assert refused.json()["error"]["message"] == (
        f"request {entry['id']!r} had a body of {entry['body_bytes']:,} bytes, more than the "
        "journal keeps (262,144): no scenario can be built that matches it"
    )


def test_a_request_whose_answer_the_journal_did_not_keep_is_no_scenario(tenant):
    tenant.add({"name": "long", "reply": {"content": "word " * 60_000}})
    assert tenant.post(ASK).status == 200
    (entry,) = tenant.requests()
    refused = tenant.admin("GET", f"/requests/{entry['id']}/scenario")
    assert refused.status == 409
    assert refused.json()["error"]["message"].endswith(
        "more than the journal keeps (262,144): no scenario can be built that answers it as it was"
    )


def test_admin_token_and_no_overrides():
    with MockServer(admin_token="admin-secret-123", overrides=False) as server:
        assert raw_request(server, "GET", "/__admin/requests").status == 401
        ok = raw_request(
            server, "GET", "/__admin/requests", headers={"X-Admin-Token": "admin-secret-123"}
        )
        assert ok.status == 200
        bearer = raw_request(
            server, "GET", "/__admin/health", headers={"Authorization": "Bearer admin-secret-123"}
        )
        assert bearer.status == 200
        response = raw_request(
            server,
            "POST",
            "/v1/chat/completions",
            json.dumps(ASK).encode(),
            {
                "Authorization": "Bearer sk-x",
                "Content-Type": "application/json",
                "X-Mock-Status": "500",
            },
        )
        assert response.status == 200  # overrides are off: the header is ignored
        assert server.requests[0]["status"] == 200
        tokenless = TenantHandle(server.url, None)
        with pytest.raises(AdminError, match=r"has none: .*admin_token=.* MOCK_SERVER_ADMIN_TOKEN"):
            tokenless.requests  # noqa: B018 (a property that calls the admin API)
        tokenless.close()


def test_a_tenant_name_holding_a_percent_sign_is_no_tenant(server):
    """A byte that is not UTF-8 stays percent-encoded in the decoded path: ``%ff`` and ``%25ff``
    would be one tenant under two spellings."""
    for path in ("/t/%ff%fe/__admin/scenarios", "/t/%25ff%25fe/__admin/scenarios"):
        assert raw_request(server, "GET", path).status == 404
    assert raw_request(server, "GET", "/t/caf%C3%A9/__admin/scenarios").status == 200


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/__admin/reset", "POST"),
        ("PUT", "/t/team-a/__admin/scenarios", "DELETE, GET, HEAD, POST"),
        ("POST", "/__admin", "GET, HEAD"),
        ("POST", "/__admin/health", "GET, HEAD"),
    ],
)
def test_an_admin_path_called_with_another_method_is_405_naming_its_methods(
    server, method, path, allowed
):
    response = raw_request(server, method, path)
    assert response.status == 405
    assert response.headers["allow"] == allowed
    error = response.json()["error"]
    assert error["type"] == "method_not_allowed"
    assert error["message"] == f"{method} is not a method of {path}; it takes {allowed}."


@pytest.mark.parametrize(
    "path",
    [
        "/__admin/nothing-here",
        "/t/__admin-team/v1/chat/completions",  # a tenant named so: an API path
        "/__admin/v1/chat/completions",  # a profile named so, which the server does not have
        "/t/team-a/__admin/v1/models",
        "/v1/models/__admin",
        "/t/%25ff/__admin/scenarios",  # no tenant's name
    ],
)
def test_a_path_that_is_no_admin_path_is_still_404(server, path):
    assert raw_request(server, "PUT", path).status == 404


def test_an_admin_read_answers_head_as_get(server):
    answer = raw_request(server, "HEAD", "/__admin/health")
    assert (answer.status, answer.body) == (200, b"")
