"""Branches and tags, and their protection (doc/api/branches.md, protected_branches.md, tags.md,
protected_tags.md). Access levels: 0 no one, 30 developers and maintainers, 40 maintainers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef, Ref
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick

BRANCH_FIELDS = ("name", "default", "protected", "merged", "developers_can_push", "web_url", "commit")
DETAIL_FIELDS = (*BRANCH_FIELDS, "developers_can_merge", "can_push")
COMMIT_FIELDS = ("short_id", "title", "committed_date")
TAG_FIELDS = ("name", "message", "target", "protected", "created_at", "commit")

BranchName = Annotated[str, Field(description="Branch name, e.g. 'feature/login'.", min_length=1)]
TagName = Annotated[str, Field(description="Tag name, e.g. 'v1.2.0'.", min_length=1)]
RuleName = Annotated[str, Field(description="Name or wildcard, e.g. 'main' or 'release/*'.", min_length=1)]
Search = Annotated[
    str | None, Field(description="Text in the name; '^text' for names starting with it, 'text$' ending.")
]
Level = Literal[0, 30, 40]


def _with_commit(item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    out = pick(item, fields)
    if "commit" in out:
        out["commit"] = pick(out["commit"] or {}, COMMIT_FIELDS)
    return out


def _url(project: str, *parts: str) -> str:
    return "/".join((f"/projects/{path_id(project)}", *parts))


# --- branches -------------------------------------------------------------------------------------
@tool(READ, "branches", routes=("GET /projects/:id/repository/branches",))
async def list_branches(
    project: ProjectRef, search: Search = None, page: Page = 1, per_page: PerPage = 20
) -> dict[str, Any]:
    """List a project's branches by name: which is the default, which are protected or already merged,
    and the latest commit on each."""
    return await listed(
        _url(project, "repository/branches"),
        f"Branches of {project}",
        page,
        per_page,
        lambda b: _with_commit(b, BRANCH_FIELDS),
        {"search": search},
    )


@tool(READ, "branches", routes=("GET /projects/:id/repository/branches/:branch",))
async def get_branch(project: ProjectRef, branch: BranchName) -> dict[str, Any]:
    """Get one branch: its head commit, whether it is protected, merged or the default, and whether you
    can push to it."""
    data = await gitlab().get(
        _url(project, "repository/branches", path_id(branch)), what=f"Branch {branch} in {project}"
    )
    return _with_commit(data, DETAIL_FIELDS)


@tool(WRITE, "branches", routes=("POST /projects/:id/repository/branches",))
async def create_branch(project: ProjectRef, branch: BranchName, ref: Ref) -> dict[str, Any]:
    """Create a branch from a branch, tag or commit. Returns the new branch."""
    data = await gitlab().post(
        _url(project, "repository/branches"), what=f"Branch {branch} in {project}", json={"branch": branch, "ref": ref}
    )
    return _with_commit(data, DETAIL_FIELDS)


@tool(DESTRUCTIVE, "branches", routes=("DELETE /projects/:id/repository/branches/:branch",))
async def delete_branch(project: ProjectRef, branch: BranchName) -> dict[str, Any]:
    """Delete a branch (not the default one; a protected one needs a maintainer)."""
    await gitlab().delete(_url(project, "repository/branches", path_id(branch)), what=f"Branch {branch} in {project}")
    return {"deleted": branch}


@tool(DESTRUCTIVE, "branches", routes=("DELETE /projects/:id/repository/merged_branches",))
async def delete_merged_branches(project: ProjectRef) -> dict[str, Any]:
    """Delete every branch already merged into the default branch, except protected ones and those of
    open merge requests. GitLab does it in the background."""
    await gitlab().delete(_url(project, "repository/merged_branches"), what=f"Project {project}")
    return {"accepted": True, "hint": "GitLab deletes them in the background; list_branches shows the result."}


# --- protected branches ---------------------------------------------------------------------------
def _rule(data: dict[str, Any], *kinds: str) -> dict[str, Any]:
    """A protection rule with its access levels as descriptions ("Maintainers", "No one"…)."""
    rule = pick(data, ("name", "allow_force_push"))
    for kind in kinds:
        rule[kind] = [level.get("access_level_description") for level in data.get(f"{kind}_access_levels") or []]
    return rule


@tool(READ, "branches", routes=("GET /projects/:id/protected_branches",))
async def list_protected_branches(
    project: ProjectRef,
    search: Annotated[str | None, Field(description="Text in the rule's name.")] = None,
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's branch protection rules (names or wildcards): who may push and merge, and
    whether force push is allowed."""
    return await listed(
        _url(project, "protected_branches"),
        f"Protected branches of {project}",
        page,
        per_page,
        lambda item: _rule(item, "push", "merge"),
        {"search": search},
    )


@tool(WRITE, "branches", routes=("POST /projects/:id/protected_branches",))
async def protect_branch(
    project: ProjectRef,
    name: RuleName,
    push_access_level: Annotated[Level, Field(description="Who may push: 0, 30 or 40 (see above).")] = 40,
    merge_access_level: Annotated[Level, Field(description="Who may merge: 0, 30 or 40.")] = 40,
    allow_force_push: Annotated[bool, Field(description="Let those who can push also force push.")] = False,
) -> dict[str, Any]:
    """Protect a branch or wildcard: who may push and merge (0 no one, 30 developers and maintainers,
    40 maintainers). Needs the maintainer role."""
    body = {"name": name, "push_access_level": push_access_level, "merge_access_level": merge_access_level}
    data = await gitlab().post(
        _url(project, "protected_branches"),
        what=f"Protected branch {name} in {project}",
        json=body | {"allow_force_push": allow_force_push},
    )
    return _rule(data, "push", "merge")


@tool(DESTRUCTIVE, "branches", routes=("DELETE /projects/:id/protected_branches/:name",))
async def unprotect_branch(project: ProjectRef, name: RuleName) -> dict[str, Any]:
    """Remove a branch protection rule (as listed by list_protected_branches). Needs the maintainer role."""
    await gitlab().delete(
        _url(project, "protected_branches", path_id(name)), what=f"Protected branch {name} in {project}"
    )
    return {"unprotected": name}


# --- tags -----------------------------------------------------------------------------------------
@tool(READ, "branches", routes=("GET /projects/:id/repository/tags",))
async def list_tags(
    project: ProjectRef,
    search: Search = None,
    order_by: Literal["updated", "name", "version"] = "updated",
    sort: Literal["desc", "asc"] = "desc",
    page: Page = 1,
    per_page: PerPage = 20,
) -> dict[str, Any]:
    """List a project's tags, newest first: name, annotation message, protection and the tagged commit."""
    return await listed(
        _url(project, "repository/tags"),
        f"Tags of {project}",
        page,
        per_page,
        lambda t: _with_commit(t, TAG_FIELDS),
        {"search": search, "order_by": order_by, "sort": sort},
    )


@tool(READ, "branches", routes=("GET /projects/:id/repository/tags/:tag_name",))
async def get_tag(project: ProjectRef, tag_name: TagName) -> dict[str, Any]:
    """Get one tag: its message (annotated tags), the tagged commit, protection and its release if any."""
    data = await gitlab().get(_url(project, "repository/tags", path_id(tag_name)), what=f"Tag {tag_name} in {project}")
    tag = _with_commit(data, TAG_FIELDS)
    tag["release"] = pick(data["release"], ("tag_name", "description")) if data.get("release") else None
    return tag


@tool(WRITE, "branches", routes=("POST /projects/:id/repository/tags",))
async def create_tag(
    project: ProjectRef,
    tag_name: TagName,
    ref: Ref,
    message: Annotated[str | None, Field(description="Makes an annotated tag with this message.")] = None,
) -> dict[str, Any]:
    """Create a tag at a branch, tag or commit; with a message it is an annotated tag."""
    data = await gitlab().post(
        _url(project, "repository/tags"),
        what=f"Tag {tag_name} in {project}",
        json={"tag_name": tag_name, "ref": ref, "message": message},
    )
    return _with_commit(data, TAG_FIELDS)


@tool(DESTRUCTIVE, "branches", routes=("DELETE /projects/:id/repository/tags/:tag_name",))
async def delete_tag(project: ProjectRef, tag_name: TagName) -> dict[str, Any]:
    """Delete a tag (a protected one needs a maintainer)."""
    await gitlab().delete(_url(project, "repository/tags", path_id(tag_name)), what=f"Tag {tag_name} in {project}")
    return {"deleted": tag_name}


# --- protected tags -------------------------------------------------------------------------------
@tool(READ, "branches", routes=("GET /projects/:id/protected_tags",))
async def list_protected_tags(project: ProjectRef, page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    """List a project's tag protection rules (names or wildcards) and who may create such tags.
    Needs the maintainer role."""
    return await listed(
        _url(project, "protected_tags"),
        f"Protected tags of {project}",
        page,
        per_page,
        lambda item: _rule(item, "create"),
    )


@tool(WRITE, "branches", routes=("POST /projects/:id/protected_tags",))
async def protect_tag(
    project: ProjectRef,
    name: RuleName,
    create_access_level: Annotated[Level, Field(description="Who may create: 0, 30 or 40.")] = 40,
) -> dict[str, Any]:
    """Protect a tag or wildcard (e.g. 'v*'): who may create such tags (0 no one, 30 developers and
    maintainers, 40 maintainers). Needs the maintainer role."""
    data = await gitlab().post(
        _url(project, "protected_tags"),
        what=f"Protected tag {name} in {project}",
        json={"name": name, "create_access_level": create_access_level},
    )
    return _rule(data, "create")


@tool(DESTRUCTIVE, "branches", routes=("DELETE /projects/:id/protected_tags/:name",))
async def unprotect_tag(project: ProjectRef, name: RuleName) -> dict[str, Any]:
    """Remove a tag protection rule (as listed by list_protected_tags). Needs the maintainer role."""
    await gitlab().delete(_url(project, "protected_tags", path_id(name)), what=f"Protected tag {name} in {project}")
    return {"unprotected": name}
