"""wait_for_pipeline's progress notifications, through real servers: over stdio (one session,
notifications on) and over HTTP (an SSE stream). The rest of the CI tools: tests/test_tools_ci.py.

A pipeline created through the API stays pending until a test starts the simulator's runner on it
(sim.run_pipeline): then its jobs (compile, rspec; deploy is manual) move on.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.harness import ROOT, server_env

SITE = {"project": "acme/website"}


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
