"""The lean tool-call path (mcp_bridge.server.FastPath) against the MCP SDK's transport, on real servers.

The same requests, good and bad, go to a server with the lean path and to one with
MCP_FAST_PATH=false (every request through the SDK); the answers must be the same: status,
content type and JSON-RPC body. The access log says which path served each request (mcp=lean or
mcp=sdk), so these tests also show that the lean path really served the plain requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from config.startup import ACTING_AS_VARIABLE
from tests.e2e.test_startup import served
from tests.harness import ROOT, Server, Sim, free_port, server_rows, wait_for

ACCEPT = "application/json, text/event-stream"
HEADERS = {"content-type": "application/json", "accept": ACCEPT}


def rpc(method: str, params: dict[str, Any] | None = None, *, id: Any = 7) -> bytes:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": id, "method": method}
    if params is not None:
        body["params"] = params
    return json.dumps(body).encode()


def call(tool: str, **arguments: Any) -> bytes:
    return rpc("tools/call", {"name": tool, "arguments": arguments})


# name -> (body, headers): each is sent as is to both servers.
BAD = {
    "malformed JSON": (b'{"jsonrpc": "2.0", "id": 1, "method": ', HEADERS),
    "not JSON-RPC": (b'{"hello": "world"}', HEADERS),
    "wrong jsonrpc version": (json.dumps({"jsonrpc": "1.0", "id": 1, "method": "ping"}).encode(), HEADERS),
    "a boolean id": (rpc("ping", id=True), HEADERS),
    "params not an object": (
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": [1]}).encode(),
        HEADERS,
    ),
    "text/plain body": (rpc("tools/list"), {**HEADERS, "content-type": "text/plain"}),
    "no content type": (rpc("tools/list"), {"accept": ACCEPT}),
    "HTML only accepted": (rpc("tools/list"), {**HEADERS, "accept": "text/html"}),
    "unknown method": (rpc("tools/frobnicate"), HEADERS),
    "missing id (a notification)": (json.dumps({"jsonrpc": "2.0", "method": "tools/list"}).encode(), HEADERS),
    "a batch": (b"[" + rpc("ping") + b"," + rpc("tools/list", id=8) + b"]", HEADERS),
    "oversized body": (call("get_project", project="x" * (5 * 1024 * 1024)), HEADERS),
    "unknown protocol version header": (rpc("tools/list"), {**HEADERS, "mcp-protocol-version": "1999-01-01"}),
    "unknown tool": (call("no_such_tool", project="acme/app"), HEADERS),
    "missing argument": (call("get_project"), HEADERS),
    "misspelt argument": (call("get_project", projcet="acme/app"), HEADERS),
    "wrong argument type": (call("list_issues", project="acme/app", per_page="many"), HEADERS),
    "tools/call without a name": (rpc("tools/call", {"arguments": {}}), HEADERS),
    "a foreign origin": (rpc("tools/list"), {**HEADERS, "origin": "https://evil.example"}),
}
GOOD = {
    "ping": rpc("ping"),
    "tools/list": rpc("tools/list"),
    "tools/call": call("get_project", project="acme/app"),
    "a string id": rpc("tools/list", id="req-1"),
    "a tool error from GitLab": call("get_project", project="acme/no-such-project"),
}


def answer(response: httpx.Response) -> tuple[int, str, Any]:
    """What a client sees: status, media type and the body (parsed when JSON)."""
    media = response.headers.get("content-type", "").split(";")[0]
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return response.status_code, media, body


def post(server: Server, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(server.mcp_url, content=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def both(start_server: Any) -> tuple[Server, Server]:
    return start_server(), start_server(MCP_FAST_PATH="false")


def log_text(server: Server) -> str:
    assert server.log_path is not None
    return server.log_path.read_text()


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_answered_as_the_sdk_answers_it(both: tuple[Server, Server], sim: Sim, case: str):
    lean, sdk = both
    body, headers = BAD[case]
    got, expected = answer(post(lean, body, headers)), answer(post(sdk, body, headers))
    assert got == expected
    assert got[0] != 500
    if got[0] >= 400:
        assert got[0] < 500


@pytest.mark.parametrize("case", sorted(GOOD))
def test_plain_requests_take_the_lean_path_with_the_sdks_answer(both: tuple[Server, Server], sim: Sim, case: str):
    lean, sdk = both
    marker = f"lean-{uuid.uuid4().hex}"
    headers = {**HEADERS, "user-agent": marker}
    got = answer(post(lean, GOOD[case], headers))
    expected = answer(post(sdk, GOOD[case], headers))
    assert got == expected and got[0] == 200
    assert "result" in got[2]


def test_the_access_log_names_the_path_that_served(both: tuple[Server, Server], sim: Sim):
    lean, sdk = both
    before_lean, before_sdk = log_text(lean).count("mcp=lean"), log_text(sdk).count("mcp=sdk")
    post(lean, call("get_project", project="acme/app"), HEADERS)
    post(sdk, call("get_project", project="acme/app"), HEADERS)
    wait_for(lambda: log_text(lean).count("mcp=lean") > before_lean, "the lean path's log line")
    wait_for(lambda: log_text(sdk).count("mcp=sdk") > before_sdk, "the SDK path's log line")
    assert "mcp=lean" not in log_text(sdk)


def test_a_request_asking_for_progress_goes_through_the_sdk(both: tuple[Server, Server], sim: Sim):
    lean, _ = both
    params = {"name": "get_project", "arguments": {"project": "acme/app"}, "_meta": {"progressToken": "p-1"}}
    before = log_text(lean).count("mcp=sdk-sse")
    response = post(lean, rpc("tools/call", params), HEADERS)
    # Answered as an SSE stream, which has room for notifications/progress before the result.
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    [data] = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    assert json.loads(data)["result"]["isError"] is False
    wait_for(lambda: log_text(lean).count("mcp=sdk-sse") > before, "the SDK path's log line")
    # Without text/event-stream in Accept the client gets the JSON answer, as before.
    status, media, body = answer(post(lean, rpc("tools/call", params), {**HEADERS, "accept": "application/json"}))
    assert (status, media, body["result"]["isError"]) == (200, "application/json", False)


async def test_concurrent_lean_calls_are_all_in_the_audit_log_when_answered(
    both: tuple[Server, Server], sim: Sim, database_url: str
):
    """Calls finishing together share a commit (mcp_bridge.audit_writer); each answer still leaves
    only once its row is committed, so every answered call is in the log at once."""
    lean, _ = both
    tag = f"group-{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(timeout=30) as client:
        responses = await asyncio.gather(
            *(
                client.post(lean.mcp_url, content=call("get_project", project=f"{tag}/{i}"), headers=HEADERS)
                for i in range(24)
            )
        )
    assert all(r.status_code == 200 for r in responses)
    rows = server_rows(database_url, f"SELECT project FROM oauth_gateway_auditevent WHERE project LIKE '{tag}/%'")
    assert sorted(row[0] for row in rows) == sorted(f"{tag}/{i}" for i in range(24))


@pytest.mark.parametrize("fast_path", ["true", "false"], ids=["lean path", "SDK path"])
def test_token_mode_audit_rows_name_the_gitlab_user_the_start_up_check_found(
    tmp_path: Path, sim: Sim, database_url: str, fast_path: str
):
    """`manage.py serve` learns GITLAB_TOKEN's user once (GET /user at start-up) and the server
    names it in every tool call's audit row, asking GitLab nothing more for it."""
    with served(tmp_path, database_url, sim, MCP_FAST_PATH=fast_path) as (url, _):
        asked = len([r for r in sim.requests() if r["path"] == "/api/v4/user"])
        project = f"whoami-{uuid.uuid4().hex[:12]}"
        for _ in range(3):
            response = httpx.post(f"{url}/mcp", content=call("get_project", project=project), headers=HEADERS)
            assert response.status_code == 200
        assert [r for r in sim.requests() if r["path"] == "/api/v4/user"][asked:] == []
    assert _gitlab_users(database_url, project) == ["alice"] * 3


def test_when_the_start_up_check_cannot_reach_gitlab_rows_name_no_user_and_the_log_says_so(
    tmp_path: Path, sim: Sim, database_url: str
):
    closed = f"http://127.0.0.1:{free_port()}"
    with served(tmp_path, database_url, sim, GITLAB_API_URL=closed, GITLAB_MAX_RETRIES="0") as (url, log):
        project = f"unreachable-{uuid.uuid4().hex[:12]}"
        status, _, body = answer(
            httpx.post(f"{url}/mcp", content=call("get_project", project=project), headers=HEADERS)
        )
        text = log.read_text()
    assert status == 200 and body["result"]["isError"] is True
    assert _gitlab_users(database_url, project) == [None]
    assert "tool calls will be audited without the token's GitLab user name" in text


def test_a_stale_acting_as_from_the_environment_is_not_kept_when_the_check_fails(
    tmp_path: Path, sim: Sim, database_url: str
):
    """`serve` sets the name from its own check only: one left in the environment is dropped."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = {"GITLAB_API_URL": closed, "GITLAB_MAX_RETRIES": "0", ACTING_AS_VARIABLE: "mallory"}
    with served(tmp_path, database_url, sim, **env) as (url, _):
        project = f"stale-{uuid.uuid4().hex[:12]}"
        httpx.post(f"{url}/mcp", content=call("get_project", project=project), headers=HEADERS)
    assert _gitlab_users(database_url, project) == [None]


def _gitlab_users(database_url: str, project: str) -> list[Any]:
    rows = server_rows(database_url, f"SELECT detail FROM oauth_gateway_auditevent WHERE project = '{project}'")
    details = [json.loads(row[0]) if isinstance(row[0], str) else row[0] for row in rows]
    return [detail.get("gitlab_user") for detail in details]


def test_the_objects_made_at_start_up_are_kept_out_of_the_collectors_sight():
    """config.asgi freezes what start-up made (gc.freeze): otherwise each full collection walks
    ~170,000 objects, a stall of 100 ms or more for every request in flight (the p99 tail)."""
    code = "import gc, config.asgi; print(gc.get_freeze_count())"
    env = {**os.environ, "GITLAB_TOKEN": "glpat-x", "DATABASE_URL": "sqlite:///:memory:", "ENV_FILE": os.devnull}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 50_000
