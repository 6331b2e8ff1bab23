"""Pipelines and jobs: find a pipeline, see which jobs failed, read a job's log and artifacts, start, retry
or cancel pipelines and jobs, and manage pipeline schedules (doc/api/pipelines.md, jobs.md,
job_artifacts.md, pipeline_schedules.md)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id, path_of
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import line_window, listing, pick
from mcp_bridge.tools.repository import decode_text

PipelineId = Annotated[int, Field(description="Pipeline id (the number in .../-/pipelines/<id>).", ge=1)]
JobId = Annotated[int, Field(description="Job id (the number in .../-/jobs/<id>).", ge=1)]
# doc/api/pipelines.md#list-project-pipelines and doc/api/jobs.md#list-pipeline-jobs
PipelineStatus = Literal[
    "created",
    "waiting_for_resource",
    "preparing",
    "pending",
    "running",
    "success",
    "failed",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
]
JobStatus = Literal[
    "created", "pending", "running", "failed", "success", "canceled", "skipped", "waiting_for_resource", "manual"
]

LIST_FIELDS = ("id", "iid", "status", "source", "ref", "sha", "name", "web_url", "created_at", "updated_at")
DETAIL_FIELDS = (
    *LIST_FIELDS,
    "user",
    "tag",
    "before_sha",
    "yaml_errors",
    "started_at",
    "finished_at",
    "duration",
    "queued_duration",
    "coverage",
    "detailed_status",
)
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


@tool(READ, "pipelines", routes=("GET /projects/:id/pipelines",))
async def list_pipelines(
    project: ProjectRef,
    status: Annotated[PipelineStatus | None, Field(description="Only pipelines in this status.")] = None,
    ref: Annotated[str | None, Field(description="Branch or tag the pipeline ran for.")] = None,
    sha: Annotated[str | None, Field(description="Commit SHA the pipeline ran for.")] = None,
    source: Annotated[
        str | None, Field(description="What started it: push, web, schedule, merge_request_event, api, trigger, …")
    ] = None,
    username: Annotated[str | None, Field(description="Username of who triggered it.")] = None,
    order_by: Annotated[
        Literal["id", "status", "ref", "updated_at", "user_id"], Field(description="Field to sort by.")
    ] = "id",
    sort: Annotated[Literal["asc", "desc"], Field(description="Sort direction.")] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's CI/CD pipelines, newest first: status, ref, SHA, source and URL of each, plus pagination.
    Filter by status (e.g. failed), ref, sha, source or the username of who triggered it."""
    params = {"status": status, "ref": ref, "sha": sha, "source": source, "username": username}
    params |= {"order_by": order_by, "sort": sort}
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/pipelines",
        what=f"Pipelines of {project}",
        page=page,
        per_page=per_page,
        params=params,
    )
    return listing(items, meta, LIST_FIELDS)


@tool(READ, "pipelines", routes=("GET /projects/:id/pipelines/:pipeline_id",))
async def get_pipeline(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Get one CI/CD pipeline: status, ref, SHA, who triggered it, timings, duration, coverage and URL.
    Use list_pipeline_jobs next to see which of its jobs failed."""
    data = await gitlab().get(_pipeline_path(project, pipeline_id), what=f"Pipeline {pipeline_id} in {project}")
    return pipeline_summary(data)


def pipeline_summary(data: dict[str, Any]) -> dict[str, Any]:
    result = pick(data, DETAIL_FIELDS)
    if isinstance(result.get("detailed_status"), dict):
        # "passed with warnings", "failed", … : what the GitLab UI shows; the icon and paths are noise.
        result["detailed_status"] = result["detailed_status"].get("label")
    return result


def _pipeline_path(project: str, pipeline_id: int) -> str:
    return f"/projects/{path_id(project)}/pipelines/{pipeline_id}"


def _job_path(project: str, job_id: int) -> str:
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
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/pipelines/{pipeline_id}/jobs",
        what=f"Jobs of pipeline {pipeline_id} in {project}",
        page=page,
        per_page=per_page,
        params={"scope": scope, "include_retried": include_retried},
    )
    return listing(items, meta, JOB_FIELDS)


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


# --- starting, retrying and stopping -----------------------------------------------------------
class PipelineVariable(BaseModel):
    key: str = Field(description="Variable name, e.g. DEPLOY_ENV.", min_length=1)
    value: str = Field(description="Its value.")
    variable_type: Literal["env_var", "file"] = "env_var"


JOB_DETAIL_FIELDS = (*JOB_FIELDS, "ref", "tag", "user", "coverage", "created_at", "started_at", "queued_duration")
CANCELABLE = {"created", "waiting_for_resource", "preparing", "pending", "running", "scheduled", "canceling"}


def _job(data: dict[str, Any], fields: tuple[str, ...] = JOB_DETAIL_FIELDS) -> dict[str, Any]:
    job = pick(data, fields)
    if isinstance(data.get("pipeline"), dict):
        job["pipeline_id"] = data["pipeline"].get("id")
    return job


@tool(WRITE, "pipelines", routes=("POST /projects/:id/pipeline",))
async def create_pipeline(
    project: ProjectRef,
    ref: Annotated[str, Field(description="Branch or tag to run the pipeline on.", min_length=1)],
    variables: Annotated[list[PipelineVariable] | None, Field(description="Variables for this run.")] = None,
    inputs: Annotated[
        dict[str, str | int | float | bool | list[str]] | None,
        Field(description="Inputs the config declares in spec:inputs, e.g. {'environment': 'production'}."),
    ] = None,
) -> dict[str, Any]:
    """Run a new CI/CD pipeline on a branch or tag (Developer role), optionally with inputs or variables.
    Returns the pipeline; follow it with wait_for_pipeline or list_pipeline_jobs."""
    body: dict[str, Any] = {"ref": ref, "variables": [v.model_dump() for v in variables] if variables else None}
    body["inputs"] = inputs or None  # doc/api/pipelines.md#create-a-new-pipeline (GitLab 17.10+)
    data = await gitlab().post(
        f"/projects/{path_id(project)}/pipeline", what=f"Pipeline on {ref} in {project}", json=body
    )
    return pipeline_summary(data)


@tool(WRITE, "pipelines", routes=("POST /projects/:id/pipelines/:pipeline_id/retry",))
async def retry_pipeline(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Retry the failed and canceled jobs of a pipeline (no effect if none). Returns the pipeline."""
    data = await gitlab().post(
        f"{_pipeline_path(project, pipeline_id)}/retry", what=f"Pipeline {pipeline_id} in {project}"
    )
    return pipeline_summary(data)


@tool(DESTRUCTIVE, "pipelines", routes=("POST /projects/:id/pipelines/:pipeline_id/cancel",))
async def cancel_pipeline(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Cancel a pipeline's pending and running jobs. Returns the pipeline with its new status."""
    data = await gitlab().post(
        f"{_pipeline_path(project, pipeline_id)}/cancel", what=f"Pipeline {pipeline_id} in {project}"
    )
    return pipeline_summary(data)


@tool(DESTRUCTIVE, "pipelines", routes=("DELETE /projects/:id/pipelines/:pipeline_id",))
async def delete_pipeline(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Delete a pipeline with its jobs, logs and artifacts (Owner role). Cannot be undone."""
    await gitlab().delete(_pipeline_path(project, pipeline_id), what=f"Pipeline {pipeline_id} in {project}")
    return {"deleted": True, "pipeline_id": pipeline_id}


@tool(READ, "pipelines", routes=("GET /projects/:id/jobs/:job_id",))
async def get_job(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """Get one CI/CD job: name, stage, status, failure reason, who ran it, timings, its pipeline_id and URL."""
    return _job(await gitlab().get(_job_path(project, job_id), what=f"Job {job_id} in {project}"))


@tool(WRITE, "pipelines", routes=("POST /projects/:id/jobs/:job_id/retry",))
async def retry_job(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """Retry a finished job (failed, canceled or successful). Returns the NEW job, with its own id."""
    data = await gitlab().post(f"{_job_path(project, job_id)}/retry", what=f"Job {job_id} in {project}")
    return _job(data)


@tool(DESTRUCTIVE, "pipelines", routes=("POST /projects/:id/jobs/:job_id/cancel",))
async def cancel_job(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """Cancel a pending or running job. Returns the job; a finished job is left as it was."""
    data = await gitlab().post(f"{_job_path(project, job_id)}/cancel", what=f"Job {job_id} in {project}")
    job = _job(data)
    if job.get("status") not in CANCELABLE | {"canceled"}:
        # GitLab answers 201 even when there was nothing to cancel (lib/api/ci/jobs.rb).
        job["note"] = f"Nothing to cancel: the job had already finished ({job.get('status')})."
    return job


@tool(WRITE, "pipelines", routes=("POST /projects/:id/jobs/:job_id/play",))
async def play_job(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """Start a manual job (status 'manual', e.g. a deploy waiting for a click). Returns the job."""
    data = await gitlab().post(f"{_job_path(project, job_id)}/play", what=f"Job {job_id} in {project}")
    return _job(data)


# --- artifacts and test reports ----------------------------------------------------------------
ARTIFACT_FIELDS = ("file_type", "filename", "size", "file_format")
MAX_ARTIFACT_CHARS = 40_000  # per window, about 10k tokens


@tool(READ, "pipelines", routes=("GET /projects/:id/jobs/:job_id",))
async def list_job_artifacts(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """List a job's artifacts (archive, reports, log) with sizes and expiry. Read a file inside the
    archive with get_job_artifact_file."""
    data = await gitlab().get(_job_path(project, job_id), what=f"Job {job_id} in {project}")
    artifacts = [pick(a, ARTIFACT_FIELDS) for a in data.get("artifacts") or []]
    return {"job_id": job_id, "artifacts": artifacts, "artifacts_expire_at": data.get("artifacts_expire_at")}


@tool(READ, "pipelines", routes=("GET /projects/:id/jobs/:job_id/artifacts/*artifact_path",))
async def get_job_artifact_file(
    project: ProjectRef,
    job_id: JobId,
    artifact_path: Annotated[
        str, Field(description="Path inside the archive, e.g. 'reports/junit.xml'.", min_length=1)
    ],
    start_line: Annotated[int | None, Field(description="First line to show, from 1.", ge=1)] = None,
    line_count: Annotated[int, Field(description="How many lines to show (1-2000).", ge=1, le=2000)] = 400,
) -> dict[str, Any]:
    """Read one file from a job's artifacts archive. Text comes as a window of lines with total_lines and
    a hint to read on; binary files give metadata only."""
    # *artifact_path is a wildcard route: its slashes stay (doc/api/job_artifacts.md).
    response = await gitlab().raw(
        f"{_job_path(project, job_id)}/artifacts/{path_of(artifact_path)}",
        what=f"Artifact {artifact_path} of job {job_id} in {project}",
    )
    raw, found = response.content, {"job_id": job_id, "artifact_path": artifact_path, "size": len(response.content)}
    text = decode_text(raw)
    if text is None:
        content_type = response.headers.get("content-type", "application/octet-stream")
        return {**found, "binary": True, "content_type": content_type, "hint": "Binary file: content not shown."}
    window = line_window(text, start=start_line, count=line_count, tail=False, max_chars=MAX_ARTIFACT_CHARS)
    return {**found, "binary": False, **window}


SUITE_FIELDS = ("name", "total_count", "success_count", "failed_count", "skipped_count", "error_count", "total_time")


@tool(READ, "pipelines", routes=("GET /projects/:id/pipelines/:pipeline_id/test_report_summary",))
async def get_pipeline_test_report_summary(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Test totals of a pipeline from its JUnit reports: count, passed, failed, skipped, errors, time,
    per suite (one per job, with build_ids). Read a job's report with get_job_artifact_file."""
    data = await gitlab().get(
        f"{_pipeline_path(project, pipeline_id)}/test_report_summary",
        what=f"Test report of pipeline {pipeline_id} in {project}",
    )
    suites = [pick(s, (*SUITE_FIELDS, "build_ids", "suite_error")) for s in data.get("test_suites") or []]
    return {"pipeline_id": pipeline_id, "total": data.get("total"), "test_suites": suites}


# --- schedules ---------------------------------------------------------------------------------
ScheduleId = Annotated[int, Field(description="Pipeline schedule id.", ge=1)]
Cron = Annotated[str, Field(description="Cron line, e.g. '0 2 * * *' (02:00 daily).", min_length=9)]
Timezone = Annotated[str | None, Field(description="e.g. 'UTC' or 'Europe/Berlin'.")]
SCHEDULE_FIELDS = ("id", "description", "ref", "cron", "cron_timezone", "next_run_at", "active", "owner")


def _schedule(data: dict[str, Any]) -> dict[str, Any]:
    schedule = pick(data, SCHEDULE_FIELDS)
    if "last_pipeline" in data:  # single-schedule answers only
        last = data["last_pipeline"]
        schedule["last_pipeline"] = pick(last, ("id", "status")) if isinstance(last, dict) else None
    return schedule


def _schedules(project: str) -> str:
    return f"/projects/{path_id(project)}/pipeline_schedules"


@tool(READ, "pipelines", routes=("GET /projects/:id/pipeline_schedules",))
async def list_pipeline_schedules(
    project: ProjectRef,
    scope: Literal["active", "inactive"] | None = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's pipeline schedules: description, ref, cron, timezone, next run, active, owner."""
    items, meta = await gitlab().page(
        _schedules(project),
        what=f"Pipeline schedules of {project}",
        page=page,
        per_page=per_page,
        params={"scope": scope},
    )
    return {"items": [_schedule(item) for item in items], **meta}


@tool(WRITE, "pipelines", routes=("POST /projects/:id/pipeline_schedules",))
async def create_pipeline_schedule(
    project: ProjectRef,
    description: Annotated[str, Field(description="What the schedule is for.", min_length=1)],
    ref: Annotated[str, Field(description="Branch or tag to run on.", min_length=1)],
    cron: Cron,
    cron_timezone: Timezone = None,
    active: Annotated[bool, Field(description="False to create it paused.")] = True,
) -> dict[str, Any]:
    """Schedule pipelines on a ref with a cron line (Developer role); you become its owner."""
    body = {"description": description, "ref": ref, "cron": cron, "cron_timezone": cron_timezone, "active": active}
    data = await gitlab().post(_schedules(project), what=f"Pipeline schedule in {project}", json=body)
    return _schedule(data)


@tool(WRITE, "pipelines", routes=("PUT /projects/:id/pipeline_schedules/:pipeline_schedule_id",))
async def update_pipeline_schedule(
    project: ProjectRef,
    schedule_id: ScheduleId,
    description: Annotated[str | None, Field(description="New description.")] = None,
    ref: Annotated[str | None, Field(description="New branch or tag.")] = None,
    cron: Annotated[str | None, Field(description="New cron line, e.g. '0 2 * * *'.")] = None,
    cron_timezone: Timezone = None,
    active: Annotated[bool | None, Field(description="Resume (true) or pause (false) it.")] = None,
) -> dict[str, Any]:
    """Change a pipeline schedule you own: description, ref, cron, timezone, or pause/resume it."""
    body = {"description": description, "ref": ref, "cron": cron, "cron_timezone": cron_timezone, "active": active}
    data = await gitlab().put(
        f"{_schedules(project)}/{schedule_id}", what=f"Pipeline schedule {schedule_id} in {project}", json=body
    )
    return _schedule(data)


@tool(DESTRUCTIVE, "pipelines", routes=("DELETE /projects/:id/pipeline_schedules/:pipeline_schedule_id",))
async def delete_pipeline_schedule(project: ProjectRef, schedule_id: ScheduleId) -> dict[str, Any]:
    """Delete a pipeline schedule (its owner or a Maintainer). Pipelines it already ran stay."""
    await gitlab().delete(f"{_schedules(project)}/{schedule_id}", what=f"Pipeline schedule {schedule_id} in {project}")
    return {"deleted": True, "schedule_id": schedule_id}


@tool(WRITE, "pipelines", routes=("POST /projects/:id/pipeline_schedules/:pipeline_schedule_id/play",))
async def run_pipeline_schedule(project: ProjectRef, schedule_id: ScheduleId) -> dict[str, Any]:
    """Run a pipeline schedule now (Developer role); its next scheduled run is unchanged."""
    await gitlab().post(
        f"{_schedules(project)}/{schedule_id}/play", what=f"Pipeline schedule {schedule_id} in {project}"
    )
    # GitLab queues the run and answers 201 {"message": "201 Created"} without the pipeline.
    return {"started": True, "schedule_id": schedule_id, "hint": "Find it with list_pipelines(source='schedule')."}
