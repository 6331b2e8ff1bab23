"""Simulated GitLab API: project and group webhooks (doc/api/project_webhooks.md, doc/api/group_webhooks.md;
the errors as lib/api/project_hooks.rb, lib/api/helpers/web_hooks_helpers.rb and lib/api/hooks/trigger_test.rb
give them).

Rows: world.table("hooks") holds Entities::ProjectHook / GroupHook plus private keys: `_kind` ("project" or
"group"), `_owner_id` and `_token` (the secret token, which GitLab never returns: only `token_present`).
Project hooks need the Maintainer role, group hooks (Premium) the Owner role; others get 403, or 404 when
they cannot see the project or group at all. A hook URL to a local or private address, or not http(s),
is refused with 422 "Invalid url given" (webhooks may not reach the local network by default); a `.invalid`
host models one that does not resolve.
Seed: acme/app hooks 901 (CI, with a token) and 902 (chat); acme/website 903 (its receiver is gone);
bob/secret 904; group labs (bob owner) 911; group acme (alice is only a maintainer) 912.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.groups import can_read_group, find_group, group_level
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    Router,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import MAINTAINER, OWNER, World, now

PROJECT_EVENTS = (
    "push_events", "tag_push_events", "merge_requests_events", "issues_events", "confidential_issues_events",
    "note_events", "confidential_note_events", "job_events", "pipeline_events", "wiki_page_events",
    "deployment_events", "releases_events", "milestone_events", "feature_flag_events", "emoji_events",
    "resource_access_token_events", "resource_deploy_token_events", "repository_update_events",
)  # fmt: skip
GROUP_EVENTS = (*PROJECT_EVENTS, "subgroup_events", "member_events", "project_events")
# ProjectHook.triggers values, as doc/api/project_webhooks.md#trigger-a-test-project-webhook lists them.
TRIGGERS = (
    "push_events", "tag_push_events", "issues_events", "confidential_issues_events", "note_events",
    "merge_requests_events", "job_events", "pipeline_events", "wiki_page_events", "releases_events",
    "milestone_events", "emoji_events", "resource_access_token_events", "resource_deploy_token_events",
)  # fmt: skip
# Integrations::ProjectTestData: a test needs a sample of its kind (table, noun in the message).
TEST_DATA = {
    "note_events": ("notes", "notes"),
    "emoji_events": ("notes", "notes"),
    "issues_events": ("issues", "issues"),
    "confidential_issues_events": ("issues", "issues"),
    "merge_requests_events": ("merge_requests", "merge requests"),
    "job_events": ("jobs", "CI jobs"),
    "pipeline_events": ("pipelines", "CI pipelines"),
    "releases_events": ("releases", "releases"),
    "milestone_events": ("milestones", "milestones"),
}
TEXT_FIELDS = ("url", "name", "description", "push_events_branch_filter", "custom_webhook_template")


def register(router: Router) -> None:
    for kind in ("projects", "groups"):
        router.route("GET", f"/{kind}/:id/hooks")(list_hooks)
        router.route("POST", f"/{kind}/:id/hooks")(create_hook)
        router.route("GET", f"/{kind}/:id/hooks/:hook_id")(get_hook)
        router.route("PUT", f"/{kind}/:id/hooks/:hook_id")(update_hook)
        router.route("DELETE", f"/{kind}/:id/hooks/:hook_id")(delete_hook)
    router.route("POST", "/projects/:id/hooks/:hook_id/test/:trigger")(test_hook)


# --- rules ---------------------------------------------------------------------------------------
def owner_of_hooks(call: Call) -> tuple[str, dict[str, Any]] | Response:
    """The project (Maintainer+: admin_web_hook) or group (Owner: admin_hook) whose hooks the caller manages."""
    if call.request.url.path.startswith("/api/v4/groups/"):
        group = find_group(call.world, call.params["id"])
        if group is None or not can_read_group(call.world, call.user_id, group):
            return not_found("Group")
        return ("group", group) if group_level(call.world, call.user_id, group) >= OWNER else forbidden()
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if call.world.access_level(call.user_id, project["id"]) < MAINTAINER:
        return forbidden()
    return "project", project


def hooks_of(world: World, kind: str, owner: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for h in world.table("hooks") if h["_kind"] == kind and h["_owner_id"] == owner["id"]]


def present(hook: dict[str, Any]) -> dict[str, Any]:
    """The entity: the secret token is never sent, only whether there is one."""
    return {**{k: v for k, v in hook.items() if not k.startswith("_")}, "token_present": bool(hook["_token"])}


def url_blocked(url: str) -> bool:
    """Gitlab::HTTP_V2::UrlBlocker with local requests from webhooks disallowed (the default)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or host == "localhost" or host.endswith(".invalid"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def _find(call: Call, kind: str, owner: dict[str, Any]) -> dict[str, Any] | Response:
    if not call.params["hook_id"].isdigit():
        return invalid_param("hook_id")
    hook = next((h for h in hooks_of(call.world, kind, owner) if h["id"] == int(call.params["hook_id"])), None)
    return hook if hook is not None else not_found()  # hooks.find: ActiveRecord::RecordNotFound


def _assign(call: Call, hook: dict[str, Any], kind: str) -> None:
    """The documented attributes present in the request, cast as Grape declares them."""
    for name in GROUP_EVENTS if kind == "group" else PROJECT_EVENTS:
        if call.flag(name) is not None:
            hook[name] = call.flag(name)
    if call.flag("enable_ssl_verification") is not None:
        hook["enable_ssl_verification"] = call.flag("enable_ssl_verification")
    for name in TEXT_FIELDS:
        if call.arg(name) is not None:
            hook[name] = str(call.arg(name))
    if call.arg("token") is not None:
        hook["_token"] = str(call.arg("token"))


# --- endpoints -----------------------------------------------------------------------------------
async def list_hooks(call: Call) -> Response:
    owner = owner_of_hooks(call)
    if isinstance(owner, Response):
        return owner
    return paginate(call, [present(h) for h in sorted(hooks_of(call.world, *owner), key=lambda h: h["id"])])


async def get_hook(call: Call) -> Response:
    owner = owner_of_hooks(call)
    if isinstance(owner, Response):
        return owner
    hook = _find(call, *owner)
    return hook if isinstance(hook, Response) else JSONResponse(present(hook))


async def create_hook(call: Call) -> Response:
    if call.arg("url") is None:
        return missing_param("url")
    owner = owner_of_hooks(call)
    if isinstance(owner, Response):
        return owner
    kind, container = owner
    if url_blocked(str(call.arg("url"))):
        return error(422, "Invalid url given")  # WebHooks::CreateService
    hook = _hook(call.world, call.world.next_id(), kind, container, url=str(call.arg("url")), events=("push_events",))
    _assign(call, hook, kind)
    call.world.table("hooks").append(hook)
    return JSONResponse(present(hook), status_code=201)


async def update_hook(call: Call) -> Response:
    owner = owner_of_hooks(call)
    if isinstance(owner, Response):
        return owner
    hook = _find(call, *owner)
    if isinstance(hook, Response):
        return hook
    known = (*GROUP_EVENTS, "enable_ssl_verification", *TEXT_FIELDS, "token")
    if not any(call.arg(name) is not None for name in known):
        return error(400, "No parameters provided")
    url = call.arg("url")
    if url is not None and url_blocked(str(url)):
        return error(422, "Invalid url given")
    if url is not None and str(url) != hook["url"] and call.arg("token") is None:
        hook["_token"] = None  # WebHook#reset_token: a new URL does not keep the old secret
    _assign(call, hook, owner[0])
    return JSONResponse(present(hook))


async def delete_hook(call: Call) -> Response:
    owner = owner_of_hooks(call)
    if isinstance(owner, Response):
        return owner
    hook = _find(call, *owner)
    if isinstance(hook, Response):
        return hook
    call.world.table("hooks").remove(hook)
    return Response(status_code=204)


async def test_hook(call: Call) -> Response:
    if call.params["trigger"] not in TRIGGERS:
        return invalid_value("trigger")
    owner = owner_of_hooks(call)
    if isinstance(owner, Response):
        return owner
    hook = _find(call, *owner)
    if isinstance(hook, Response):
        return hook
    project, trigger = owner[1], call.params["trigger"]
    if trigger == "wiki_page_events" and not any(
        p["container"] == "project" and p["container_id"] == project["id"]
        for p in call.world.rows.get("wiki_pages", [])
    ):
        return error(422, "Ensure the wiki is enabled and has pages.")
    if trigger in TEST_DATA:
        table, noun = TEST_DATA[trigger]
        rows = call.world.rows.get(table, [])
        if not any(r.get("project_id", r.get("_project_id")) == project["id"] for r in rows):
            return error(422, f"Ensure the project has {noun}.")
    host = urlsplit(hook["url"]).hostname or ""
    if host.endswith(".invalid"):
        # WebHookService: the delivery failed, and its error is the message.
        return error(422, f"Failed to open TCP connection to {host}:443 (getaddrinfo: Name or service not known)")
    return JSONResponse({"message": "201 Created"}, status_code=201)


# --- seed ----------------------------------------------------------------------------------------
def _hook(
    world: World, hid: int, kind: str, owner: dict[str, Any], *, url: str, events: tuple[str, ...], **fields: Any
) -> dict[str, Any]:
    """A hook as Entities::ProjectHook / GroupHook shows it (push events and SSL verification on by default)."""
    names = GROUP_EVENTS if kind == "group" else PROJECT_EVENTS
    return {
        "id": hid,
        "url": url,
        "name": None,
        "description": None,
        f"{kind}_id": owner["id"],
        "created_at": now(),
        **{name: name in events for name in names},
        "enable_ssl_verification": True,
        "push_events_branch_filter": None,
        "branch_filter_strategy": "wildcard",
        "custom_webhook_template": None,
        "alert_status": "executable",
        "disabled_until": None,
        "url_variables": [],
        "custom_headers": [],
        "signing_token_present": False,
        "_kind": kind,
        "_owner_id": owner["id"],
        "_token": None,
        **fields,
    }


def seed(world: World) -> None:
    app, site, secret = world.projects[101], world.projects[102], world.projects[104]
    rows = world.table("hooks")
    ci_events = ("push_events", "merge_requests_events", "pipeline_events")
    rows.append(_hook(world, 901, "project", app, url="https://ci.acme.example/hooks/gitlab", events=ci_events))
    rows[-1] |= {"name": "CI trigger", "_token": "hook-secret-901", "created_at": "2024-03-01T10:00:00.000Z"}
    rows[-1]["push_events_branch_filter"] = "main"
    rows.append(_hook(world, 902, "project", app, url="https://chat.acme.example/notify", events=("issues_events",)))
    rows[-1] |= {"name": "Chat", "note_events": True, "created_at": "2024-03-02T10:00:00.000Z"}
    rows.append(_hook(world, 903, "project", site, url="https://hooks.gone.invalid/site", events=("push_events",)))
    rows.append(_hook(world, 904, "project", secret, url="https://bob.example/hook", events=("push_events",)))
    for gid, hid, url in ((12, 911, "https://labs.bob.example/hook"), (10, 912, "https://audit.acme.example/group")):
        if gid in world.groups:
            rows.append(_hook(world, hid, "group", world.groups[gid], url=url, events=("subgroup_events",)))
            rows[-1] |= {"_token": f"group-secret-{hid}", "created_at": "2024-03-03T10:00:00.000Z"}
