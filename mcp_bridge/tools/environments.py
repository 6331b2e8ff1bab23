"""Environments and deployments: what is deployed where, and stopping an environment
(doc/api/environments.md, doc/api/deployments.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, tool
from mcp_bridge.shaping import listed, pick

EnvironmentId = Annotated[int, Field(description="Environment id (from list_environments).", ge=1)]
DeploymentId = Annotated[int, Field(description="Deployment id (from list_deployments).", ge=1)]

ENVIRONMENT_FIELDS = ("id", "name", "state", "tier", "external_url", "auto_stop_at", "updated_at")
DEPLOYMENT_FIELDS = ("id", "iid", "status", "ref", "sha", "user", "environment", "created_at", "updated_at")
DEPLOYABLE_FIELDS = ("id", "name", "stage", "status", "web_url")


def _deployment(data: dict[str, Any]) -> dict[str, Any]:
    """A deployment with its environment as a name and the deploying job (if any) trimmed."""
    deployment = pick(data, DEPLOYMENT_FIELDS)
    if isinstance(deployment.get("environment"), dict):
        deployment["environment"] = deployment["environment"].get("name")
    if isinstance(data.get("deployable"), dict):
        deployment["job"] = pick(data["deployable"], DEPLOYABLE_FIELDS)
    return deployment


@tool(READ, "environments", routes=("GET /projects/:id/environments",))
async def list_environments(
    project: ProjectRef,
    search: Annotated[str | None, Field(description="Name prefix, at least 3 characters.", min_length=3)] = None,
    states: Literal["available", "stopping", "stopped"] | None = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's environments (production, staging, review apps…): id, name, state, tier and URL,
    plus pagination. Use get_environment for what is deployed there."""
    return await listed(
        f"/projects/{path_id(project)}/environments",
        f"Environments of {project}",
        page,
        per_page,
        ENVIRONMENT_FIELDS,
        {"search": search, "states": states},
    )


@tool(READ, "environments", routes=("GET /projects/:id/environments/:environment_id",))
async def get_environment(project: ProjectRef, environment_id: EnvironmentId) -> dict[str, Any]:
    """Get one environment: state, tier, URL and its last successful deployment (ref, SHA, who, when)."""
    data = await gitlab().get(
        f"/projects/{path_id(project)}/environments/{environment_id}",
        what=f"Environment {environment_id} in {project}",
    )
    environment = pick(data, (*ENVIRONMENT_FIELDS, "description", "created_at"))
    last = data.get("last_deployment")
    environment["last_deployment"] = _deployment(last) if isinstance(last, dict) else None
    return environment


# DESTRUCTIVE: stopping runs the environment's on_stop job, which usually tears the deployment down
# (a review app, its database…); only a new deployment brings it back.
@tool(DESTRUCTIVE, "environments", routes=("POST /projects/:id/environments/:environment_id/stop",))
async def stop_environment(
    project: ProjectRef,
    environment_id: EnvironmentId,
    force: Annotated[bool, Field(description="Stop without running the on_stop job.")] = False,
) -> dict[str, Any]:
    """Stop an environment: runs its on_stop job (state 'stopping', then 'stopped'), which usually tears
    the deployment down. Returns the environment with its new state."""
    data = await gitlab().post(
        f"/projects/{path_id(project)}/environments/{environment_id}/stop",
        what=f"Environment {environment_id} in {project}",
        json={"force": force or None},
    )
    return pick(data, ENVIRONMENT_FIELDS)


@tool(READ, "environments", routes=("GET /projects/:id/deployments",))
async def list_deployments(
    project: ProjectRef,
    environment: Annotated[str | None, Field(description="Environment name, e.g. 'production'.")] = None,
    status: Literal["created", "running", "success", "failed", "canceled", "skipped", "blocked"] | None = None,
    order_by: Literal["id", "iid", "created_at", "updated_at", "ref"] = "id",
    sort: Literal["asc", "desc"] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's deployments, newest first: environment, status, ref, SHA, who deployed and when,
    plus pagination. Filter by environment name or status."""
    params = {"environment": environment, "status": status, "order_by": order_by, "sort": sort}
    return await listed(
        f"/projects/{path_id(project)}/deployments", f"Deployments of {project}", page, per_page, _deployment, params
    )


@tool(READ, "environments", routes=("GET /projects/:id/deployments/:deployment_id",))
async def get_deployment(project: ProjectRef, deployment_id: DeploymentId) -> dict[str, Any]:
    """Get one deployment: environment, status, ref, SHA, who deployed, when, and the CI job that ran it."""
    data = await gitlab().get(
        f"/projects/{path_id(project)}/deployments/{deployment_id}",
        what=f"Deployment {deployment_id} in {project}",
    )
    return _deployment(data)
