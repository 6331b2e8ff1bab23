"""Pipelines and jobs: find a pipeline, see which jobs failed, read a job's log."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import path_id
from mcp_bridge.toolkit import READ, Page, PerPage, ProjectRef, gitlab, line_window, listing, pick, tool

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


@tool(READ, "pipelines")
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


@tool(READ, "pipelines")
async def get_pipeline(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Get one CI/CD pipeline: status, ref, SHA, who triggered it, timings, duration, coverage and URL.
    Use list_pipeline_jobs next to see which of its jobs failed."""
    data = await gitlab().get(
        f"/projects/{path_id(project)}/pipelines/{pipeline_id}", what=f"Pipeline {pipeline_id} in {project}"
    )
    result = pick(data, DETAIL_FIELDS)
    if isinstance(result.get("detailed_status"), dict):
        # "passed with warnings", "failed", … : what the GitLab UI shows; the icon and paths are noise.
        result["detailed_status"] = result["detailed_status"].get("label")
    return result


@tool(READ, "pipelines")
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


@tool(READ, "pipelines")
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
