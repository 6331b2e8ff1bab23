"""Simulated GitLab API: project and group CI/CD variables (doc/api/project_level_variables.md,
doc/api/group_level_variables.md).

Rows live in world.table("ci_variables") in GitLab's JSON shape plus `owner` ("project"/"group") and
`owner_id`. Project variables need the Maintainer role, group variables the Owner role
(admin_cicd_variables in project_policy.rb / group_policy.rb); others get 403.
Hidden variables come back with value null, masked ones with their value (as GitLab does).

Group roles and visibility come from the groups area (alice is a maintainer of acme, bob the owner
of labs). Seed: acme/app has DATABASE_URL, API_TOKEN (masked), DEPLOY_KEY (masked and hidden),
KUBECONFIG (file) and DEPLOY_ENV in two scopes (production, staging); bob/secret has BOB_VAR; the acme
group has ACME_REGION; the labs group has REGISTRY_URL, GROUP_TOKEN (masked) and SIGNING_KEY (hidden).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas import groups
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import Call, Router, error, forbidden, invalid_value, missing_param, not_found, paginate
from tests.gitlab_sim.world import MAINTAINER, OWNER, World

Variable = dict[str, Any]
FIELDS = ("variable_type", "key", "value", "hidden", "protected", "masked", "raw", "environment_scope", "description")
TYPES = ("env_var", "file")
KEY = re.compile(r"\A[a-zA-Z0-9_]+\Z")
# Ci::Maskable: REGEX for expanded values, MASK_AND_RAW_REGEX for raw ones.
MASKABLE = re.compile(r"\A[a-zA-Z0-9_+=/@:.~-]{8,}\Z")
MASKABLE_RAW = re.compile(r"\A\S{8,}\Z")
MULTIPLE = "There are multiple variables with provided parameters. Please use 'filter[environment_scope]'"


def register(router: Router) -> None:
    for kind in ("projects", "groups"):
        router.route("GET", f"/{kind}/:id/variables")(list_variables)
        router.route("POST", f"/{kind}/:id/variables")(create_variable)
        router.route("GET", f"/{kind}/:id/variables/:key")(get_variable)
        router.route("PUT", f"/{kind}/:id/variables/:key")(update_variable)
        router.route("DELETE", f"/{kind}/:id/variables/:key")(delete_variable)


def readable_group(call: Call) -> dict[str, Any] | None:
    """The group named in the path (id or full path), or None when missing or hidden from the caller.
    (Kept for the labels area, which imports it; the rules are the groups area's.)"""
    group = groups.find_group(call.world, call.params["id"])
    if group is None or not groups.can_read_group(call.world, call.user_id, group):
        return None
    return group


def container(call: Call) -> tuple[str, dict[str, Any] | None, int]:
    """("project" or "group", the readable container or None, the caller's role in it); the wiki
    area shares it. Groups follow the groups area's rules (inherited roles, visibility)."""
    world = call.world
    if call.request.url.path.startswith("/api/v4/groups/"):
        group = readable_group(call)
        return "group", group, groups.group_level(world, call.user_id, group) if group else 0
    project = readable_project(call)
    return "project", project, world.access_level(call.user_id, project["id"]) if project else 0


# --- variables ---------------------------------------------------------------------------------
def present(var: Variable) -> Variable:
    """Entities::Ci::Variable: a hidden variable's value is never sent (Ci::VariableValue)."""
    out = {k: var[k] for k in FIELDS}
    if var["hidden"]:
        out["value"] = None
    return out


def authorized(call: Call) -> tuple[str, dict[str, Any]] | Response:
    """The container when the caller may manage its variables; else GitLab's 404 or 403."""
    kind, owner, level = container(call)
    if owner is None:
        return not_found(kind.capitalize())
    if level < (MAINTAINER if kind == "project" else OWNER):
        return forbidden()
    return kind, owner


def variables_of(call: Call, kind: str, owner: dict[str, Any]) -> list[Variable]:
    rows = call.world.table("ci_variables")
    return [v for v in rows if v["owner"] == kind and v["owner_id"] == owner["id"]]


def scope_filter(call: Call) -> str | None:
    """filter[environment_scope], from the query string or a JSON body's {"filter": {...}}."""
    body_filter = call.body.get("filter")
    if isinstance(body_filter, dict) and "environment_scope" in body_filter:
        return str(body_filter["environment_scope"])
    return call.query.get("filter[environment_scope]")


def find(call: Call, kind: str, owner: dict[str, Any], *, first: bool = False) -> Variable | Response:
    """VariablesHelpers#find_variable: 404 when none, 409 when the key exists in several scopes
    (unless `first`: a group PUT without a filter takes the first, for compatibility)."""
    scope = scope_filter(call)
    found = [v for v in variables_of(call, kind, owner) if v["key"] == call.params["key"]]
    found = [v for v in found if scope is None or v["environment_scope"] == scope]
    if not found:
        return not_found("GroupVariable" if kind == "group" else "Variable")
    if len(found) > 1 and not first:
        return error(409, MULTIPLE)
    return found[0]


def invalid(call: Call, kind: str, owner: dict[str, Any], var: Variable, current: Variable | None) -> Response | None:
    """The model validations, rendered as GitLab's 400 {"message": {field: [errors]}}."""
    errors: dict[str, list[str]] = {}
    if not KEY.match(var["key"]) or len(var["key"]) > 255:
        errors["key"] = ["can contain only letters, digits and '_'."]
    taken = any(
        v is not current and v["key"] == var["key"] and v["environment_scope"] == var["environment_scope"]
        for v in variables_of(call, kind, owner)
    )
    if taken:
        errors.setdefault("key", []).append(f"({var['key']}) has already been taken")
    if var["masked"] and not (MASKABLE_RAW if var["raw"] else MASKABLE).match(var["value"] or ""):
        errors["value"] = ["is invalid"]
    if var["description"] is not None and len(var["description"]) > 255:
        errors["description"] = ["is too long (maximum is 255 characters)"]
    return error(400, errors) if errors else None


async def list_variables(call: Call) -> Response:
    allowed = authorized(call)
    if isinstance(allowed, Response):
        return allowed
    kind, owner = allowed
    return paginate(call, [present(v) for v in variables_of(call, kind, owner)])


async def get_variable(call: Call) -> Response:
    allowed = authorized(call)
    if isinstance(allowed, Response):
        return allowed
    kind, owner = allowed
    found = find(call, kind, owner)
    return found if isinstance(found, Response) else JSONResponse(present(found))


async def create_variable(call: Call) -> Response:
    allowed = authorized(call)
    if isinstance(allowed, Response):
        return allowed
    kind, owner = allowed
    for name in ("key", "value"):
        if call.arg(name) is None:
            return missing_param(name)
    variable_type = call.arg("variable_type", "env_var")
    if variable_type not in TYPES:
        return invalid_value("variable_type")
    hidden = bool(call.flag("masked_and_hidden"))
    var: Variable = {
        "owner": kind,
        "owner_id": owner["id"],
        "key": str(call.arg("key")),
        "value": str(call.arg("value")),
    }
    var |= {"variable_type": variable_type, "hidden": hidden, "masked": hidden or bool(call.flag("masked"))}
    var |= {"protected": bool(call.flag("protected")), "raw": bool(call.flag("raw"))}
    var |= {"environment_scope": call.arg("environment_scope") or "*", "description": call.arg("description")}
    problem = invalid(call, kind, owner, var, None)
    if problem is not None:
        return problem
    call.world.table("ci_variables").append(var)
    return JSONResponse(present(var), status_code=201)


async def update_variable(call: Call) -> Response:
    allowed = authorized(call)
    if isinstance(allowed, Response):
        return allowed
    kind, owner = allowed
    # lib/api/group_variables.rb: without a filter, a group PUT does not check for several scopes.
    found = find(call, kind, owner, first=kind == "group" and scope_filter(call) is None)
    if isinstance(found, Response):
        return found
    variable_type = call.arg("variable_type", found["variable_type"])
    if variable_type not in TYPES:
        return invalid_value("variable_type")
    changed = {**found, "variable_type": variable_type}
    for name in ("value", "environment_scope", "description"):
        if call.arg(name) is not None:
            changed[name] = str(call.arg(name))
    for name in ("protected", "masked", "raw"):
        if call.flag(name) is not None:
            changed[name] = call.flag(name)
    problem = invalid(call, kind, owner, changed, found)
    if problem is not None:
        return problem
    found.update(changed)
    return JSONResponse(present(found))


async def delete_variable(call: Call) -> Response:
    allowed = authorized(call)
    if isinstance(allowed, Response):
        return allowed
    kind, owner = allowed
    found = find(call, kind, owner)
    if isinstance(found, Response):
        return found
    call.world.table("ci_variables").remove(found)
    return Response(status_code=204)


# --- seed --------------------------------------------------------------------------------------
def seed(world: World) -> None:
    rows = world.table("ci_variables")
    for owner, owner_id, key, value, extra in (
        ("project", 101, "DATABASE_URL", "postgres://db.internal:5432/app", {}),
        ("project", 101, "API_TOKEN", "glpat-Sup3rS3cretApiTok3n", {"masked": True, "protected": True}),
        ("project", 101, "DEPLOY_KEY", "hidden-deploy-key-0123456789", {"masked": True, "hidden": True}),
        ("project", 101, "KUBECONFIG", "apiVersion: v1\nkind: Config\n", {"variable_type": "file"}),
        ("project", 101, "DEPLOY_ENV", "prod", {"environment_scope": "production"}),
        ("project", 101, "DEPLOY_ENV", "stage", {"environment_scope": "staging"}),
        ("project", 104, "BOB_VAR", "bob-value", {}),
        ("group", 10, "ACME_REGION", "eu-west-1", {}),
        ("group", 12, "REGISTRY_URL", "registry.labs.example", {"description": "Where images go"}),
        ("group", 12, "GROUP_TOKEN", "gr0up-t0ken-ABCDEFGH", {"masked": True}),
        ("group", 12, "SIGNING_KEY", "hidden-signing-key-0123", {"masked": True, "hidden": True}),
    ):
        var: Variable = {"owner": owner, "owner_id": owner_id, "variable_type": "env_var", "key": key, "value": value}
        var |= {"hidden": False, "protected": False, "masked": False, "raw": False}
        var |= {"environment_scope": "*", "description": None}
        rows.append(var | extra)
