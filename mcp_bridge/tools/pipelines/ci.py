"""CI/CD configuration and waiting on pipelines: lint a .gitlab-ci.yml (the project's own or given
YAML, doc/api/lint.md), and wait for a pipeline to finish while telling the client how far it got
(MCP progress notifications, doc/api/pipelines.md, doc/api/jobs.md).

Waiting is a loop in the tool rather than the model polling get_pipeline: one call, polite backoff,
and progress the client can show. It ends when the pipeline does, at its timeout (with the last status),
or at once when the client cancels the request (the SDK cancels the task; the sleep is where it lands).
"""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, tool
from mcp_bridge.shaping import pick
from mcp_bridge.tools.pipelines.jobs import JOB_FIELDS
from mcp_bridge.tools.pipelines.runs import PipelineId, pipeline_summary

MAX_CONTENT_CHARS = 500_000  # of YAML sent to lint
MAX_MESSAGES = 50  # errors or warnings shown
JOB_FIELDS_LINTED = ("name", "stage", "when")
# Pipeline statuses after which nothing happens without someone acting (doc/api/pipelines.md).
SETTLED = frozenset({"success", "failed", "canceled", "skipped", "manual"})
JOB_DONE = frozenset({"success", "failed", "canceled", "skipped", "manual"})
FIRST_WAIT, BACKOFF, LONGEST_WAIT = 2.0, 1.5, 15.0  # seconds between polls
MAX_TIMEOUT = 900  # a tool call held open longer than 15 minutes helps no client
MAX_JOB_PAGES = 3  # 300 jobs are enough to count progress by
MAX_FAILED_SHOWN = 20  # list_pipeline_jobs(scope=['failed']) pages through the rest


@tool(READ, "pipelines", routes=("POST /projects/:id/ci/lint", "GET /projects/:id/ci/lint"))
async def lint_ci_config(
    project: ProjectRef,
    content: Annotated[
        str | None,
        Field(
            description="YAML to check; omit to check the project's own .gitlab-ci.yml.", max_length=MAX_CONTENT_CHARS
        ),
    ] = None,
    ref: Annotated[
        str | None, Field(description="Branch or tag whose .gitlab-ci.yml to check (default branch).")
    ] = None,
    include_jobs: Annotated[bool, Field(description="Also list the jobs the config defines.")] = False,
) -> dict[str, Any]:
    """Check CI/CD YAML with GitLab's linter, in the project's context (includes, variables): valid, errors,
    warnings. Pass content to check a draft, or nothing to check the project's .gitlab-ci.yml on ref.
    An invalid config is a normal result with its errors, not a failure."""
    path, what = f"/projects/{path_id(project)}/ci/lint", f"CI configuration of {project}"
    if content is not None:
        body = {"content": content, "include_jobs": include_jobs or None}
        data = await gitlab().post(path, what=what, json=body | ({"ref": ref} if ref else {}))
    else:
        params = {"content_ref": ref, "include_jobs": include_jobs or None}
        data = await gitlab().get(path, what=what, params=params)
    result: dict[str, Any] = {"valid": bool(data.get("valid"))}
    for key in ("errors", "warnings"):
        messages = list(data.get(key) or [])
        result[key] = messages[:MAX_MESSAGES]
        if len(messages) > MAX_MESSAGES:
            result[f"{key}_left_out"] = len(messages) - MAX_MESSAGES
    if data.get("includes"):
        result["includes"] = [i.get("location") for i in data["includes"] if isinstance(i, dict)]
    if include_jobs and isinstance(data.get("jobs"), list):
        result["jobs"] = [pick(job, JOB_FIELDS_LINTED) for job in data["jobs"]]
    return result


@tool(
    READ,
    "pipelines",
    routes=("GET /projects/:id/pipelines/:pipeline_id", "GET /projects/:id/pipelines/:pipeline_id/jobs"),
)
async def wait_for_pipeline(
    project: ProjectRef,
    pipeline_id: PipelineId,
    ctx: Context,
    timeout_seconds: Annotated[
        int, Field(description=f"Stop waiting after this long (1-{MAX_TIMEOUT}).", ge=1, le=MAX_TIMEOUT)
    ] = 300,
) -> dict[str, Any]:
    """Wait until a pipeline finishes (or needs a manual action), reporting progress (status, jobs done of
    total) to clients that ask for it. Returns the pipeline, its job counts and failed jobs; at the
    timeout it returns the last status with timed_out=true (call again to keep waiting)."""
    pipeline_path = f"/projects/{path_id(project)}/pipelines/{pipeline_id}"
    what = f"Pipeline {pipeline_id} in {project}"
    deadline = time.monotonic() + timeout_seconds
    wait, polls = FIRST_WAIT, 0
    while True:
        pipeline = await gitlab().get(pipeline_path, what=what)
        jobs = await _jobs(pipeline_path, what)
        polls += 1
        done = sum(1 for job in jobs if job.get("status") in JOB_DONE)
        status = str(pipeline.get("status"))
        await ctx.report_progress(
            done, len(jobs) or None, f"Pipeline {pipeline_id}: {status}, {done}/{len(jobs)} jobs done"
        )
        left = deadline - time.monotonic()
        if status in SETTLED or left <= 0:
            break
        await asyncio.sleep(min(wait, left))
        wait = min(wait * BACKOFF, LONGEST_WAIT)
    result = pipeline_summary(pipeline)
    result |= {"jobs_done": done, "jobs_total": len(jobs), "polls": polls, "timed_out": status not in SETTLED}
    failed = [pick(job, JOB_FIELDS) for job in jobs if job.get("status") == "failed"]
    result["failed_jobs"] = failed[:MAX_FAILED_SHOWN]
    if len(failed) > MAX_FAILED_SHOWN:
        result["failed_jobs_left_out"] = len(failed) - MAX_FAILED_SHOWN
    if status not in SETTLED:
        result["hint"] = f"Still {status} after {timeout_seconds} s; call wait_for_pipeline again to keep waiting."
    elif status == "manual":
        result["hint"] = "The pipeline waits for a manual job: start it with play_job, or leave it."
    elif result["failed_jobs"]:
        result["hint"] = "Read why a job failed with get_job_log(job_id)."
    return result


async def _jobs(pipeline_path: str, what: str) -> list[dict[str, Any]]:
    """The pipeline's current jobs (retried ones left out), up to MAX_JOB_PAGES pages of 100."""
    jobs: list[dict[str, Any]] = []
    for page in range(1, MAX_JOB_PAGES + 1):
        items, meta = await gitlab().page(f"{pipeline_path}/jobs", what=what, page=page, per_page=100)
        jobs += items
        if not meta.get("next_page"):
            break
    return jobs
