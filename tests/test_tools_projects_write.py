"""Tools that change projects: create, update, fork, archive, delete, stars and members.

The cast (tests/gitlab_sim/seed.py, areas/groups.py): alice is Maintainer of acme/app and of the group acme,
Owner of acme/website and alice/notes; bob is Developer of acme/app and owns bob/secret and the private
group labs; charlie is Developer of acme/platform only.
"""

from __future__ import annotations

from typing import Any


def ok(result: Any) -> dict[str, Any]:
    assert not result.is_error, result
    return result.structured_content


# --- create_project --------------------------------------------------------------------------------
async def test_create_project_in_your_namespace_with_a_readme(mcp, text_of):
    project = ok(await mcp.call("create_project", name="Demo App", description="Try", initialize_with_readme=True))
    assert project["path_with_namespace"] == "alice/demo-app"
    assert (project["namespace"], project["visibility"], project["default_branch"]) == ("alice", "private", "main")
    assert project["permissions"]["project_access"]["access_level"] == 50
    assert project["empty_repo"] is False and project["description"] == "Try"
    readme = await mcp.call("get_file", project="alice/demo-app", file_path="README.md")
    assert "# Demo App" in text_of(readme)


async def test_create_project_in_a_group_inherits_its_members(mcp, mcp_as):
    project = ok(await mcp.call("create_project", name="tools", namespace_id=11))  # acme/platform
    assert project["path_with_namespace"] == "acme/platform/tools"
    assert project["empty_repo"] is True and project["default_branch"] is None
    direct = ok(await mcp.call("list_project_members", project=str(project["id"]), inherited=False))
    assert direct["items"] == []  # alice's role comes from acme, charlie's from acme/platform
    everyone = ok(await mcp.call("list_project_members", project="acme/platform/tools"))
    assert [(m["username"], m["access_level"]) for m in everyone["items"]] == [("alice", 40), ("charlie", 30)]
    seen = await mcp_as("charlie").call("get_project", project="acme/platform/tools")
    assert ok(seen)["permissions"]["project_access"]["access_level"] == 30


async def test_create_project_refuses_a_taken_name_and_a_group_you_cannot_create_in(mcp, mcp_as, text_of):
    taken = await mcp.call("create_project", name="notes")
    assert taken.is_error
    assert "has already been taken" in text_of(taken)
    charlie = await mcp_as("charlie").call("create_project", name="x", namespace_id=10)  # not a member of acme
    assert charlie.is_error
    assert "namespace is not valid" in text_of(charlie)
    public = await mcp_as("bob").call("create_project", name="open", namespace_id=12, visibility="public")
    assert public.is_error
    assert "public is not allowed in a private group" in text_of(public)


# --- update_project --------------------------------------------------------------------------------
async def test_update_project_as_maintainer(mcp):
    updated = await mcp.call(
        "update_project",
        project="acme/app",
        description="New words",
        topics=["python", "web"],
        default_branch="fix/typo",
    )
    project = ok(updated)
    assert (project["description"], project["topics"], project["default_branch"]) == (
        "New words",
        ["python", "web"],
        "fix/typo",
    )
    assert ok(await mcp.call("get_project", project="acme/app"))["topics"] == ["python", "web"]


async def test_update_project_needs_maintainer_a_real_branch_and_a_change(mcp, mcp_as, text_of):
    bob = await mcp_as("bob").call("update_project", project="acme/app", description="mine")
    assert bob.is_error
    assert "You do not have permission for this on Project acme/app" in text_of(bob)
    branch = await mcp.call("update_project", project="acme/app", default_branch="nope")
    assert branch.is_error
    assert "branch 'nope' does not exist" in text_of(branch)
    nothing = await mcp.call("update_project", project="acme/app")
    assert nothing.is_error
    assert "at least one parameter must be provided" in text_of(nothing)


# --- fork_project ----------------------------------------------------------------------------------
async def test_fork_project_into_your_namespace_copies_the_repository(mcp, text_of):
    fork = ok(await mcp.call("fork_project", project="acme/app", name="app-fork", path="app-fork"))
    assert fork["path_with_namespace"] == "alice/app-fork"
    assert fork["forked_from_project"] == "acme/app"
    assert (fork["visibility"], fork["default_branch"]) == ("private", "main")
    assert ok(await mcp.call("get_project", project="acme/app"))["forks_count"] == 1
    readme = await mcp.call("get_file", project="alice/app-fork", file_path="src/app.py")
    assert not readme.is_error, text_of(readme)


async def test_fork_project_errors(mcp, mcp_as, text_of):
    ok(await mcp.call("fork_project", project="acme/website"))
    again = await mcp.call("fork_project", project="acme/website")
    assert again.is_error
    assert "HTTP 409" in text_of(again) and "has already been taken" in text_of(again)
    hidden = await mcp_as("charlie").call("fork_project", project="acme/app")
    assert hidden.is_error
    assert "not found or you have no access" in text_of(hidden)
    elsewhere = await mcp.call("fork_project", project="acme/website", namespace="labs")
    assert elsewhere.is_error
    assert "Target Namespace Not Found" in text_of(elsewhere)


# --- archive, delete -------------------------------------------------------------------------------
async def test_archive_makes_a_project_read_only_until_unarchived(mcp, text_of):
    archived = ok(await mcp.call("archive_project", project="acme/website"))
    assert archived["archived"] is True and archived["path_with_namespace"] == "acme/website"
    refused = await mcp.call("create_issue", project="acme/website", title="While archived")
    assert refused.is_error
    assert "permission" in text_of(refused)
    assert ok(await mcp.call("unarchive_project", project="acme/website"))["archived"] is False
    ok(await mcp.call("create_issue", project="acme/website", title="After unarchiving"))


async def test_archive_and_unarchive_need_the_owner(mcp, text_of):
    for tool in ("archive_project", "unarchive_project"):
        result = await mcp.call(tool, project="acme/app")  # alice is only Maintainer
        assert result.is_error
        assert "You do not have permission for this on Project acme/app" in text_of(result)


async def test_delete_project_as_owner(mcp, text_of):
    assert ok(await mcp.call("delete_project", project="alice/notes")) == {
        "project": "alice/notes",
        "deletion": "accepted",
    }
    gone = await mcp.call("get_project", project="alice/notes")
    assert gone.is_error
    assert "not found" in text_of(gone)


async def test_delete_project_needs_the_owner(mcp, mcp_as, text_of):
    for client in (mcp, mcp_as("bob")):
        result = await client.call("delete_project", project="acme/app")
        assert result.is_error
        assert "You do not have permission" in text_of(result)
    assert ok(await mcp.call("get_project", project="acme/app"))["id"] == 101


# --- stars -----------------------------------------------------------------------------------------
async def test_star_and_unstar(mcp):
    starred = ok(await mcp.call("star_project", project="acme/app"))
    assert starred == {"id": 101, "path_with_namespace": "acme/app", "star_count": 1, "starred": True, "changed": True}
    assert ok(await mcp.call("star_project", project="acme/app"))["changed"] is False  # 304: already starred
    unstarred = ok(await mcp.call("unstar_project", project="acme/website"))
    assert (unstarred["star_count"], unstarred["starred"]) == (0, False)
    mine = ok(await mcp.call("list_projects", starred=True))
    assert [p["path_with_namespace"] for p in mine["items"]] == ["acme/app"]


async def test_star_a_hidden_project(mcp, text_of):
    for tool in ("star_project", "unstar_project"):
        result = await mcp.call(tool, project="bob/secret")
        assert result.is_error
        assert "Project bob/secret not found or you have no access" in text_of(result)


# --- members ---------------------------------------------------------------------------------------
async def test_add_update_and_remove_a_member(mcp, mcp_as):
    added = ok(await mcp.call("add_project_member", project="acme/app", user="charlie", access_level=20))
    assert (added["username"], added["access_level"], added["expires_at"]) == ("charlie", 20, None)
    charlie = mcp_as("charlie")
    assert ok(await charlie.call("get_project", project="acme/app"))["permissions"]["project_access"] is not None
    updated = await mcp.call(
        "update_project_member", project="acme/app", user_id=3, access_level=30, expires_at="2030-01-31"
    )
    assert (ok(updated)["access_level"], ok(updated)["expires_at"]) == (30, "2030-01-31")
    assert ok(await mcp.call("remove_project_member", project="acme/app", user_id=3)) == {
        "project": "acme/app",
        "removed_user_id": 3,
    }
    assert (await charlie.call("get_project", project="acme/app")).is_error


async def test_add_project_member_errors(mcp, mcp_as, text_of):
    again = await mcp.call("add_project_member", project="acme/app", user="2", access_level=30)
    assert again.is_error
    assert "Member already exists" in text_of(again)
    owner = await mcp.call("add_project_member", project="acme/app", user="charlie", access_level=50)
    assert owner.is_error and "permission" in text_of(owner)  # only Owners make Owners
    bob = await mcp_as("bob").call("add_project_member", project="acme/app", user="charlie", access_level=10)
    assert bob.is_error and "permission" in text_of(bob)
    nobody = await mcp.call("add_project_member", project="acme/app", user="@nobody", access_level=10)
    assert nobody.is_error and "User Not Found" in text_of(nobody)


async def test_update_and_remove_member_errors(mcp, mcp_as, text_of):
    missing = await mcp.call("update_project_member", project="acme/app", user_id=3, access_level=30)
    assert missing.is_error
    assert "Member 3 of acme/app not found" in text_of(missing)
    bob = await mcp_as("bob").call("remove_project_member", project="acme/app", user_id=1)
    assert bob.is_error
    assert "You do not have permission for this on Member 1 of acme/app" in text_of(bob)
    demote = await mcp_as("bob").call("update_project_member", project="acme/app", user_id=1, access_level=10)
    assert demote.is_error
    assert "You do not have permission" in text_of(demote)
