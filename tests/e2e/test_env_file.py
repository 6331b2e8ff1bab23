"""One configuration source: the server and every manage.py command read ./.env, or the file ENV_FILE
names; real environment variables win over it; a missing ENV_FILE stops start-up naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.harness import ROOT, Sim, free_port, stop, wait_http
from tests.oauth_client import OAUTH_ENV, Browser, MemoryStorage, mcp_status, oauth_mcp, structured


def bare_env(**extra: str) -> dict[str, str]:
    """This process's environment without any of the server's settings: they come from the file."""
    names = ("GITLAB_", "OAUTH_", "PUBLIC_URL", "HOST", "PORT", "DATABASE_URL", "MCP_", "ENV_FILE")
    return {k: v for k, v in os.environ.items() if not k.startswith(names)} | extra


def write_env(path: Path, **values: str) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def manage(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(ROOT / "manage.py"), *args]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_serve_takes_its_settings_from_the_env_file(tmp_path: Path, database_url: str, sim: Sim):
    port = free_port()
    settings = write_env(
        tmp_path / "gitlab-mcp.env",
        GITLAB_TOKEN="glpat-alice-0000000000000000",
        GITLAB_API_URL=sim.url,
        DATABASE_URL=database_url,
        PORT=str(port),
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        argv = [sys.executable, "manage.py", "serve", "--no-migrate"]
        process = subprocess.Popen(argv, cwd=ROOT, env=bare_env(ENV_FILE=str(settings)), stdout=out, stderr=out)
        try:
            wait_http(f"http://127.0.0.1:{port}/health", process)  # PORT from the file
        finally:
            stop(process)
    assert f"GitLab token OK: acting as alice on {sim.url}" in log.read_text()


def test_the_real_environment_wins_over_the_file(tmp_path: Path):
    write_env(tmp_path / ".env", GITLAB_TOKEN="glpat-x", GITLAB_TOOLSETS="boards")
    assert "GITLAB_TOOLSETS names unknown toolsets: boards" in manage("check", env=bare_env(), cwd=tmp_path).stderr
    fixed = manage("check", env=bare_env(GITLAB_TOOLSETS="all"), cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stderr


def test_dot_env_in_the_working_directory_is_read_and_a_missing_one_is_fine(tmp_path: Path):
    assert "neither GITLAB_TOKEN nor OAUTH_ENABLED" in manage("check", env=bare_env(), cwd=tmp_path).stderr
    write_env(tmp_path / ".env", GITLAB_TOKEN="glpat-x")
    assert manage("check", env=bare_env(), cwd=tmp_path).returncode == 0


def test_a_missing_env_file_stops_start_up_naming_it(tmp_path: Path):
    missing = tmp_path / "nowhere.env"
    done = manage("check", env=bare_env(ENV_FILE=str(missing), GITLAB_TOKEN="glpat-x"))
    assert done.returncode != 0
    assert "ENV_FILE" in done.stderr and str(missing) in done.stderr and "Traceback" not in done.stderr


async def test_revoke_takes_the_database_and_secret_from_the_env_file(start_server, sim: Sim, tmp_path: Path):
    server = start_server(**OAUTH_ENV)
    storage = MemoryStorage()
    async with oauth_mcp(server.url, Browser("alice"), storage=storage) as client:
        structured(await client.call_tool("get_current_user", {}))
    assert storage.tokens is not None
    settings = {k: server.env[k] for k in ("DATABASE_URL", "GITLAB_API_URL", *OAUTH_ENV) if server.env.get(k)}
    env_file = write_env(tmp_path / "env", **settings)
    done = manage("revoke", "--user", "alice", env=bare_env(ENV_FILE=str(env_file)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Ended ") and done.stdout.endswith(" of alice (GitLab #1).\n")
    assert mcp_status(server, storage.tokens.access_token) == 401
    assert httpx.get(f"{server.url}/health").status_code == 200
