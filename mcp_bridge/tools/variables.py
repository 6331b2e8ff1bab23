"""CI/CD variables of projects and groups (doc/api/project_level_variables.md, group_level_variables.md).

Secrets stay secret: the value of a masked or hidden variable is never returned, by any tool,
whatever GitLab sends (GitLab returns masked values to maintainers); it becomes null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import pick
from mcp_bridge.tools.parents import Parent

FIELDS = ("key", "value", "variable_type", "protected", "masked", "hidden", "raw", "environment_scope", "description")

GroupRef = Annotated[str, Field(description="Group id or full path, e.g. 'my-group/subgroup'.", min_length=1)]
Key = Annotated[str, Field(description="Variable name: letters, digits and _.", min_length=1, max_length=255)]
Value = Annotated[str, Field(description="The value. Masked values: 8+ chars, no spaces.")]
Scope = Annotated[
    str | None, Field(description="Environment scope that picks the variable when its key is in several.")
]
NewScope = Annotated[str | None, Field(description="Environment scope, e.g. 'production' or '*' (all).")]
VariableType = Annotated[
    Literal["env_var", "file"] | None, Field(description="env_var, or file (value written to a temp file).")
]
Protected = Annotated[bool | None, Field(description="Only in pipelines on protected branches and tags.")]
Masked = Annotated[bool | None, Field(description="Hide the value in job logs.")]
Raw = Annotated[bool | None, Field(description="Do not expand $VARIABLES inside the value.")]
Description = Annotated[str | None, Field(description="What the variable is for.", max_length=255)]


def secret_safe(data: dict[str, Any]) -> dict[str, Any]:
    """A variable without the value of a masked or hidden one (GitLab does send masked values)."""
    variable = pick(data, FIELDS)
    if variable.get("masked") or variable.get("hidden") or "masked" not in variable:
        variable["value"] = None
    return variable


def _filter(scope: str | None) -> dict[str, Any] | None:
    # GitLab answers 409 when a key exists in several scopes and no filter[environment_scope] is given.
    return {"filter[environment_scope]": scope} if scope else None


# One implementation for project and group variables.
async def _list(parent: Parent, page: int, per_page: int) -> dict[str, Any]:
    path, what = f"{parent.path}/variables", f"Variables of {parent.name}"
    items, meta = await gitlab().page(path, what=what, page=page, per_page=per_page)
    return {"items": [secret_safe(item) for item in items], **meta}


async def _get(parent: Parent, key: str, scope: str | None) -> dict[str, Any]:
    path, what = f"{parent.path}/variables/{path_id(key)}", f"Variable {key} in {parent.name}"
    return secret_safe(await gitlab().get(path, what=what, params=_filter(scope)))


async def _create(parent: Parent, key: str, **fields: Any) -> dict[str, Any]:
    path, what = f"{parent.path}/variables", f"Variable {key} in {parent.name}"
    return secret_safe(await gitlab().post(path, what=what, json={"key": key, **fields}))


async def _update(parent: Parent, key: str, scope: str | None, **fields: Any) -> dict[str, Any]:
    body = {**fields, "filter": {"environment_scope": scope}} if scope else fields
    path, what = f"{parent.path}/variables/{path_id(key)}", f"Variable {key} in {parent.name}"
    return secret_safe(await gitlab().put(path, what=what, json=body))


async def _delete(parent: Parent, key: str, scope: str | None) -> dict[str, Any]:
    # The scope filter goes in the query string (doc/api/project_level_variables.md).
    path, what = f"{parent.path}/variables/{path_id(key)}", f"Variable {key} in {parent.name}"
    await gitlab().delete(path, what=what, params=_filter(scope))
    return {"deleted": True, "key": key, "environment_scope": scope}


# --- project variables -------------------------------------------------------------------------
@tool(READ, "variables", routes=("GET /projects/:id/variables",))
async def list_project_variables(project: ProjectRef, page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    """List a project's CI/CD variables (Maintainer role). Values of masked or hidden variables are
    never shown (null)."""
    return await _list(Parent.project(project), page, per_page)


@tool(READ, "variables", routes=("GET /projects/:id/variables/:key",))
async def get_project_variable(project: ProjectRef, key: Key, environment_scope: Scope = None) -> dict[str, Any]:
    """Get one CI/CD variable of a project: type, flags and scope; the value only when it is neither
    masked nor hidden."""
    return await _get(Parent.project(project), key, environment_scope)


@tool(WRITE, "variables", routes=("POST /projects/:id/variables",))
async def create_project_variable(
    project: ProjectRef,
    key: Key,
    value: Value,
    variable_type: VariableType = None,
    protected: Protected = None,
    masked: Masked = None,
    masked_and_hidden: Annotated[bool | None, Field(description="Masked, and never shown again in GitLab.")] = None,
    raw: Raw = None,
    environment_scope: NewScope = None,
    description: Description = None,
) -> dict[str, Any]:
    """Add a CI/CD variable to a project (Maintainer role). Returns it; a masked or hidden value is
    not echoed back."""
    return await _create(
        Parent.project(project),
        key,
        value=value,
        variable_type=variable_type,
        protected=protected,
        masked=masked,
        masked_and_hidden=masked_and_hidden,
        raw=raw,
        environment_scope=environment_scope,
        description=description,
    )


@tool(WRITE, "variables", routes=("PUT /projects/:id/variables/:key",))
async def update_project_variable(
    project: ProjectRef,
    key: Key,
    value: Annotated[str | None, Field(description="New value; kept if omitted.")] = None,
    environment_scope: Scope = None,
    new_environment_scope: NewScope = None,
    variable_type: VariableType = None,
    protected: Protected = None,
    masked: Masked = None,
    raw: Raw = None,
    description: Description = None,
) -> dict[str, Any]:
    """Change a project's CI/CD variable; omitted fields stay as they are. A masked or hidden value
    is not echoed back."""
    return await _update(
        Parent.project(project),
        key,
        environment_scope,
        value=value,
        variable_type=variable_type,
        protected=protected,
        masked=masked,
        raw=raw,
        environment_scope=new_environment_scope,
        description=description,
    )


@tool(DESTRUCTIVE, "variables", routes=("DELETE /projects/:id/variables/:key",))
async def delete_project_variable(project: ProjectRef, key: Key, environment_scope: Scope = None) -> dict[str, Any]:
    """Delete a CI/CD variable from a project (Maintainer role); pipelines lose it at once."""
    return await _delete(Parent.project(project), key, environment_scope)


# --- group variables ---------------------------------------------------------------------------
@tool(READ, "variables", routes=("GET /groups/:id/variables",))
async def list_group_variables(group: GroupRef, page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    """List a group's CI/CD variables, inherited by its projects (Owner role). Values of masked or
    hidden variables are never shown (null)."""
    return await _list(Parent.group(group), page, per_page)


@tool(READ, "variables", routes=("GET /groups/:id/variables/:key",))
async def get_group_variable(group: GroupRef, key: Key, environment_scope: Scope = None) -> dict[str, Any]:
    """Get one CI/CD variable of a group: type, flags and scope; the value only when it is neither
    masked nor hidden."""
    return await _get(Parent.group(group), key, environment_scope)


@tool(WRITE, "variables", routes=("POST /groups/:id/variables",))
async def create_group_variable(
    group: GroupRef,
    key: Key,
    value: Value,
    variable_type: VariableType = None,
    protected: Protected = None,
    masked: Masked = None,
    masked_and_hidden: Annotated[bool | None, Field(description="Masked, and never shown again in GitLab.")] = None,
    raw: Raw = None,
    environment_scope: NewScope = None,
    description: Description = None,
) -> dict[str, Any]:
    """Add a CI/CD variable to a group, for all its projects (Owner role). Returns it; a masked or
    hidden value is not echoed back."""
    return await _create(
        Parent.group(group),
        key,
        value=value,
        variable_type=variable_type,
        protected=protected,
        masked=masked,
        masked_and_hidden=masked_and_hidden,
        raw=raw,
        environment_scope=environment_scope,
        description=description,
    )


@tool(WRITE, "variables", routes=("PUT /groups/:id/variables/:key",))
async def update_group_variable(
    group: GroupRef,
    key: Key,
    value: Annotated[str | None, Field(description="New value; kept if omitted.")] = None,
    environment_scope: Scope = None,
    new_environment_scope: NewScope = None,
    variable_type: VariableType = None,
    protected: Protected = None,
    masked: Masked = None,
    raw: Raw = None,
    description: Description = None,
) -> dict[str, Any]:
    """Change a group's CI/CD variable; omitted fields stay as they are. A masked or hidden value is
    not echoed back."""
    return await _update(
        Parent.group(group),
        key,
        environment_scope,
        value=value,
        variable_type=variable_type,
        protected=protected,
        masked=masked,
        raw=raw,
        environment_scope=new_environment_scope,
        description=description,
    )


@tool(DESTRUCTIVE, "variables", routes=("DELETE /groups/:id/variables/:key",))
async def delete_group_variable(group: GroupRef, key: Key, environment_scope: Scope = None) -> dict[str, Any]:
    """Delete a CI/CD variable from a group (Owner role); its projects' pipelines lose it at once."""
    return await _delete(Parent.group(group), key, environment_scope)
