"""Sign-in pages under attack: what the security test found about pending sign-ins and device codes.

Unfinished browser sign-ins are capped per address and expired ones go as new ones come; a device
code, which anyone can ask someone else to enter at GitLab, is not offered for this server's own
pages unless ADMIN_DEVICE_LOGIN says so, and the device page warns whom a code would let in.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_oauth_registration import fresh_ip
from tests.e2e.test_selfservice import ADMIN_ENV, manage_check
from tests.harness import Sim, server_rows
from tests.oauth_client import CLIENT_REDIRECT, Browser, form_fields

CAPPED = {**ADMIN_ENV, "TRUSTED_PROXIES": "127.0.0.1", "OAUTH_BROWSER_SIGNINS_PER_IP": "3"}


@pytest.fixture
def server(start_server, sim: Sim):
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    return start_server(**CAPPED)


def start_signin(server, ip: str, **params: str) -> httpx.Response:
    query = {"next": "/connections/", **params}
    return httpx.get(f"{server.url}/connections/signin", params=query, headers={"x-forwarded-for": ip})


def pending_from(server, ip: str) -> int:
    sql = f"SELECT COUNT(*) FROM oauth_gateway_pendingsignin WHERE ip = '{ip}'"
    [(count,)] = server_rows(server.env["DATABASE_URL"], sql)
    return int(count)


def test_unfinished_browser_sign_ins_are_capped_per_address(server):
    ip = fresh_ip()
    statuses = [start_signin(server, ip).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert pending_from(server, ip) == 3
    assert start_signin(server, fresh_ip()).status_code == 302  # another address is not held up


def test_expired_sign_ins_are_pruned_when_a_new_one_starts(server):
    old = fresh_ip()
    assert start_signin(server, old).status_code == 302
    sql = f"UPDATE oauth_gateway_pendingsignin SET expires = '2000-01-01 00:00:00+00:00' WHERE ip = '{old}'"
    server_rows(server.env["DATABASE_URL"], sql)
    assert start_signin(server, fresh_ip()).status_code == 302
    assert pending_from(server, old) == 0


def test_the_admin_login_offers_no_device_code_and_a_forged_one_is_refused(server, sim: Sim):
    page = httpx.get(f"{server.url}/admin/login/?next=/admin/").text
    assert "Sign in with GitLab</a>" in page and "leg=device" not in page and "code instead" not in page
    forged = start_signin(server, fresh_ip(), next="/admin/", leg="device")
    assert forged.status_code == 403 and "location" not in forged.headers
    assert not [r for r in sim.requests() if r["path"] == "/oauth/authorize_device"]  # GitLab not even asked


def test_a_device_only_gitlab_without_admin_device_login_is_flagged():
    oauth = {k: v for k, v in ADMIN_ENV.items() if v and k != "OAUTH_DEVICE_POLL_INTERVAL"}
    done = manage_check(**oauth, GITLAB_OAUTH_FLOW="device")
    assert done.returncode == 0 and "oauth_gateway.W003" in done.stderr
    assert "oauth_gateway.W003" not in manage_check(**oauth, GITLAB_OAUTH_FLOW="device", ADMIN_DEVICE_LOGIN="1").stderr


def test_the_device_page_names_the_client_and_warns_to_enter_only_a_code_you_asked_for(server, sim: Sim):
    body = {"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none", "client_name": "Claude Desktop"}
    client = httpx.post(f"{server.url}/register", json=body, headers={"x-forwarded-for": fresh_ip()}).json()
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": CLIENT_REDIRECT,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    browser = Browser("alice")
    response = browser.http.get(f"{server.url}/authorize?{httpx.QueryParams(query)}")
    signin = browser.http.get(httpx.URL(server.url).join(response.headers["location"]))
    response = browser.http.post(str(signin.url), data={**form_fields(signin.text), "leg": "device"})
    page = browser.http.get(httpx.URL(server.url).join(response.headers["location"])).text
    assert 'id="user-code"' in page
    assert "Only enter this code at GitLab if you started this sign-in yourself." in page
    assert "<em>Claude Desktop</em>" in page
