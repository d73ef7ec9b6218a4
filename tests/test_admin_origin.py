"""The admin API and a web page the user's browser opens elsewhere: a change it asks for from
another origin is refused (cross-site request forgery), and so is any call addressed to a name
that is not the loopback a server listens on (DNS rebinding). Raw HTTP, as a browser sends it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest
from conftest import raw_request

from mock_server.server.addresses import is_loopback
from mock_server.testing.runner import MockServer

PLANTED = json.dumps({"name": "planted", "priority": 100, "reply": {"content": "pwned"}}).encode()


def own_origin(server: MockServer) -> str:
    return f"http://{server.settings.host}:{server.port}"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Content-Type": "text/plain"},
        {"Origin": "null", "Content-Type": "application/x-www-form-urlencoded"},
        {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
    ],
)
def test_a_change_asked_for_by_another_sites_page_is_refused(tenant, headers):
    path = f"/t/{tenant.name}/__admin/scenarios"
    refused = raw_request(tenant.server, "POST", path, PLANTED, headers)
    assert refused.status == 403, refused.body
    error = refused.json()["error"]
    assert error["type"] == "admin_forbidden"
    assert error["message"].startswith("This admin API refuses this call: it comes from a page")
    names = [s["name"] for s in tenant.admin("GET", "/scenarios").json()["scenarios"]]
    assert "planted" not in names


def test_the_inspectors_own_calls_and_clients_without_a_browser_are_served(tenant):
    path = f"/t/{tenant.name}/__admin/scenarios"
    same_origin = {"Origin": own_origin(tenant.server), "Sec-Fetch-Site": "same-origin"}
    assert raw_request(tenant.server, "POST", path, PLANTED, same_origin).status == 201
    assert raw_request(tenant.server, "DELETE", f"{path}/planted").status == 200  # no Origin


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:80", "192.0.2.7:8000", "x:y:z", "evil.example:99999999999"],
)
def test_a_call_addressed_to_another_name_is_refused_where_the_server_listens_on_loopback(
    server, host
):
    refused = raw_request(server, "GET", "/__admin/requests", headers={"Host": host})
    assert refused.status == 403, refused.body
    assert f"it is addressed to '{host}'" in refused.json()["error"]["message"]


@pytest.mark.parametrize("host", ["localhost", "localhost:1234", "app.localhost", "127.0.0.2"])
def test_loopback_names_are_served(server, host):
    assert raw_request(server, "GET", "/__admin/health", headers={"Host": host}).status == 200


def test_a_server_listening_beyond_loopback_takes_any_name():
    with MockServer(host="0.0.0.0") as server:
        health = raw_request(server, "GET", "/__admin/health", headers={"Host": "mock:8000"})
        assert health.status == 200


def test_listening_beyond_loopback_without_an_admin_token_is_warned_of():
    with socket.socket() as taken:  # so that the server stops once it has said what it says
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        command = [sys.executable, "-m", "mock_server", "--host", "0.0.0.0"]
        port = str(taken.getsockname()[1])
        said = subprocess.run(
            [*command, "--port", port], capture_output=True, text=True, timeout=60
        )
        guarded = [*command, "--port", port, "--admin-token", "t0ken"]
        quiet = subprocess.run(guarded, capture_output=True, text=True, timeout=60)
    assert said.returncode == quiet.returncode == 2  # the port is taken
    warning = "listening on 0.0.0.0 without an admin token: whoever reaches the port can change"
    assert warning in said.stderr and warning not in quiet.stderr


@pytest.mark.parametrize("host", ["localhost.", "LOCALHOST", "Localhost.:8000"])
def test_a_loopback_name_is_one_in_any_case_and_with_the_roots_dot(server, host):
    assert is_loopback(host.rsplit(":", 1)[0]) if not host.startswith("[") else True
    assert raw_request(server, "GET", "/__admin/health", headers={"Host": host}).status == 200
