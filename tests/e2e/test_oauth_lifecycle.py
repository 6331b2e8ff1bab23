"""Sessions survive restarts; every step is audited; no token reaches a log or a response."""

from __future__ import annotations

import re
import time

import httpx

from tests.harness import Sim, free_port, run_server, server_env, server_rows
from tests.oauth_client import OAUTH_ENV, Browser, MemoryStorage, oauth_mcp, structured


async def test_a_restart_between_sign_in_steps_and_after_sign_in_loses_nothing(database_url, sim: Sim, tmp_path):
    from tests.e2e.test_oauth_security import authorize_url, pkce, redeem, register

    env = server_env(database_url, sim, **OAUTH_ENV)
    port = free_port()
    browser = Browser("alice")
    with run_server(env, port=port, log_path=tmp_path / "a.log") as server:
        client = register(server)
        verifier, challenge = pkce()
        response = browser.http.get(authorize_url(server, client["client_id"], challenge))
        signin = browser.http.get(httpx.URL(server.url).join(response.headers["location"]))
    with run_server(env, port=port, log_path=tmp_path / "b.log") as server:  # a new process, same DB
        from tests.oauth_client import form_fields

        response = browser.http.post(str(signin.url), data={**form_fields(signin.text), "leg": "authorization_code"})
        gitlab = browser.http.get(response.headers["location"])
        params = browser.authorize(gitlab.headers["location"])
        tokens = redeem(server, client["client_id"], params["code"], verifier).json()
    with run_server(env, port=port, log_path=tmp_path / "c.log") as server:
        headers = {
            "authorization": f"Bearer {tokens['access_token']}",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2025-06-18",
        }
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_current_user", "arguments": {}},
        }
        answer = httpx.post(f"{server.url}/mcp", json=call, headers=headers).json()
    assert answer["result"]["structuredContent"]["username"] == "alice"


async def test_each_step_is_audited_without_secrets(start_server, sim: Sim, database_url):
    server = start_server(**OAUTH_ENV)
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("bob"), storage=storage) as client:
        structured(await client.call_tool("get_project", {"project": "acme/app"}))
        await client.call_tool("get_project", {"project": "alice/notes"})  # bob cannot see it
    sql = "SELECT kind, outcome, tool, project, gitlab_status, detail FROM oauth_gateway_auditevent ORDER BY id"
    for _ in range(50):  # a call's audit row is written just after its response is sent
        rows = server_rows(database_url, sql)
        if rows and rows[-1][3] == "alice/notes":
            break
        time.sleep(0.1)
    kinds = [row[0] for row in rows]
    for kind in (
        "client.registered",
        "signin.started",
        "signin.completed",
        "consent.given",
        "token.issued",
        "tool.call",
    ):
        assert kind in kinds, kinds
    calls = [row for row in rows if row[0] == "tool.call" and row[3] in ("acme/app", "alice/notes")][-2:]
    assert [(c[1], c[2], c[3], c[4]) for c in calls] == [
        ("ok", "get_project", "acme/app", None),
        ("error", "get_project", "alice/notes", 404),
    ]
    assert storage.tokens is not None
    everything = repr(rows)
    assert storage.tokens.access_token not in everything and "gloas-" not in everything


async def test_no_token_appears_in_the_server_log(start_server, sim: Sim):
    server = start_server(**OAUTH_ENV)
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
        structured(await client.call_tool("get_current_user", {}))
    assert server.log_path is not None and storage.tokens is not None
    log = server.log_path.read_text()
    assert "gloas-" not in log
    assert storage.tokens.access_token not in log and storage.tokens.refresh_token not in log
    assert not re.search(r"code=[A-Za-z0-9]{20,}", log)
