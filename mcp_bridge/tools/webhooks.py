"""Webhooks of projects and groups: read, add, change, remove and test them
(doc/api/project_webhooks.md, doc/api/group_webhooks.md). A hook's secret token is write-only:
GitLab never returns it and neither do these tools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import Page, PerPage, ProjectRef, shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, READ, WRITE, tool
from mcp_bridge.shaping import listed, pick
from mcp_bridge.tools.parents import Parent, Twin, twins

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


def _events(parent: Parent) -> tuple[str, ...]:
    return GROUP_EVENTS if parent.kind == "group" else PROJECT_EVENTS


def _hook(parent: Parent, data: dict[str, Any]) -> dict[str, Any]:
    """A hook with its event booleans folded into one list; never its secret token."""
    return {**pick(data, HOOK_FIELDS), "events": [name for name in _events(parent) if data.get(f"{name}_events")]}


def hook_settings(
    name: Name = None,
    description: Description = None,
    push_events_branch_filter: BranchFilter = None,
    enable_ssl_verification: SslVerification = None,
    token: Token = None,
) -> None:
    """The parameters both tools that write a webhook take after their own."""


def _body(parent: Parent, events: Sequence[str] | None, url: str | None, **settings: Any) -> dict[str, Any]:
    """The request body: the settings given, and (when events are) each event named on, every other off."""
    body = {"url": url, **settings}
    if events is not None:
        body |= {f"{name}_events": name in events for name in _events(parent)}
    return body


# Each implementation below is two tools, one on projects and one on groups (tools/parents.py);
# group hooks need GitLab Premium.
@twins(
    READ,
    "webhooks",
    routes=("GET /{parents}/:id/hooks",),
    project=Twin(
        "list_project_webhooks",
        "List a project's webhooks (Maintainer role needed): URL, name and the events each fires on.",
    ),
    group=Twin(
        "list_group_webhooks", "List a group's webhooks (Premium; Owner role): URL, name and the events each fires on."
    ),
)
async def list_webhooks(parent: Parent, page: Page = 1, per_page: PerPage = 20) -> dict[str, Any]:
    path, what = f"{parent.path}/hooks", f"Webhooks of {parent.name}"
    return await listed(path, what, page, per_page, lambda item: _hook(parent, item))


@twins(
    READ,
    "webhooks",
    routes=("GET /{parents}/:id/hooks/:hook_id",),
    project=Twin(
        "get_project_webhook",
        "Get one project webhook: URL, events, branch filter, SSL verification and whether it is disabled.",
    ),
    group=Twin(
        "get_group_webhook", "Get one group webhook (Premium): URL, events, branch filter and SSL verification."
    ),
)
async def get_webhook(parent: Parent, hook_id: HookId) -> dict[str, Any]:
    data = await gitlab().get(f"{parent.path}/hooks/{hook_id}", what=f"Webhook {hook_id} in {parent.name}")
    return _hook(parent, data)


@twins(
    WRITE,
    "webhooks",
    routes=("POST /{parents}/:id/hooks",),
    project=Twin(
        "create_project_webhook",
        "Add a webhook to a project (Maintainer role). Returns the new hook; the token is never returned.",
    ),
    group=Twin(
        "create_group_webhook",
        "Add a webhook to a group (Premium; Owner role). Returns the new hook; the token is never returned.",
        types={
            "events": Annotated[
                list[GroupEvent], Field(description=f"{EVENTS_HELP}, in all its projects.", min_length=1)
            ]
        },
    ),
)
@shared_parameters(hook_settings)
async def create_webhook(
    parent: Parent,
    url: HookUrl,
    events: Annotated[list[ProjectEvent], Field(description=f"{EVENTS_HELP}.", min_length=1)],
    **settings: Any,
) -> dict[str, Any]:
    body = _body(parent, events, url, **settings)
    return _hook(parent, await gitlab().post(f"{parent.path}/hooks", what=f"Webhooks of {parent.name}", json=body))


@twins(
    WRITE,
    "webhooks",
    routes=("PUT /{parents}/:id/hooks/:hook_id",),
    project=Twin(
        "update_project_webhook", "Change a project webhook; only the fields given change. Returns the updated hook."
    ),
    group=Twin(
        "update_group_webhook",
        "Change a group webhook (Premium); only the fields given change. Returns the updated hook.",
        types={"events": Annotated[list[GroupEvent] | None, Field(description=f"{EVENTS_HELP}; omit to keep.")]},
    ),
)
@shared_parameters(hook_settings)
async def update_webhook(
    parent: Parent,
    hook_id: HookId,
    url: Annotated[str | None, Field(description="New URL; it resets the token unless you give one.")] = None,
    events: Annotated[list[ProjectEvent] | None, Field(description=f"{EVENTS_HELP}; omit to keep.")] = None,
    **settings: Any,
) -> dict[str, Any]:
    body = _body(parent, events, url, **settings)
    data = await gitlab().put(f"{parent.path}/hooks/{hook_id}", what=f"Webhook {hook_id} in {parent.name}", json=body)
    return _hook(parent, data)


@twins(
    DESTRUCTIVE,
    "webhooks",
    routes=("DELETE /{parents}/:id/hooks/:hook_id",),
    project=Twin("delete_project_webhook", "Delete a project webhook; the receiver gets no more events."),
    group=Twin(
        "delete_group_webhook", "Delete a group webhook (Premium); the receiver gets no more events from the group."
    ),
)
async def delete_webhook(parent: Parent, hook_id: HookId) -> dict[str, Any]:
    await gitlab().delete(f"{parent.path}/hooks/{hook_id}", what=f"Webhook {hook_id} in {parent.name}")
    return {"deleted": True, "hook_id": hook_id}


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
