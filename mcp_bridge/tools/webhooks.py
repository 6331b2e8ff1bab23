"""Webhooks of projects and groups: read, add, change, remove and test them
(doc/api/project_webhooks.md, doc/api/group_webhooks.md). A hook's secret token is write-only:
GitLab never returns it and neither do these tools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import pick
from mcp_bridge.tools.parents import Parent

# The event kinds as GitLab's webhook form names them; the API fields are "<kind>_events".
ProjectEvent = Literal[
    "push",
    "tag_push",
    "merge_requests",
    "issues",
    "confidential_issues",
    "note",
    "confidential_note",
    "job",
    "pipeline",
    "wiki_page",
    "deployment",
    "releases",
    "milestone",
    "feature_flag",
    "emoji",
    "resource_access_token",
]
GroupEvent = Literal[ProjectEvent, "subgroup", "member", "project"]
PROJECT_EVENTS: tuple[str, ...] = get_args(ProjectEvent)
GROUP_EVENTS: tuple[str, ...] = (*PROJECT_EVENTS, "subgroup", "member", "project")

GroupRef = Annotated[str, Field(description="Group id or full path, e.g. 'my-group/sub'.", min_length=1)]
HookId = Annotated[int, Field(description="Webhook id (from the list tool).", ge=1)]
HookUrl = Annotated[str, Field(description="Where GitLab POSTs the events (http or https).", min_length=1)]
Name = Annotated[str | None, Field(description="Short name shown in GitLab.")]
Description = Annotated[str | None, Field(description="What the hook is for.")]
BranchFilter = Annotated[str | None, Field(description="Push events only for matching branches, e.g. 'main'.")]
SslVerification = Annotated[bool | None, Field(description="Verify the receiver's TLS certificate.")]
Token = Annotated[str | None, Field(description="Secret sent as X-Gitlab-Token; write-only, never shown.")]
EVENTS_HELP = "The events it fires on (exactly these)"

HOOK_FIELDS = (
    "id",
    "url",
    "name",
    "description",
    "project_id",
    "group_id",
    "push_events_branch_filter",
    "enable_ssl_verification",
    "token_present",
    "alert_status",
    "disabled_until",
    "created_at",
)


def _hook(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """A hook with its event booleans folded into one list; never its secret token."""
    return {**pick(data, HOOK_FIELDS), "events": [name for name in names if data.get(f"{name}_events")]}


def _body(events: Sequence[str] | None, names: tuple[str, ...], *settings: Any) -> dict[str, Any]:
    """The request body: the settings given, and (when events are) each event named on, every other off."""
    keys = ("url", "name", "description", "push_events_branch_filter", "enable_ssl_verification", "token")
    body = dict(zip(keys, settings, strict=True))
    if events is not None:
        body |= {f"{name}_events": name in events for name in names}
    return body


# One implementation for project and group hooks; `names` are the parent's event kinds.
async def _list(parent: Parent, names: tuple[str, ...], page: int, per_page: int) -> dict[str, Any]:
    path, what = f"{parent.path}/hooks", f"Webhooks of {parent.name}"
    items, meta = await gitlab().page(path, what=what, page=page, per_page=per_page)
    return {"items": [_hook(item, names) for item in items], **meta}


async def _get(parent: Parent, names: tuple[str, ...], hook_id: int) -> dict[str, Any]:
    data = await gitlab().get(f"{parent.path}/hooks/{hook_id}", what=f"Webhook {hook_id} in {parent.name}")
    return _hook(data, names)


async def _create(parent: Parent, names: tuple[str, ...], events: Sequence[str], *settings: Any) -> dict[str, Any]:
    body = _body(events, names, *settings)
    return _hook(await gitlab().post(f"{parent.path}/hooks", what=f"Webhooks of {parent.name}", json=body), names)


async def _update(
    parent: Parent, names: tuple[str, ...], hook_id: int, events: Sequence[str] | None, *settings: Any
) -> dict[str, Any]:
    body = _body(events, names, *settings)
    data = await gitlab().put(f"{parent.path}/hooks/{hook_id}", what=f"Webhook {hook_id} in {parent.name}", json=body)
    return _hook(data, names)


async def _delete(parent: Parent, hook_id: int) -> dict[str, Any]:
    await gitlab().delete(f"{parent.path}/hooks/{hook_id}", what=f"Webhook {hook_id} in {parent.name}")
    return {"deleted": True, "hook_id": hook_id}


# --- project hooks -------------------------------------------------------------------------------
@tool(READ, "webhooks", routes=("GET /projects/:id/hooks",))
async def list_project_webhooks(project: ProjectRef, page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    """List a project's webhooks (Maintainer role needed): URL, name and the events each fires on."""
    return await _list(Parent.project(project), PROJECT_EVENTS, page, per_page)


@tool(READ, "webhooks", routes=("GET /projects/:id/hooks/:hook_id",))
async def get_project_webhook(project: ProjectRef, hook_id: HookId) -> dict[str, Any]:
    """Get one project webhook: URL, events, branch filter, SSL verification and whether it is disabled."""
    return await _get(Parent.project(project), PROJECT_EVENTS, hook_id)


@tool(WRITE, "webhooks", routes=("POST /projects/:id/hooks",))
async def create_project_webhook(
    project: ProjectRef,
    url: HookUrl,
    events: Annotated[list[ProjectEvent], Field(description=f"{EVENTS_HELP}.", min_length=1)],
    name: Name = None,
    description: Description = None,
    push_events_branch_filter: BranchFilter = None,
    enable_ssl_verification: SslVerification = None,
    token: Token = None,
) -> dict[str, Any]:
    """Add a webhook to a project (Maintainer role). Returns the new hook; the token is never returned."""
    settings = (url, name, description, push_events_branch_filter, enable_ssl_verification, token)
    return await _create(Parent.project(project), PROJECT_EVENTS, events, *settings)


@tool(WRITE, "webhooks", routes=("PUT /projects/:id/hooks/:hook_id",))
async def update_project_webhook(
    project: ProjectRef,
    hook_id: HookId,
    url: Annotated[str | None, Field(description="New URL; it resets the token unless you give one.")] = None,
    events: Annotated[list[ProjectEvent] | None, Field(description=f"{EVENTS_HELP}; omit to keep.")] = None,
    name: Name = None,
    description: Description = None,
    push_events_branch_filter: BranchFilter = None,
    enable_ssl_verification: SslVerification = None,
    token: Token = None,
) -> dict[str, Any]:
    """Change a project webhook; only the fields given change. Returns the updated hook."""
    settings = (url, name, description, push_events_branch_filter, enable_ssl_verification, token)
    return await _update(Parent.project(project), PROJECT_EVENTS, hook_id, events, *settings)


@tool(DESTRUCTIVE, "webhooks", routes=("DELETE /projects/:id/hooks/:hook_id",))
async def delete_project_webhook(project: ProjectRef, hook_id: HookId) -> dict[str, Any]:
    """Delete a project webhook; the receiver gets no more events."""
    return await _delete(Parent.project(project), hook_id)


@tool(WRITE, "webhooks", routes=("POST /projects/:id/hooks/:hook_id/test/:trigger",))
async def test_project_webhook(
    project: ProjectRef,
    hook_id: HookId,
    trigger: Literal[
        "push",
        "tag_push",
        "issues",
        "confidential_issues",
        "note",
        "merge_requests",
        "job",
        "pipeline",
        "wiki_page",
        "releases",
        "milestone",
        "emoji",
        "resource_access_token",
    ] = "push",
) -> dict[str, Any]:
    """Send a sample event of one kind to a project webhook now. Fails with GitLab's reason when the
    receiver does not answer 2xx or the project has no sample (e.g. no issues)."""
    data = await gitlab().post(
        f"/projects/{path_id(project)}/hooks/{hook_id}/test/{trigger}_events", what=f"Webhook {hook_id} in {project}"
    )
    return {"hook_id": hook_id, "trigger": trigger, "result": data.get("message", "sent")}


# --- group hooks (GitLab Premium) ----------------------------------------------------------------
@tool(READ, "webhooks", routes=("GET /groups/:id/hooks",))
async def list_group_webhooks(group: GroupRef, page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    """List a group's webhooks (Premium; Owner role): URL, name and the events each fires on."""
    return await _list(Parent.group(group), GROUP_EVENTS, page, per_page)


@tool(READ, "webhooks", routes=("GET /groups/:id/hooks/:hook_id",))
async def get_group_webhook(group: GroupRef, hook_id: HookId) -> dict[str, Any]:
    """Get one group webhook (Premium): URL, events, branch filter and SSL verification."""
    return await _get(Parent.group(group), GROUP_EVENTS, hook_id)


@tool(WRITE, "webhooks", routes=("POST /groups/:id/hooks",))
async def create_group_webhook(
    group: GroupRef,
    url: HookUrl,
    events: Annotated[list[GroupEvent], Field(description=f"{EVENTS_HELP}, in all its projects.", min_length=1)],
    name: Name = None,
    description: Description = None,
    push_events_branch_filter: BranchFilter = None,
    enable_ssl_verification: SslVerification = None,
    token: Token = None,
) -> dict[str, Any]:
    """Add a webhook to a group (Premium; Owner role). Returns the new hook; the token is never returned."""
    settings = (url, name, description, push_events_branch_filter, enable_ssl_verification, token)
    return await _create(Parent.group(group), GROUP_EVENTS, events, *settings)


@tool(WRITE, "webhooks", routes=("PUT /groups/:id/hooks/:hook_id",))
async def update_group_webhook(
    group: GroupRef,
    hook_id: HookId,
    url: Annotated[str | None, Field(description="New URL; it resets the token unless you give one.")] = None,
    events: Annotated[list[GroupEvent] | None, Field(description=f"{EVENTS_HELP}; omit to keep.")] = None,
    name: Name = None,
    description: Description = None,
    push_events_branch_filter: BranchFilter = None,
    enable_ssl_verification: SslVerification = None,
    token: Token = None,
) -> dict[str, Any]:
    """Change a group webhook (Premium); only the fields given change. Returns the updated hook."""
    settings = (url, name, description, push_events_branch_filter, enable_ssl_verification, token)
    return await _update(Parent.group(group), GROUP_EVENTS, hook_id, events, *settings)


@tool(DESTRUCTIVE, "webhooks", routes=("DELETE /groups/:id/hooks/:hook_id",))
async def delete_group_webhook(group: GroupRef, hook_id: HookId) -> dict[str, Any]:
    """Delete a group webhook (Premium); the receiver gets no more events from the group."""
    return await _delete(Parent.group(group), hook_id)
