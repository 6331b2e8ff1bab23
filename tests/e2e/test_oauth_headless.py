"""Headless sign-in: a CLI with no browser and no redirect URI (RFC 8628), against real daphne and the
simulator's device endpoints. The reference's /authorize-as-JSON shape: test_oauth_headless_reference.py."""

from __future__ import annotations

import json
import time

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from oauthlib.oauth2 import DeviceClient
from oauthlib.oauth2.rfc6749 import errors

from tests.harness import Sim, server_rows
from tests.oauth_client import OAUTH_ENV, bearer_call, structured

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(autouse=True)
def plain_http_on_loopback(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # oauthlib's client insists on https otherwise


@pytest.fixture
def server(start_server, sim: Sim):
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    return start_server(**OAUTH_ENV)


def register_cli(server, grant: str = DEVICE_GRANT) -> str:
    body = {"client_name": "Terminal", "grant_types": [grant, "refresh_token"], "token_endpoint_auth_method": "none"}
    response = httpx.post(f"{server.url}/register", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["client_id"])


def approve(sim: Sim, user_code: str, username: str = "alice", deny: bool = False) -> None:
    """What the user does at GitLab: enter the code and approve (or deny) it."""
    body = {"user_code": user_code, "username": username, "deny": deny}
    httpx.post(f"{sim.url}/_sim/oauth/device", json=body).raise_for_status()


class Cli:
    """A CLI doing RFC 8628 with oauthlib's DeviceClient: it builds the requests, parses the answers."""

    def __init__(self, server, client_id: str) -> None:
        self.server, self.oauth = server, DeviceClient(client_id)
        meta = httpx.get(f"{server.url}/.well-known/oauth-authorization-server").json()
        self.device_endpoint, self.token_endpoint = meta["device_authorization_endpoint"], meta["token_endpoint"]

    def start(self) -> dict:
        url = self.oauth.prepare_request_uri(self.device_endpoint)  # client_id in the query, per oauthlib
        response = httpx.post(self.device_endpoint, data=dict(httpx.URL(url).params))
        assert response.status_code == 200, response.text
        return dict(response.json())

    def poll(self, device_code: str) -> dict:
        body = self.oauth.prepare_request_body(device_code, include_client_id=True)
        response = httpx.post(
            self.token_endpoint, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        return dict(self.oauth.parse_request_body_response(response.text))  # raises the RFC error

    def error(self, device_code: str) -> str:
        """The RFC 8628 §3.5 error code a poll answers."""
        with pytest.raises(errors.OAuth2Error) as refused:
            self.poll(device_code)
        return str(refused.value.error)


async def tools_as(server, access_token: str) -> dict:
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as client,
    ):
        return structured(await client.call_tool("get_current_user", {}))


def test_rfc8414_metadata_advertises_the_rfc8628_device_endpoint(server):
    meta = httpx.get(f"{server.url}/.well-known/oauth-authorization-server").json()
    assert meta["device_authorization_endpoint"] == f"{server.url}/device_authorization"
    assert DEVICE_GRANT in meta["grant_types_supported"]


async def test_rfc8628_sign_in_from_a_terminal_then_tools_as_the_approving_user(server, sim: Sim):
    cli = Cli(server, register_cli(server))
    started = cli.start()
    assert set(started) >= {"device_code", "user_code", "verification_uri", "expires_in", "interval"}
    assert started["verification_uri"].startswith(sim.url)  # GitLab's page, GitLab's code
    assert 0 < started["expires_in"] <= 300 and started["interval"] == 1
    time.sleep(1.1)
    assert cli.error(started["device_code"]) == "authorization_pending"
    approve(sim, started["user_code"], "bob")
    time.sleep(1.1)
    tokens = cli.poll(started["device_code"])
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]
    assert (await tools_as(server, tokens["access_token"]))["username"] == "bob"
    # Our device code is opaque and never GitLab's; only its hash is stored.
    assert not server_rows(
        server.env["DATABASE_URL"],
        f"SELECT 1 FROM oauth_gateway_pendingsignin WHERE state LIKE '%{started['device_code']}%'",
    )


def test_rfc8628_polling_faster_than_the_interval_is_told_to_slow_down(server, sim: Sim):
    cli = Cli(server, register_cli(server))
    started = cli.start()
    assert cli.error(started["device_code"]) == "slow_down"  # at once: before the interval
    assert [r for r in sim.requests() if r["path"] == "/oauth/token"] == []  # GitLab was not asked


def test_rfc8628_denied_at_gitlab_is_access_denied(server, sim: Sim):
    cli = Cli(server, register_cli(server))
    started = cli.start()
    approve(sim, started["user_code"], deny=True)
    time.sleep(1.1)
    assert cli.error(started["device_code"]) == "access_denied"


def test_rfc8628_an_expired_device_code_is_expired_token(server, sim: Sim):
    cli = Cli(server, register_cli(server))
    started = cli.start()
    server_rows(
        server.env["DATABASE_URL"], "UPDATE oauth_gateway_pendingsignin SET expires = '2000-01-01 00:00:00+00:00'"
    )
    assert cli.error(started["device_code"]) == "expired_token"


def test_rfc8628_a_device_code_is_redeemed_once(server, sim: Sim):
    cli = Cli(server, register_cli(server))
    started = cli.start()
    approve(sim, started["user_code"])
    time.sleep(1.1)
    assert cli.poll(started["device_code"])["access_token"]
    assert cli.error(started["device_code"]) == "invalid_grant"
    other = Cli(server, register_cli(server))
    assert other.error(cli.start()["device_code"]) == "invalid_grant"  # another client's code


def test_polls_spread_over_two_replicas_ask_gitlab_no_faster_than_its_interval(start_server, sim: Sim):
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    first, second = start_server(**OAUTH_ENV), start_server(**OAUTH_ENV, LOG_LEVEL="WARNING")
    client_id = register_cli(first)
    started = Cli(first, client_id).start()
    time.sleep(1.1)
    answers = []
    for replica in (first, second, first, second, first, second):
        try:
            Cli(replica, client_id).poll(started["device_code"])
        except errors.OAuth2Error as exc:
            answers.append(exc.error)
        time.sleep(0.4)
    gitlab_answers = [r for r in sim.requests() if r["path"] == "/oauth/token"]
    assert 1 <= len(gitlab_answers) <= 3  # ~2.4 s of polling, one GitLab poll per second at most
    assert "slow_down" in answers  # the clients polled faster than the interval and were told so


def test_a_client_registered_for_the_code_flow_may_use_the_device_grant_too(server, sim: Sim):
    cli = Cli(server, _code_client(server))
    started = cli.start()
    approve(sim, started["user_code"])
    time.sleep(1.1)
    assert bearer_call(server.url, cli.poll(started["device_code"])["access_token"]).status_code == 200


def _code_client(server) -> str:
    body = {"redirect_uris": ["http://127.0.0.1:5/cb"], "token_endpoint_auth_method": "none"}
    return str(httpx.post(f"{server.url}/register", json=body).json()["client_id"])


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({"client_id": "nobody"}, 401, "invalid_client"),
        ({"client_id": ""}, 401, "invalid_client"),
        ({"scope": "admin"}, 400, "invalid_scope"),
        ({"resource": "https://elsewhere.example/mcp"}, 400, "invalid_target"),
    ],
)
def test_rfc8628_device_authorization_refuses_bad_requests_with_json(server, form, status, error):
    response = httpx.post(f"{server.url}/device_authorization", data={"client_id": register_cli(server), **form})
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_the_device_login_command_signs_in_from_a_terminal(server, sim: Sim, tmp_path):
    import subprocess
    import sys

    from tests.harness import ROOT

    saved = tmp_path / "tokens.json"
    command = [sys.executable, "manage.py", "device_login", "--server", server.url, "--save", str(saved)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=server.env)
    assert process.stdout is not None
    lines = [process.stdout.readline(), process.stdout.readline()]  # registered; where to enter the code
    user_code = lines[1].split("enter the code ")[1].split()[0]
    approve(sim, user_code, "bob")
    assert process.wait(30) == 0, process.stdout.read()
    tokens = json.loads(saved.read_text())
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    assert bearer_call(server.url, tokens["access_token"]).status_code == 200


def test_gitlab_failing_while_the_user_approves_keeps_the_sign_in_pending(server, sim: Sim):
    cli = Cli(server, register_cli(server))
    started = cli.start()
    approve(sim, started["user_code"])
    sim.fault("^/oauth/token$", status=502, times=1)
    time.sleep(1.1)
    assert cli.error(started["device_code"]) == "authorization_pending"  # never a 500, nothing half-made
    time.sleep(1.1)
    assert cli.poll(started["device_code"])["access_token"]
