"""Jobs: which of a pipeline's jobs failed, a job's log as a reader sees it, and retrying, cancelling
or playing one job (doc/api/jobs.md)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import line_window, listed, pick
from mcp_bridge.tools.pipelines.runs import PipelineId

JobId = Annotated[int, Field(description="Job id (the number in .../-/jobs/<id>).", ge=1)]


# doc/api/jobs.md#list-pipeline-jobs
JobStatus = Literal[
    "created", "pending", "running", "failed", "success", "canceled", "skipped", "waiting_for_resource", "manual"
]


JOB_FIELDS = (
    "id",
    "name",
    "stage",
    "status",
    "failure_reason",
    "allow_failure",
    "duration",
    "finished_at",
    "web_url",
)
MAX_LOG_LINES = 1000

# Runner output: collapsible-section markers, e.g. "section_start:1718000000:step_script[collapsed=true]\r\e[0K"
# (doc/ci/jobs/job_logs.md#custom-collapsible-sections), and ANSI escapes (CSI colours, OSC links).
SECTION_MARKER = re.compile(r"section_(?:start|end):\d+:[\w.-]+(?:\[[^\]\n]*\])?\r?(?:\x1b\[0?K)?")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def clean_log(raw: str) -> str:
    """A job log as a reader sees it in GitLab: no colours, no section markers, no overwritten progress."""
    # Markers become NUL first, so that a line which held only markers can be told from a blank line.
    text = ANSI_ESCAPE.sub("", SECTION_MARKER.sub("\0", raw.replace("\r\n", "\n")))
    lines = []
    for line in text.split("\n"):
        visible = line.replace("\0", "")
        if not visible and line:
            continue  # a line that held only a section marker
        if "\r" in visible:
            # A carriage return redraws the line (progress bars): keep what was drawn last.
            visible = next((part for part in reversed(visible.split("\r")) if part), "")
        lines.append(visible)
    return "\n".join(lines).rstrip()


def job_path(project: str, job_id: int) -> str:
    return f"/projects/{path_id(project)}/jobs/{job_id}"


@tool(READ, "pipelines", routes=("GET /projects/:id/pipelines/:pipeline_id/jobs",))
async def list_pipeline_jobs(
    project: ProjectRef,
    pipeline_id: PipelineId,
    scope: Annotated[list[JobStatus] | None, Field(description="Only jobs in these statuses, e.g. ['failed'].")] = None,
    include_retried: Annotated[bool, Field(description="Also list earlier attempts of retried jobs.")] = False,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List the jobs of a CI/CD pipeline, newest first: name, stage, status, duration, failure reason and URL.
    Use scope=['failed'] to find what broke, then get_job_log to read why."""
    return await listed(
        f"/projects/{path_id(project)}/pipelines/{pipeline_id}/jobs",
        f"Jobs of pipeline {pipeline_id} in {project}",
        page,
        per_page,
        JOB_FIELDS,
        {"scope": scope, "include_retried": include_retried},
    )


@tool(READ, "pipelines", routes=("GET /projects/:id/jobs/:job_id/trace",))
async def get_job_log(
    project: ProjectRef,
    job_id: JobId,
    start_line: Annotated[
        int | None, Field(description="First line to read (1-based). Omit to read the end of the log.", ge=1)
    ] = None,
    line_count: Annotated[int, Field(description="How many lines to read (1-1000).", ge=1, le=MAX_LOG_LINES)] = 200,
) -> dict[str, Any]:
    """Read a CI/CD job's log as plain text (colours and section markers removed). By default it returns the
    last lines, where failures show; total_lines and the hint tell how to page to earlier lines with start_line."""
    raw = await gitlab().text(
        f"/projects/{path_id(project)}/jobs/{job_id}/trace", what=f"Log of job {job_id} in {project}"
    )
    return {"job_id": job_id, **line_window(clean_log(raw), start=start_line, count=line_count, tail=True)}


JOB_DETAIL_FIELDS = (*JOB_FIELDS, "ref", "tag", "user", "coverage", "created_at", "started_at", "queued_duration")
CANCELABLE = {"created", "waiting_for_resource", "preparing", "pending", "running", "scheduled", "canceling"}


def _job(data: dict[str, Any], fields: tuple[str, ...] = JOB_DETAIL_FIELDS) -> dict[str, Any]:
    job = pick(data, fields)
    if isinstance(data.get("pipeline"), dict):
        job["pipeline_id"] = data["pipeline"].get("id")
    return job


@tool(READ, "pipelines", routes=("GET /projects/:id/jobs/:job_id",))
async def get_job(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """Get one CI/CD job: name, stage, status, failure reason, who ran it, timings, its pipeline_id and URL."""
    return _job(await gitlab().get(job_path(project, job_id), what=f"Job {job_id} in {project}"))


@tool(WRITE, "pipelines", routes=("POST /projects/:id/jobs/:job_id/retry",))
async def retry_job(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """Retry a finished job (failed, canceled or successful). Returns the NEW job, with its own id."""
    data = await gitlab().post(f"{job_path(project, job_id)}/retry", what=f"Job {job_id} in {project}")
    return _job(data)


@tool(DESTRUCTIVE, "pipelines", routes=("POST /projects/:id/jobs/:job_id/cancel",))
async def cancel_job(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """Cancel a pending or running job. Returns the job; a finished job is left as it was."""
    data = await gitlab().post(f"{job_path(project, job_id)}/cancel", what=f"Job {job_id} in {project}")
    job = _job(data)
    if job.get("status") not in CANCELABLE | {"canceled"}:
        # GitLab answers 201 even when there was nothing to cancel (lib/api/ci/jobs.rb).
        job["note"] = f"Nothing to cancel: the job had already finished ({job.get('status')})."
    return job


@tool(WRITE, "pipelines", routes=("POST /projects/:id/jobs/:job_id/play",))
async def play_job(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """Start a manual job (status 'manual', e.g. a deploy waiting for a click). Returns the job."""
    data = await gitlab().post(f"{job_path(project, job_id)}/play", what=f"Job {job_id} in {project}")
    return _job(data)
