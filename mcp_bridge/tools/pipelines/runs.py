"""Pipelines: find one, read it and the variables it ran with, start, retry, cancel or delete it
(doc/api/pipelines.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick

PipelineId = Annotated[int, Field(description="Pipeline id (the number in .../-/pipelines/<id>).", ge=1)]


# doc/api/pipelines.md#list-project-pipelines
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
    return await listed(
        f"/projects/{path_id(project)}/pipelines", f"Pipelines of {project}", page, per_page, LIST_FIELDS, params
    )


@tool(READ, "pipelines", routes=("GET /projects/:id/pipelines/:pipeline_id",))
async def get_pipeline(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Get one CI/CD pipeline: status, ref, SHA, who triggered it, timings, duration, coverage and URL.
    Use list_pipeline_jobs next to see which of its jobs failed."""
    data = await gitlab().get(pipeline_path(project, pipeline_id), what=f"Pipeline {pipeline_id} in {project}")
    return pipeline_summary(data)


def pipeline_summary(data: dict[str, Any]) -> dict[str, Any]:
    result = pick(data, DETAIL_FIELDS)
    if isinstance(result.get("detailed_status"), dict):
        # "passed with warnings", "failed", … : what the GitLab UI shows; the icon and paths are noise.
        result["detailed_status"] = result["detailed_status"].get("label")
    return result


def pipeline_path(project: str, pipeline_id: int) -> str:
    return f"/projects/{path_id(project)}/pipelines/{pipeline_id}"


class PipelineVariable(BaseModel):
    key: str = Field(description="Variable name, e.g. DEPLOY_ENV.", min_length=1)
    value: str = Field(description="Its value.")
    variable_type: Literal["env_var", "file"] = "env_var"


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
        f"{pipeline_path(project, pipeline_id)}/retry", what=f"Pipeline {pipeline_id} in {project}"
    )
    return pipeline_summary(data)


@tool(DESTRUCTIVE, "pipelines", routes=("POST /projects/:id/pipelines/:pipeline_id/cancel",))
async def cancel_pipeline(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Cancel a pipeline's pending and running jobs. Returns the pipeline with its new status."""
    data = await gitlab().post(
        f"{pipeline_path(project, pipeline_id)}/cancel", what=f"Pipeline {pipeline_id} in {project}"
    )
    return pipeline_summary(data)


@tool(DESTRUCTIVE, "pipelines", routes=("DELETE /projects/:id/pipelines/:pipeline_id",))
async def delete_pipeline(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Delete a pipeline with its jobs, logs and artifacts (Owner role). Cannot be undone."""
    await gitlab().delete(pipeline_path(project, pipeline_id), what=f"Pipeline {pipeline_id} in {project}")
    return {"deleted": True, "pipeline_id": pipeline_id}


@tool(READ, "pipelines", routes=("GET /projects/:id/pipelines/:pipeline_id/variables",))
async def list_pipeline_variables(
    project: ProjectRef,
    pipeline_id: Annotated[int, Field(description="Pipeline id (the number in .../-/pipelines/<id>).", ge=1)],
    page: Page = 1,
    per_page: PerPage = 100,
) -> dict[str, Any]:
    """The variables a pipeline was started with (by API, schedule or trigger; Developer role).
    Masked or hidden values are never shown."""
    items, meta = await gitlab().page(
        f"/projects/{path_id(project)}/pipelines/{pipeline_id}/variables",
        what=f"Pipeline {pipeline_id} in {project}",
        page=page,
        per_page=per_page,
    )
    variables = []
    for item in items:
        variable = pick(item, ("key", "variable_type", "value"))
        if item.get("masked") or item.get("hidden"):
            variable["value"] = None
        variables.append(variable)
    return {"items": variables, **meta}
