"""Browser sign-in with GitLab for this server's own pages: /connections/ (each user's connections, with
"Disconnect") and the Django admin for GitLab users named by ADMIN_GITLAB_USERS / ADMIN_GITLAB_GROUP.

End to end: Daphne, the GitLab simulator, the MCP SDK client holding real tokens, and a browser
(httpx following redirects, signed in at the simulated GitLab by its cookie).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from tests.harness import ROOT, Sim, server_rows
from tests.oauth_client import OAUTH_ENV, Browser, MemoryStorage, form_fields, mcp_status, oauth_mcp, structured

# alice is named; charlie is a member of acme/platform; bob is neither.
ADMIN_ENV = {**OAUTH_ENV, "ADMIN_GITLAB_USERS": "alice,42", "ADMIN_GITLAB_GROUP": "acme/platform"}


@pytest.fixture
def server(start_server: Any, sim: Sim) -> Any:
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    return start_server(**ADMIN_ENV)


def browser(username: str) -> httpx.Client:
    """A browser signed in at the simulated GitLab as `username` (not yet at this server)."""
    http = httpx.Client(follow_redirects=True, timeout=30)
    http.cookies.set("gitlab_sim_user", username)
    return http


async def mcp_session(server: Any, username: str) -> tuple[str, int]:
    """An MCP SDK client signs in as `username` and calls a tool: its access token and connection id."""
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser(username), storage=storage) as client:
        assert structured(await client.call_tool("get_current_user", {}))["username"] == username
    assert storage.tokens is not None
    token = storage.tokens.access_token
    checksum = hashlib.sha256(token.encode()).hexdigest()
    sql = f"SELECT connection_id FROM oauth_gateway_accesstoken WHERE token_checksum = '{checksum}'"
    [(connection_id,)] = server_rows(server.env["DATABASE_URL"], sql)
    return token, connection_id


def as_json(value: Any) -> Any:
    """A JSON column as read back: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def staff(server: Any, username: str) -> tuple[int, int]:
    sql = f"SELECT is_staff, is_superuser FROM auth_user WHERE username = '{username}'"
    [(is_staff, is_superuser)] = server_rows(server.env["DATABASE_URL"], sql)
    return int(is_staff), int(is_superuser)


async def test_alice_disconnects_her_connection_and_its_mcp_token_gets_401(server, sim: Sim):
    alice_token, alice_connection = await mcp_session(server, "alice")
    bob_token, _ = await mcp_session(server, "bob")
    assert mcp_status(server, alice_token) == 200
    with browser("alice") as http:
        page = http.get(f"{server.url}/connections/")
        assert page.url.path == "/connections/" and "as <em>alice</em>" in page.text
        assert f'id="connection-{alice_connection}"' in page.text
        assert "Test client" in page.text and "Dynamic Client Registration" in page.text
        done = http.post(
            f"{server.url}/connections/{alice_connection}/disconnect",
            data={"csrfmiddlewaretoken": form_fields(page.text)["csrfmiddlewaretoken"]},
        )
    assert done.status_code == 200 and done.url.path == "/connections/"
    assert "Disconnected Test client." in done.text
    ended = done.text.split('id="ended-connections"')[1]
    assert f'id="connection-{alice_connection}"' in ended  # listed under "Ended" now
    assert mcp_status(server, alice_token) == 401  # the next request, already
    assert mcp_status(server, bob_token) == 200  # nobody else's connection moved
    rows = server_rows(
        server.env["DATABASE_URL"],
        f"SELECT e.detail, u.username FROM oauth_gateway_auditevent e JOIN auth_user u ON u.id = e.user_id "
        f"WHERE e.kind = 'connection.revoked' AND e.connection_id = {alice_connection}",
    )
    assert len(rows) == 1 and rows[0][1] == "alice" and as_json(rows[0][0])["by"] == "self_service"


async def test_bob_can_neither_see_nor_disconnect_alices_connection(server, sim: Sim):
    alice_token, alice_connection = await mcp_session(server, "alice")
    with browser("bob") as http:
        page = http.get(f"{server.url}/connections/")
        assert "as <em>bob</em>" in page.text
        assert f'id="connection-{alice_connection}"' not in page.text
        csrf = form_fields(page.text)["csrfmiddlewaretoken"]
        guessed = http.post(
            f"{server.url}/connections/{alice_connection}/disconnect", data={"csrfmiddlewaretoken": csrf}
        )
        unknown = http.post(f"{server.url}/connections/999999999/disconnect", data={"csrfmiddlewaretoken": csrf})
        no_csrf = http.post(f"{server.url}/connections/{alice_connection}/disconnect")
        by_get = http.get(f"{server.url}/connections/{alice_connection}/disconnect")
    assert guessed.status_code == 404 and unknown.status_code == 404  # the same answer: ids cannot be probed
    assert no_csrf.status_code == 403 and by_get.status_code == 405
    anonymous = httpx.post(f"{server.url}/connections/{alice_connection}/disconnect")
    assert anonymous.status_code == 403  # no session cookie, no CSRF token
    assert mcp_status(server, alice_token) == 200
    [(revoked,)] = server_rows(
        server.env["DATABASE_URL"], f"SELECT revoked FROM oauth_gateway_gitlabconnection WHERE id = {alice_connection}"
    )
    assert revoked is None


def test_a_browser_sign_in_keeps_no_gitlab_token(server, sim: Sim):
    with browser("charlie") as http:
        page = http.get(f"{server.url}/connections/")
    hops = [(r.url.host, r.url.path) for r in page.history]
    assert [path for _, path in hops] == ["/connections/", "/connections/signin", "/oauth/authorize", "/oauth/callback"]
    assert page.status_code == 200 and page.url.path == "/connections/" and "No client is connected." in page.text
    live = httpx.get(f"{sim.url}/_sim/oauth/tokens").json()
    assert [t for t in live if t["user_id"] == 3] == []  # revoked at GitLab right after reading the user
    revokes = [r for r in sim.requests() if r["path"] == "/oauth/revoke"]
    assert len(revokes) == 2  # refresh and access token
    db = server.env["DATABASE_URL"]
    [(user_id,)] = server_rows(db, "SELECT id FROM auth_user WHERE username = 'charlie'")
    pending = server_rows(
        db, f"SELECT gitlab_tokens_enc, client_id FROM oauth_gateway_pendingsignin WHERE user_id = {user_id}"
    )
    assert pending == [("", "")]  # a browser sign-in: no client, no GitLab token kept
    [(detail,)] = server_rows(
        db, f"SELECT detail FROM oauth_gateway_auditevent WHERE kind = 'browser.signin' AND user_id = {user_id}"
    )
    assert as_json(detail)["next"] == "/connections/"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "/authorize"])
def test_next_never_leaves_this_servers_pages(server, sim: Sim, target: str):
    with browser("bob") as http:
        page = http.get(f"{server.url}/connections/signin", params={"next": target})
    assert page.url.host == "127.0.0.1" and page.url.port == httpx.URL(server.url).port
    assert page.url.path == "/connections/"


def test_the_device_leg_signs_a_browser_in_too_when_admin_device_login_allows_it(start_server, sim: Sim):
    server = start_server(**ADMIN_ENV, ADMIN_DEVICE_LOGIN="true")
    login = httpx.get(f"{server.url}/admin/login/?next=/admin/").text
    assert "Sign in with GitLab using a code instead" in login
    with browser("bob") as http:
        page = http.get(f"{server.url}/connections/signin", params={"next": "/connections/", "leg": "device"})
        assert page.url.path.startswith("/oauth/device/")
        user_code = re.search(r'id="user-code">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
        approval = {"user_code": user_code, "username": "bob"}
        httpx.post(f"{sim.url}/_sim/oauth/device", json=approval).raise_for_status()
        poll = f"{server.url}/oauth/poll?id={page.url.path.rsplit('/', 1)[-1]}"
        for _ in range(40):
            status = http.get(poll).json()
            if status["status"] != "pending":
                break
            time.sleep(0.25)
        assert status == {"status": "complete", "next": "/connections/"}
        assert "as <em>bob</em>" in http.get(f"{server.url}{status['next']}").text


def sign_in_at_admin(server: Any, username: str) -> httpx.Response:
    """Open /admin/ as a stranger, then click "Sign in with GitLab" on the admin's login page."""
    http = browser(username)
    login = http.get(f"{server.url}/admin/")
    assert login.url.path == "/admin/login/" and "Sign in with GitLab" in login.text
    assert 'id="login-form"' in login.text  # Django's password form stays, for createsuperuser admins
    link = re.search(r'href="([^"]+)">Sign in with GitLab</a>', login.text).group(1)  # type: ignore[union-attr]
    return http.get(httpx.URL(server.url).join(link.replace("&amp;", "&")))


def test_a_gitlab_user_named_in_admin_gitlab_users_gets_the_admin(server, sim: Sim):
    page = sign_in_at_admin(server, "alice")
    assert page.status_code == 200 and page.url.path == "/admin/"
    assert "Site administration" in page.text
    assert staff(server, "alice") == (1, 0)  # staff with the admin's own permissions, not a superuser
    rows = server_rows(
        server.env["DATABASE_URL"],
        "SELECT p.codename FROM auth_user u JOIN auth_user_groups ug ON ug.user_id = u.id "
        "JOIN auth_group_permissions gp ON gp.group_id = ug.group_id JOIN auth_permission p ON p.id = gp.permission_id "
        "WHERE u.username = 'alice'",
    )
    codenames = {codename for (codename,) in rows}
    assert {"change_gitlabconnection", "change_application", "view_auditevent", "view_user"} <= codenames
    assert not {"change_user", "add_user", "delete_user", "change_accesstoken"} & codenames
    assert "/admin/oauth_gateway/gitlabconnection/" in page.text and "/admin/auth/group/" not in page.text


def test_a_member_of_admin_gitlab_group_gets_the_admin(server, sim: Sim):
    page = sign_in_at_admin(server, "charlie")
    assert page.url.path == "/admin/" and "Site administration" in page.text
    asked = [r for r in sim.requests() if r["path"] == "/api/v4/groups/acme%2Fplatform/members/all"]
    assert len(asked) == 1 and asked[0]["query"] == "user_ids%5B%5D=3"
    assert asked[0]["authorization"].startswith("Bearer ")  # the user's own token


def test_bob_gets_no_admin_and_loses_staff_rights_given_by_hand(server, sim: Sim):
    page = sign_in_at_admin(server, "bob")
    assert page.url.path == "/admin/login/" and page.status_code == 403  # pointed to his own page
    assert "This page is for administrators" in page.text and 'href="/connections/"' in page.text
    assert staff(server, "bob") == (0, 0)
    server_rows(
        server.env["DATABASE_URL"], "UPDATE auth_user SET is_staff = TRUE, is_superuser = TRUE WHERE username = 'bob'"
    )
    page = sign_in_at_admin(server, "bob")  # a new browser: signs in with GitLab again
    assert page.url.path == "/admin/login/" and staff(server, "bob") == (0, 0)  # the settings decide
    [(count,)] = server_rows(
        server.env["DATABASE_URL"],
        "SELECT COUNT(*) FROM oauth_gateway_auditevent e JOIN auth_user u ON u.id = e.user_id "
        "WHERE e.kind = 'admin.removed' AND u.username = 'bob'",
    )
    assert count >= 1


def manage_check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_", "ADMIN_"))}
    argv = [sys.executable, "manage.py", "check"]
    return subprocess.run(argv, cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=60)


def test_admin_gitlab_settings_without_oauth_mode_are_flagged():
    done = manage_check(GITLAB_TOKEN="glpat-x", ADMIN_GITLAB_USERS="alice", ADMIN_GITLAB_GROUP="acme/ops")
    assert done.returncode == 0 and "oauth_gateway.W002" in done.stderr and "need" in done.stderr


def test_malformed_admin_gitlab_settings_stop_start_up():
    oauth = {k: v for k, v in OAUTH_ENV.items() if v}
    done = manage_check(**oauth, ADMIN_GITLAB_USERS="alice, bob smith", ADMIN_GITLAB_GROUP="acme/x y")
    assert done.returncode != 0
    assert "ADMIN_GITLAB_USERS has entries that are neither GitLab user ids nor usernames: bob smith" in done.stderr
    assert "ADMIN_GITLAB_GROUP must be a GitLab group's full path" in done.stderr
    assert manage_check(**oauth, ADMIN_GITLAB_USERS="1, alice", ADMIN_GITLAB_GROUP="acme/platform").returncode == 0


def test_a_createsuperuser_admin_still_logs_in_with_a_password(server, sim: Sim):
    env = {**server.env, "DJANGO_SUPERUSER_PASSWORD": "correct horse battery"}
    argv = [sys.executable, "manage.py", "createsuperuser", "--noinput", "--username", "root", "--email", "r@x.test"]
    made = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0 or "already taken" in made.stderr
    with httpx.Client(follow_redirects=True, timeout=30) as http:
        login = http.get(f"{server.url}/admin/login/?next=/admin/")
        form = {**form_fields(login.text), "username": "root", "password": "correct horse battery"}
        page = http.post(f"{server.url}/admin/login/?next=/admin/", data=form)
    assert page.url.path == "/admin/" and "Site administration" in page.text
