"""Writing to the repository: create/update/delete a file and multi-file commits, as each is one
commit on a branch that get_file and list_commits see afterwards.

acme/app: main is protected (maintainers push: alice yes, bob no); feature/login is open to
developers. charlie is no member of the public acme/website.
"""

from __future__ import annotations

import base64

COMMIT = {"project": "acme/app", "branch": "feature/login"}


async def newest_commit(mcp, ref):
    page = await mcp.call("list_commits", project="acme/app", ref_name=ref, per_page=1)
    return page.structured_content["items"][0]


async def read(mcp, path, ref="feature/login"):
    return await mcp.call("get_file", project="acme/app", file_path=path, ref=ref)


# --- create_file ----------------------------------------------------------------------------------
async def test_create_file_commits_on_the_branch(mcp_as, sim):
    bob = mcp_as("bob")
    args = {**COMMIT, "file_path": "docs/login.md", "content": "# Login\n", "commit_message": "Document login"}
    result = await bob.call("create_file", **args)
    assert not result.is_error
    assert result.structured_content == {"file_path": "docs/login.md", "branch": "feature/login"}
    commit = await newest_commit(bob, "feature/login")
    assert (commit["title"], commit["author_name"]) == ("Document login", "Bob Builder")
    file = (await read(bob, "docs/login.md")).structured_content
    assert (file["content"], file["last_commit_id"]) == ("# Login", commit["id"])
    assert (await read(bob, "docs/login.md", ref="main")).is_error  # only on that branch
    sent = next(r for r in sim.requests() if r["method"] == "POST")
    assert sent["path"] == "/api/v4/projects/acme%2Fapp/repository/files/docs%2Flogin.md"


async def test_create_file_on_a_new_branch_and_in_base64(mcp, mcp_as):
    args = {"project": "acme/app", "branch": "docs/setup", "start_branch": "main", "file_path": "logo2.png"}
    args |= {"content": base64.b64encode(b"\x89PNG\0\0").decode(), "encoding": "base64", "commit_message": "Logo"}
    result = await mcp_as("bob").call("create_file", **args)
    assert not result.is_error
    file = (await read(mcp, "logo2.png", ref="docs/setup")).structured_content
    assert (file["binary"], file["size"]) == (True, 6)
    branch = (await mcp.call("get_branch", project="acme/app", branch="docs/setup")).structured_content
    assert branch["commit"]["title"] == "Logo"


async def test_create_file_errors(mcp, mcp_as, text_of):
    args = {**COMMIT, "file_path": "README.md", "content": "x", "commit_message": "Again"}
    result = await mcp.call("create_file", **args)
    assert result.is_error
    assert "File README.md on feature/login in acme/app (HTTP 400): A file with this name already exists" in (
        text_of(result)
    )
    result = await mcp_as("bob").call("create_file", **args | {"branch": "main", "file_path": "new.md"})
    assert result.is_error and "You are not allowed to push into this branch" in text_of(result)
    result = await mcp.call("create_file", **args | {"branch": "nowhere", "file_path": "new.md"})
    assert result.is_error and "You can only create or edit files when you are on a branch" in text_of(result)
    args = {"project": "acme/website", "branch": "main", "file_path": "a.md", "content": "a", "commit_message": "a"}
    result = await mcp_as("charlie").call("create_file", **args)
    assert result.is_error and "You do not have permission for this on File a.md on main" in text_of(result)


# --- update_file ----------------------------------------------------------------------------------
async def test_update_file_with_last_commit_id(mcp):
    file = (await read(mcp, "src/login.py")).structured_content
    args = {**COMMIT, "file_path": "src/login.py", "content": "def login():\n    return False\n"}
    args |= {"commit_message": "Disable login", "last_commit_id": file["last_commit_id"]}
    result = await mcp.call("update_file", **args)
    assert not result.is_error and result.structured_content["file_path"] == "src/login.py"
    after = (await read(mcp, "src/login.py")).structured_content
    assert after["content"] == "def login():\n    return False"
    assert after["last_commit_id"] != file["last_commit_id"]
    assert (await newest_commit(mcp, "feature/login"))["title"] == "Disable login"


async def test_update_file_refuses_a_stale_edit_and_a_missing_file(mcp, text_of):
    old = (await read(mcp, "README.md")).structured_content["last_commit_id"]
    args = {**COMMIT, "file_path": "README.md", "content": "one\n", "commit_message": "One"}
    assert not (await mcp.call("update_file", **args)).is_error
    result = await mcp.call("update_file", **args | {"content": "two\n", "last_commit_id": old})
    assert result.is_error
    assert "You are attempting to update a file that has changed since you started editing it." in text_of(result)
    result = await mcp.call("update_file", **args | {"file_path": "nope.md"})
    assert result.is_error and "(HTTP 400): A file with this name doesn't exist" in text_of(result)


# --- delete_file ----------------------------------------------------------------------------------
async def test_delete_file(mcp, text_of):
    args = {**COMMIT, "file_path": "src/login.py", "commit_message": "Remove login"}
    result = await mcp.call("delete_file", **args)
    assert not result.is_error and result.structured_content == {"deleted": "src/login.py", "branch": "feature/login"}
    gone = await read(mcp, "src/login.py")
    assert gone.is_error and "404 File Not Found" in text_of(gone)
    assert (await newest_commit(mcp, "feature/login"))["title"] == "Remove login"
    again = await mcp.call("delete_file", **args)
    assert again.is_error and "A file with this name doesn't exist" in text_of(again)


async def test_delete_file_needs_push_access(mcp_as, text_of):
    args = {"project": "acme/app", "branch": "main", "file_path": "README.md", "commit_message": "Bye"}
    result = await mcp_as("bob").call("delete_file", **args)
    assert result.is_error and "You are not allowed to push into this branch" in text_of(result)
    result = await mcp_as("charlie").call("delete_file", **args)
    assert result.is_error and "File README.md on main in acme/app not found or you have no access" in text_of(result)


# --- create_commit --------------------------------------------------------------------------------
async def test_create_commit_with_several_actions(mcp_as):
    bob = mcp_as("bob")
    actions = [
        {"action": "create", "file_path": "src/auth/session.py", "content": "SESSIONS = {}\n"},
        {"action": "update", "file_path": "src/login.py", "content": "def login():\n    return True\n"},
        {"action": "move", "file_path": "scripts/release.sh", "previous_path": "scripts/deploy.sh"},
        {"action": "delete", "file_path": ".gitignore"},
        {"action": "chmod", "file_path": "src/app.py", "execute_filemode": True},
    ]
    result = await bob.call("create_commit", **COMMIT, commit_message="Rework login\n\nAnd more.", actions=actions)
    assert not result.is_error
    commit = result.structured_content
    assert (commit["title"], commit["branch"], commit["stats"]["deletions"]) == ("Rework login", "feature/login", 4)
    assert commit["stats"]["additions"] == 3 and len(commit["parent_ids"]) == 1
    assert (await newest_commit(bob, "feature/login"))["id"] == commit["id"]
    tree = await bob.call("get_repository_tree", project="acme/app", ref="feature/login", recursive=True, per_page=100)
    paths = {e["path"] for e in tree.structured_content["items"]}
    assert {"src/auth/session.py", "scripts/release.sh"} <= paths
    assert not {".gitignore", "scripts/deploy.sh"} & paths
    moved = (await read(bob, "scripts/release.sh")).structured_content
    assert moved["content"].startswith("#!/bin/sh")


async def test_create_commit_starts_a_new_branch(mcp):
    actions = [{"action": "create", "file_path": "CHANGES.md", "content": "- login\n"}]
    args = {"project": "acme/app", "branch": "release/2", "start_branch": "feature/login"}
    result = await mcp.call("create_commit", **args, commit_message="Changes", actions=actions)
    assert not result.is_error
    commits = await mcp.call("list_commits", project="acme/app", ref_name="release/2", per_page=2)
    assert [c["title"] for c in commits.structured_content["items"]] == ["Changes", "Mention login in README"]


async def test_create_commit_errors(mcp, mcp_as, text_of):
    create = [{"action": "create", "file_path": "README.md", "content": "x"}]
    result = await mcp.call("create_commit", **COMMIT, commit_message="x", actions=create)
    assert result.is_error and "Branch feature/login in acme/app (HTTP 400): A file with this name already exists" in (
        text_of(result)
    )
    update = [{"action": "update", "file_path": "README.md"}]
    result = await mcp.call("create_commit", **COMMIT, commit_message="x", actions=update)
    assert result.is_error and "actions[0][content] is required for update action" in text_of(result)
    stale = [{"action": "delete", "file_path": "README.md", "last_commit_id": "0" * 40}]
    result = await mcp.call("create_commit", **COMMIT, commit_message="x", actions=stale)
    assert result.is_error and "The file has changed since you started editing it: README.md" in text_of(result)
    fine = [{"action": "create", "file_path": "b.md", "content": "b"}]
    result = await mcp_as("bob").call(
        "create_commit", project="acme/app", branch="main", commit_message="x", actions=fine
    )
    assert result.is_error and "(HTTP 403)" not in text_of(result)
    assert "You do not have permission for this on Branch main in acme/app: 403 Forbidden - You are not allowed" in (
        text_of(result)
    )
    result = await mcp.call("create_commit", **COMMIT, commit_message="x", actions=[])
    assert result.is_error and "actions" in text_of(result)
    assert (await newest_commit(mcp, "feature/login"))["title"] == "Mention login in README"
