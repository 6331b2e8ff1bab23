"""`manage.py mcp_stdio`: the same tools for a client that launches the server over stdio."""

from __future__ import annotations

import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.harness import ROOT, Sim, migrate, server_env


async def test_it_serves_the_tools_over_stdio(sim: Sim, database_url: str):
    env = server_env(database_url, sim)
    migrate(env)
    params = StdioServerParameters(command=sys.executable, args=["manage.py", "mcp_stdio"], env=env, cwd=str(ROOT))
    async with Client(params) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("get_current_user", {})
    assert "list_projects" in names
    assert result.structured_content["username"] == "alice"


async def test_stdio_refuses_to_start_without_a_token(sim: Sim, database_url: str):
    import subprocess

    env = server_env(database_url, sim, GITLAB_TOKEN="", OAUTH_ENABLED="true")
    env |= {"OAUTH_SESSION_SECRET": "x" * 40, "GITLAB_OAUTH_CLIENT_ID": "app-id"}
    done = subprocess.run(
        [sys.executable, "manage.py", "mcp_stdio"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "GITLAB_TOKEN" in done.stderr
