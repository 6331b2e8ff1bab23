"""Editors' own redirect schemes are allowed by default (config.settings.OAUTH_REDIRECT_SCHEMES), so
Cursor's registration works as its users paste the URL: it registers a cursor:// callback beside an
https and a loopback one, and one refused URI fails the whole registration. Any local app could claim
the scheme; what protects the code is PKCE, which these tests show a caught code cannot pass."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import subprocess
import sys

import httpx
import pytest

from tests.harness import ROOT, Sim
from tests.oauth_client import OAUTH_ENV, Browser

# What Cursor registers (its MCP docs; seen in other servers' issue trackers), and VS Code's callbacks.
CURSOR = [
    "cursor://anysphere.cursor-mcp/oauth/callback",
    "https://www.cursor.com/agents/mcp/oauth/callback",
    "http://localhost:8787/callback",
]
VSCODE = ["http://127.0.0.1:33418/", "https://vscode.dev/redirect"]


def register(server, redirect_uris: list[str]) -> httpx.Response:
    body = {"redirect_uris": redirect_uris, "token_endpoint_auth_method": "none", "client_name": "Cursor"}
    return httpx.post(f"{server.url}/register", json=body)


@pytest.mark.parametrize("uris", [CURSOR, VSCODE], ids=["cursor", "vscode"])
def test_an_editors_registration_is_accepted_by_default(start_server, sim: Sim, uris: list[str]):
    server = start_server(**OAUTH_ENV)
    answer = register(server, uris)
    assert answer.status_code == 201, answer.text
    assert answer.json()["redirect_uris"] == uris


def test_an_operators_own_list_replaces_the_default_and_a_refusal_names_the_variable(start_server, sim: Sim):
    server = start_server(**OAUTH_ENV, OAUTH_REDIRECT_SCHEMES="com.example.app")
    answer = register(server, CURSOR)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_redirect_uri"
    assert "OAUTH_REDIRECT_SCHEMES" in answer.json()["error_description"]


def test_a_code_caught_on_the_custom_scheme_is_useless_without_the_pkce_verifier(start_server, sim: Sim):
    server = start_server(**OAUTH_ENV)
    client_id = register(server, CURSOR).json()["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CURSOR[0],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st",
    }
    answer = Browser("alice", stop_at=CURSOR[0]).authorize(f"{server.url}/authorize?{httpx.QueryParams(query)}")
    assert answer["state"] == "st" and answer["code"]
    redeem = {"grant_type": "authorization_code", "client_id": client_id, "code": answer["code"]}
    redeem["redirect_uri"] = CURSOR[0]
    # Another app that claimed cursor:// has the code but not the verifier: refused (and the code is spent).
    stolen = httpx.post(f"{server.url}/token", data={**redeem, "code_verifier": secrets.token_urlsafe(48)})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert httpx.post(f"{server.url}/token", data=redeem).json()["error"] in ("invalid_grant", "invalid_request")


def test_a_code_redeemed_with_the_verifier_works_on_the_custom_scheme(start_server, sim: Sim):
    server = start_server(**OAUTH_ENV)
    client_id = register(server, CURSOR).json()["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CURSOR[0],
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    answer = Browser("bob", stop_at=CURSOR[0]).authorize(f"{server.url}/authorize?{httpx.QueryParams(query)}")
    redeem = {"grant_type": "authorization_code", "client_id": client_id, "code": answer["code"]}
    tokens = httpx.post(f"{server.url}/token", data={**redeem, "redirect_uri": CURSOR[0], "code_verifier": verifier})
    assert tokens.status_code == 200 and tokens.json()["access_token"]


def test_an_empty_list_allows_no_custom_scheme():
    code = "from django.conf import settings; print(settings.OAUTH_REDIRECT_SCHEMES)"
    env = {
        **os.environ,
        "GITLAB_TOKEN": "glpat-x",
        "OAUTH_REDIRECT_SCHEMES": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "[]", done.stderr


@pytest.mark.parametrize("schemes", ["cursor,javascript", "data", "file,vscode", "my app"])
def test_a_scheme_a_browser_would_run_or_read_stops_start_up(schemes: str):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_", "PUBLIC_URL", "HOST"))}
    env = clean | {"GITLAB_TOKEN": "glpat-x", "OAUTH_REDIRECT_SCHEMES": schemes}
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "oauth_gateway.E011" in done.stderr and "OAUTH_REDIRECT_SCHEMES may not contain" in done.stderr
    assert "cursor" not in done.stderr.split("may not contain")[1].split(".")[0]  # only the bad ones are named
