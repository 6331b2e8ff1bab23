"""CI tools: lint_ci_config, create_pipeline with inputs, wait_for_pipeline with progress notifications.

acme/website (alice is owner) has a .gitlab-ci.yml with spec:inputs (environment: staging|production,
dry_run: boolean); acme/app has none. A pipeline created through the API stays pending until a test starts
the simulator's runner on it (sim.run_pipeline): then its jobs (compile, rspec; deploy is manual) move on.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.conftest import MCP
from tests.harness import ROOT, server_env

SITE = {"project": "acme/website"}
BAD_YAML = "build:\n  script: [make\n  stage: build\n"


# --- lint_ci_config ------------------------------------------------------------------------------
async def test_lint_the_projects_own_config(mcp, sim):
    result = await mcp.call("lint_ci_config", include_jobs=True, **SITE)
    assert not result.is_error, result
    lint = result.structured_content
    assert lint["valid"] is True and lint["errors"] == []
    assert lint["warnings"] and "jobs:pages may allow multiple pipelines" in lint["warnings"][0]
    assert [(j["name"], j["stage"]) for j in lint["jobs"]] == [("build", "build"), ("pages", "deploy")]
    sent = [r for r in sim.requests() if r["path"].endswith("/ci/lint")]
    assert [r["method"] for r in sent] == ["GET"]


async def test_lint_given_yaml_reports_gitlabs_errors_as_a_result(mcp, sim):
    broken = (await mcp.call("lint_ci_config", content=BAD_YAML, **SITE)).structured_content
    assert broken["valid"] is False and broken["errors"][0].startswith("(<unknown>): ")
    wrong = "stages: [build]\ntest:\n  stage: test\n  scriptt: make\n"
    result = await mcp.call("lint_ci_config", content=wrong, **SITE)
    assert not result.is_error  # an invalid config is an answer, not a failure
    assert set(result.structured_content["errors"]) == {
        "jobs:test config contains unknown keys: scriptt",
        "jobs:test config should implement the script:, run:, or trigger: keyword",
        "test job: chosen stage test does not exist; available stages are .pre, build, .post",
    }
    assert [r["method"] for r in sim.requests() if r["path"].endswith("/ci/lint")] == ["POST", "POST"]


async def test_lint_a_project_without_a_config_or_out_of_reach(mcp, mcp_as, text_of):
    none = (await mcp.call("lint_ci_config", project="acme/app")).structured_content
    assert none == {"valid": False, "errors": ["Please provide content of .gitlab-ci.yml"], "warnings": []}
    hidden = await mcp.call("lint_ci_config", project="bob/secret", content="a: 1")
    assert hidden.is_error and "CI configuration of bob/secret not found or you have no access" in text_of(hidden)
    guest = await mcp_as("charlie").call("lint_ci_config", project="acme/website", content="a: 1")
    assert guest.is_error and "You do not have permission" in text_of(guest)


# --- create_pipeline with inputs -----------------------------------------------------------------
async def test_create_pipeline_with_inputs(mcp):
    inputs = {"environment": "production", "dry_run": True}
    result = await mcp.call("create_pipeline", ref="main", inputs=inputs, **SITE)
    assert not result.is_error, result
    assert result.structured_content["status"] == "pending" and result.structured_content["ref"] == "main"


async def test_create_pipeline_inputs_gitlab_refuses(mcp, text_of):
    unknown = await mcp.call("create_pipeline", ref="main", inputs={"region": "eu"}, **SITE)
    assert unknown.is_error and "unknown input arguments: region" in text_of(unknown)
    option = await mcp.call("create_pipeline", ref="main", inputs={"environment": "prod"}, **SITE)
    assert option.is_error and "`prod` cannot be used because it is not in the list of allowed options" in text_of(
        option
    )


# --- wait_for_pipeline ---------------------------------------------------------------------------
async def _new_pipeline(mcp) -> int:
    return int((await mcp.call("create_pipeline", ref="main", **SITE)).structured_content["id"])


def _stdio(sim, database_url: str) -> StdioServerParameters:
    """The server as a client launches it over stdio: the same tools, one session, notifications on."""
    env = server_env(database_url, sim)
    return StdioServerParameters(command=sys.executable, args=["manage.py", "mcp_stdio"], env=env, cwd=str(ROOT))


async def _wait_with_progress(client: Client, pipeline_id: int) -> tuple[Any, list[tuple[float, Any, Any]]]:
    notes: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        notes.append((done, total, message))

    result = await client.call_tool(
        "wait_for_pipeline", {"pipeline_id": pipeline_id, **SITE}, progress_callback=progress
    )
    return result, notes


async def test_wait_reports_progress_until_the_pipeline_finishes(mcp, sim, database_url):
    pipeline_id = await _new_pipeline(mcp)
    async with Client(_stdio(sim, database_url)) as client:
        sim.run_pipeline(pipeline_id, step=0.8, fail=["rspec"])
        result, notes = await _wait_with_progress(client, pipeline_id)
    assert not result.is_error, result
    finished = result.structured_content
    assert finished["status"] == "failed" and finished["timed_out"] is False
    assert (finished["jobs_done"], finished["jobs_total"]) == (3, 3)
    assert [j["name"] for j in finished["failed_jobs"]] == ["rspec"] and "get_job_log" in finished["hint"]
    assert len(notes) == finished["polls"] >= 2
    assert notes[0] == (1, 3, f"Pipeline {pipeline_id}: pending, 1/3 jobs done")  # the manual deploy waits: done
    assert notes[-1] == (3, 3, f"Pipeline {pipeline_id}: failed, 3/3 jobs done")
    assert [n[0] for n in notes] == sorted(n[0] for n in notes)


async def test_wait_reports_progress_over_http(mcp, sim):
    # A request with a progress token is answered as an SSE stream (mcp_bridge.asgi), with room for
    # the notifications before the result; every other POST as one JSON body.
    pipeline_id = await _new_pipeline(mcp)
    sim.run_pipeline(pipeline_id, step=0.5)
    async with Client(mcp.url) as client:
        result, notes = await _wait_with_progress(client, pipeline_id)
    assert result.structured_content["status"] == "success"
    assert notes and notes[-1][:2] == (3, 3)


async def test_wait_returns_at_its_timeout_with_the_last_status(mcp, sim):
    pipeline_id = await _new_pipeline(mcp)  # no runner: it stays pending
    started = time.monotonic()
    result = await mcp.call("wait_for_pipeline", pipeline_id=pipeline_id, timeout_seconds=3, **SITE)
    took = time.monotonic() - started
    assert not result.is_error, result
    waited = result.structured_content
    assert (
        waited["status"] == "pending"
        and waited["timed_out"] is True
        and "call wait_for_pipeline again" in waited["hint"]
    )
    assert 2.9 < took < 6 and waited["polls"] == 3  # at 0 s, 2 s, and the deadline: no tight loop


async def test_wait_stops_polling_when_the_request_is_cancelled(mcp, sim, database_url):
    pipeline_id = await _new_pipeline(mcp)  # no runner: it would wait the whole minute

    def polls() -> int:
        return len([r for r in sim.requests() if r["path"].endswith(f"/pipelines/{pipeline_id}")])

    async with Client(_stdio(sim, database_url)) as client:
        call = asyncio.create_task(_wait_with_progress(client, pipeline_id))
        await asyncio.sleep(3)  # long enough for the second poll (at 2 s) once the process is up
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)
        polled = polls()
        await asyncio.sleep(4)  # a third poll would have come 3 s after the second
        assert polls() == polled >= 1
        # The session lives on: the next call is served.
        again = await client.call_tool("get_pipeline", {"pipeline_id": pipeline_id, **SITE})
        assert again.structured_content["status"] == "pending"


async def test_wait_errors(mcp, text_of):
    missing = await mcp.call("wait_for_pipeline", pipeline_id=999999, **SITE)
    assert missing.is_error and "Pipeline 999999 in acme/website not found" in text_of(missing)
    too_long = await mcp.call("wait_for_pipeline", pipeline_id=1, timeout_seconds=3600, **SITE)
    assert too_long.is_error and "timeout_seconds" in text_of(too_long)


async def test_lint_and_wait_are_offered_on_a_read_only_server(start_server, sim):
    read_only = MCP(start_server(GITLAB_READ_ONLY_MODE="true").mcp_url)
    names = {t.name for t in await read_only.list_tools()}
    assert {"lint_ci_config", "wait_for_pipeline"} <= names and "create_pipeline" not in names
    lint = await read_only.call("lint_ci_config", content="build:\n  script: make\n", **SITE)
    assert not lint.is_error and lint.structured_content["valid"] is True
