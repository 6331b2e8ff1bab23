"""CI/CD variables of projects and groups (doc/api/project_level_variables.md, group_level_variables.md).

Secrets stay secret: the value of a masked or hidden variable is never returned, by any tool,
whatever GitLab sends (GitLab returns masked values to maintainers); it becomes null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE
from mcp_bridge.shaping import listed, pick
from mcp_bridge.tools.parents import Parent, Twin, twins

FIELDS = ("key", "value", "variable_type", "protected", "masked", "hidden", "raw", "environment_scope", "description")

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


def _variable(parent: Parent, key: str) -> tuple[str, str]:
    """One variable's API path, and how error messages name it."""
    return f"{parent.path}/variables/{path_id(key)}", f"Variable {key} in {parent.name}"


# Each implementation below is two tools, one on projects and one on groups (tools/parents.py).
@twins(
    READ,
    "variables",
    routes=("GET /{parents}/:id/variables",),
    project=Twin(
        "list_project_variables",
        "List a project's CI/CD variables (Maintainer role). Values of masked or hidden variables are "
        "never shown (null).",
    ),
    group=Twin(
        "list_group_variables",
        "List a group's CI/CD variables, inherited by its projects (Owner role). Values of masked or "
        "hidden variables are never shown (null).",
    ),
)
async def list_variables(parent: Parent, page: Page = 1, per_page: PerPage = 50) -> dict[str, Any]:
    path, what = f"{parent.path}/variables", f"Variables of {parent.name}"
    return await listed(path, what, page, per_page, secret_safe)


@twins(
    READ,
    "variables",
    routes=("GET /{parents}/:id/variables/:key",),
    project=Twin(
        "get_project_variable",
        "Get one CI/CD variable of a project: type, flags and scope; the value only when it is neither "
        "masked nor hidden.",
    ),
    group=Twin(
        "get_group_variable",
        "Get one CI/CD variable of a group: type, flags and scope; the value only when it is neither "
        "masked nor hidden.",
    ),
)
async def get_variable(parent: Parent, key: Key, environment_scope: Scope = None) -> dict[str, Any]:
    path, what = _variable(parent, key)
    return secret_safe(await gitlab().get(path, what=what, params=_filter(environment_scope)))


@twins(
    WRITE,
    "variables",
    routes=("POST /{parents}/:id/variables",),
    project=Twin(
        "create_project_variable",
        "Add a CI/CD variable to a project (Maintainer role). Returns it; a masked or hidden value is not echoed back.",
    ),
    group=Twin(
        "create_group_variable",
        "Add a CI/CD variable to a group, for all its projects (Owner role). Returns it; a masked or "
        "hidden value is not echoed back.",
    ),
)
async def create_variable(
    parent: Parent,
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
    body = {
        "key": key,
        "value": value,
        "variable_type": variable_type,
        "protected": protected,
        "masked": masked,
        "masked_and_hidden": masked_and_hidden,
        "raw": raw,
        "environment_scope": environment_scope,
        "description": description,
    }
    path, what = f"{parent.path}/variables", f"Variable {key} in {parent.name}"
    return secret_safe(await gitlab().post(path, what=what, json=body))


@twins(
    WRITE,
    "variables",
    routes=("PUT /{parents}/:id/variables/:key",),
    project=Twin(
        "update_project_variable",
        "Change a project's CI/CD variable; omitted fields stay as they are. A masked or hidden value "
        "is not echoed back.",
    ),
    group=Twin(
        "update_group_variable",
        "Change a group's CI/CD variable; omitted fields stay as they are. A masked or hidden value is "
        "not echoed back.",
    ),
)
async def update_variable(
    parent: Parent,
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
    body: dict[str, Any] = {
        "value": value,
        "variable_type": variable_type,
        "protected": protected,
        "masked": masked,
        "raw": raw,
        "environment_scope": new_environment_scope,
        "description": description,
    }
    if environment_scope:
        body["filter"] = {"environment_scope": environment_scope}
    path, what = _variable(parent, key)
    return secret_safe(await gitlab().put(path, what=what, json=body))


@twins(
    DESTRUCTIVE,
    "variables",
    routes=("DELETE /{parents}/:id/variables/:key",),
    project=Twin(
        "delete_project_variable",
        "Delete a CI/CD variable from a project (Maintainer role); pipelines lose it at once.",
    ),
    group=Twin(
        "delete_group_variable",
        "Delete a CI/CD variable from a group (Owner role); its projects' pipelines lose it at once.",
    ),
)
async def delete_variable(parent: Parent, key: Key, environment_scope: Scope = None) -> dict[str, Any]:
    # The scope filter goes in the query string (doc/api/project_level_variables.md).
    path, what = _variable(parent, key)
    await gitlab().delete(path, what=what, params=_filter(environment_scope))
    return {"deleted": True, "key": key, "environment_scope": environment_scope}
