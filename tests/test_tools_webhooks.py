"""Tools of the webhooks area, through the MCP SDK client: as alice (maintainer of acme/app, only a
maintainer of the acme group) and as bob (developer in acme/app, owner of the labs group).

Seed (tests/gitlab_sim/areas/webhooks.py): acme/app hooks 901 (CI, with a secret token) and 902 (chat);
acme/website 903 (its receiver is gone); bob/secret 904; group labs 911; group acme 912.
"""

from __future__ import annotations

from tests.gitlab_sim.seed import TOKENS

SECRET = "hook-secret-901"  # the seeded token of hook 901


def hook_ids(result) -> list[int]:
    assert not result.is_error, result
    return [item["id"] for item in result.structured_content["items"]]


async def test_the_webhook_tools_are_listed_with_their_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    for name in ("list_project_webhooks", "get_project_webhook", "list_group_webhooks", "get_group_webhook"):
        assert tools[name].annotations.read_only_hint is True
    for name in ("delete_project_webhook", "delete_group_webhook"):
        assert tools[name].annotations.destructive_hint is True
    schema = tools["create_project_webhook"].input_schema
    assert schema["required"] == ["project", "url", "events"]
    assert "merge_requests" in schema["properties"]["events"]["items"]["enum"]


# --- reading -------------------------------------------------------------------------------------
async def test_list_project_webhooks_folds_events_and_never_shows_the_token(mcp, text_of):
    result = await mcp.call("list_project_webhooks", project="acme/app")
    assert hook_ids(result) == [901, 902]
    ci = result.structured_content["items"][0]
    assert ci["url"] == "https://ci.acme.example/hooks/gitlab" and ci["name"] == "CI trigger"
    assert ci["events"] == ["push", "merge_requests", "pipeline"]
    assert ci["push_events_branch_filter"] == "main" and ci["token_present"] is True
    assert result.structured_content["items"][1]["events"] == ["issues", "note"]
    assert SECRET not in text_of(result) and "token" not in {k for k in ci if k != "token_present"}


async def test_get_project_webhook(mcp, text_of):
    result = await mcp.call("get_project_webhook", project="101", hook_id=901)
    assert not result.is_error
    assert result.structured_content["project_id"] == 101
    assert result.structured_content["enable_ssl_verification"] is True
    assert SECRET not in text_of(result)


async def test_reading_project_webhooks_needs_the_maintainer_role(mcp, mcp_as, text_of):
    bob = mcp_as("bob")  # developer in acme/app
    denied = await bob.call("list_project_webhooks", project="acme/app")
    assert denied.is_error
    assert "You do not have permission for this on Webhooks of acme/app" in text_of(denied)
    hidden = await mcp.call("list_project_webhooks", project="bob/secret")
    assert hidden.is_error and "Webhooks of bob/secret not found or you have no access" in text_of(hidden)
    other = await mcp.call("get_project_webhook", project="acme/app", hook_id=903)  # acme/website's
    assert other.is_error and "Webhook 903 in acme/app not found" in text_of(other)


# --- writing -------------------------------------------------------------------------------------
async def test_create_project_webhook_sets_exactly_the_events_given(mcp, sim, text_of):
    result = await mcp.call(
        "create_project_webhook",
        project="acme/app",
        url="https://deploy.acme.example/hook",
        events=["tag_push", "releases"],
        name="Releases",
        token="create-secret",
    )
    assert not result.is_error
    hook = result.structured_content
    assert hook["events"] == ["tag_push", "releases"]  # push_events turned off, not defaulted on
    assert (hook["name"], hook["token_present"]) == ("Releases", True)
    assert "create-secret" not in text_of(result)
    assert hook_ids(await mcp.call("list_project_webhooks", project="acme/app")) == [901, 902, hook["id"]]


async def test_create_project_webhook_refuses_local_urls_and_developers(mcp, mcp_as, text_of):
    local = await mcp.call("create_project_webhook", project="acme/app", url="http://127.0.0.1:8080/", events=["push"])
    assert local.is_error
    assert "GitLab refused the request for Webhooks of acme/app (HTTP 422): Invalid url given" in text_of(local)
    private = await mcp.call("create_project_webhook", project="acme/app", url="http://10.0.0.5/", events=["push"])
    assert private.is_error and "Invalid url given" in text_of(private)
    bob = await mcp_as("bob").call(
        "create_project_webhook", project="acme/app", url="https://x.example", events=["push"]
    )
    assert bob.is_error and "You do not have permission" in text_of(bob)


async def test_update_project_webhook_changes_only_what_is_given(mcp):
    result = await mcp.call("update_project_webhook", project="acme/app", hook_id=902, enable_ssl_verification=False)
    hook = result.structured_content
    assert hook["enable_ssl_verification"] is False
    assert hook["events"] == ["issues", "note"] and hook["url"] == "https://chat.acme.example/notify"
    events = await mcp.call("update_project_webhook", project="acme/app", hook_id=902, events=["job"])
    assert events.structured_content["events"] == ["job"]


async def test_update_project_webhook_url_resets_the_token(mcp, sim):
    moved = await mcp.call("update_project_webhook", project="acme/app", hook_id=901, url="https://ci2.acme.example/h")
    assert moved.structured_content["token_present"] is False  # WebHook#reset_token
    kept = await mcp.call(
        "update_project_webhook", project="acme/app", hook_id=901, url="https://ci3.acme.example/h", token="t0ken"
    )
    assert kept.structured_content["token_present"] is True


async def test_update_project_webhook_errors(mcp, text_of):
    nothing = await mcp.call("update_project_webhook", project="acme/app", hook_id=901)
    assert nothing.is_error and "No parameters provided" in text_of(nothing)
    blocked = await mcp.call("update_project_webhook", project="acme/app", hook_id=901, url="ftp://files.example/")
    assert blocked.is_error and "Invalid url given" in text_of(blocked)
    missing = await mcp.call("update_project_webhook", project="acme/app", hook_id=999, name="x")
    assert missing.is_error and "Webhook 999 in acme/app not found" in text_of(missing)


async def test_delete_project_webhook(mcp, mcp_as, text_of):
    denied = await mcp_as("bob").call("delete_project_webhook", project="acme/app", hook_id=902)
    assert denied.is_error and "You do not have permission" in text_of(denied)
    result = await mcp.call("delete_project_webhook", project="acme/app", hook_id=902)
    assert result.structured_content == {"deleted": True, "hook_id": 902}
    assert hook_ids(await mcp.call("list_project_webhooks", project="acme/app")) == [901]
    again = await mcp.call("delete_project_webhook", project="acme/app", hook_id=902)
    assert again.is_error and "not found" in text_of(again)


async def test_test_project_webhook_sends_a_sample(mcp, sim):
    result = await mcp.call("test_project_webhook", project="acme/app", hook_id=901, trigger="issues")
    assert result.structured_content == {"hook_id": 901, "trigger": "issues", "result": "201 Created"}
    assert any(r["path"] == "/api/v4/projects/acme%2Fapp/hooks/901/test/issues_events" for r in sim.requests())
    default = await mcp.call("test_project_webhook", project="acme/app", hook_id=902)
    assert default.structured_content["trigger"] == "push"


async def test_test_project_webhook_reports_why_it_failed(mcp, text_of):
    hook = await mcp.call("create_project_webhook", project="alice/notes", url="https://n.example", events=["push"])
    hook_id = hook.structured_content["id"]
    no_sample = await mcp.call("test_project_webhook", project="alice/notes", hook_id=hook_id, trigger="issues")
    assert no_sample.is_error and "Ensure the project has issues." in text_of(no_sample)
    gone = await mcp.call("test_project_webhook", project="acme/website", hook_id=903)
    assert gone.is_error and "Failed to open TCP connection to hooks.gone.invalid:443" in text_of(gone)
    bad = await mcp.call("test_project_webhook", project="acme/app", hook_id=901, trigger="deploy")
    assert bad.is_error  # not a trigger GitLab knows: refused before the call


# --- group hooks ---------------------------------------------------------------------------------
async def test_group_webhooks_for_the_group_owner(mcp_as, text_of):
    bob = mcp_as("bob")
    listed = await bob.call("list_group_webhooks", group="labs")
    assert hook_ids(listed) == [911]
    assert listed.structured_content["items"][0]["events"] == ["subgroup"]
    assert "group-secret-911" not in text_of(listed)
    one = await bob.call("get_group_webhook", group="12", hook_id=911)
    assert one.structured_content["group_id"] == 12 and one.structured_content["token_present"] is True


async def test_group_webhooks_need_the_owner_role(mcp, text_of):
    maintainer = await mcp.call("list_group_webhooks", group="acme")  # alice is a maintainer of acme
    assert maintainer.is_error and "You do not have permission for this on Webhooks of group acme" in text_of(
        maintainer
    )
    hidden = await mcp.call("get_group_webhook", group="labs", hook_id=911)  # a private group alice is not in
    assert hidden.is_error and "Webhook 911 in group labs not found or you have no access" in text_of(hidden)


async def test_create_update_and_delete_a_group_webhook(mcp_as):
    bob = mcp_as("bob")
    created = await bob.call(
        "create_group_webhook", group="labs", url="https://members.bob.example", events=["member"], token="g"
    )
    hook = created.structured_content
    assert hook["events"] == ["member"] and hook["token_present"] is True
    updated = await bob.call("update_group_webhook", group="labs", hook_id=hook["id"], name="Members")
    assert updated.structured_content["name"] == "Members"
    assert updated.structured_content["events"] == ["member"]
    deleted = await bob.call("delete_group_webhook", group="labs", hook_id=hook["id"])
    assert deleted.structured_content["deleted"] is True
    assert hook_ids(await bob.call("list_group_webhooks", group="labs")) == [911]
    assert "token" not in updated.structured_content


async def test_group_webhook_writes_errors(mcp, mcp_as, text_of):
    local = await mcp_as("bob").call("create_group_webhook", group="labs", url="http://localhost/", events=["push"])
    assert local.is_error and "Invalid url given" in text_of(local)
    denied = await mcp.call("update_group_webhook", group="acme", hook_id=912, name="mine")
    assert denied.is_error and "You do not have permission" in text_of(denied)
    gone = await mcp.call("delete_group_webhook", group="acme", hook_id=912)
    assert gone.is_error and "You do not have permission" in text_of(gone)


def test_the_simulator_validates_hook_parameters_like_grape(sim):
    headers = {"PRIVATE-TOKEN": TOKENS["alice"]}
    api = f"{sim.url}/api/v4/projects/101/hooks"
    trigger = sim.http.post(f"{api}/901/test/deploy_events", headers=headers)
    assert (trigger.status_code, trigger.json()) == (400, {"error": "trigger does not have a valid value"})
    no_url = sim.http.post(api, json={"push_events": True}, headers=headers)
    assert (no_url.status_code, no_url.json()) == (400, {"error": "url is missing"})
    hook = sim.http.get(f"{api}/901", headers=headers).json()
    assert "token" not in hook and hook["token_present"] is True
