"""Tools of the branches toolset (branches, tags and their protection), through the MCP SDK client.

acme/app (tests/gitlab_sim/areas/repository/ and branches/): branches main (protected, default),
feature/login (two commits ahead, source of an open MR) and fix/typo (merged); tags v0.1.0
(lightweight) and v1.0.0 (annotated), `v*` protected. alice is a maintainer there, bob a developer;
charlie is no member (acme/website is public).
"""

from __future__ import annotations

HIDDEN = "not found or you have no access"


async def branch_names(mcp):
    return [b["name"] for b in (await mcp.call("list_branches", project="acme/app")).structured_content["items"]]


# --- list_branches, get_branch --------------------------------------------------------------------
async def test_list_branches_with_default_protected_and_merged(mcp):
    result = await mcp.call("list_branches", project="acme/app")
    assert not result.is_error
    page = result.structured_content
    branches = {b["name"]: b for b in page["items"]}
    assert list(branches) == ["feature/login", "fix/typo", "main"]
    main = branches["main"]
    assert (main["default"], main["protected"], main["merged"], main["developers_can_push"]) == (
        True,
        True,
        False,
        False,
    )
    assert main["web_url"] == "http://gitlab.sim/acme/app/-/tree/main"
    assert main["commit"] == {
        "short_id": main["commit"]["short_id"],
        "title": "Document setup steps in README",
        "committed_date": "2024-03-01T10:05:00.000+00:00",
    }
    assert branches["fix/typo"]["merged"] is True and branches["feature/login"]["merged"] is False
    assert page["total"] == 3


async def test_list_branches_searches_and_pages(mcp):
    found = (await mcp.call("list_branches", project="acme/app", search="^fix")).structured_content
    assert [b["name"] for b in found["items"]] == ["fix/typo"]
    found = (await mcp.call("list_branches", project="acme/app", search="LOGIN")).structured_content
    assert [b["name"] for b in found["items"]] == ["feature/login"]
    first = (await mcp.call("list_branches", project="acme/app", per_page=2)).structured_content
    assert (len(first["items"]), first["next_page"], first["total"]) == (2, 2, 3)


async def test_list_branches_errors(mcp, text_of):
    result = await mcp.call("list_branches", project="bob/secret")
    assert result.is_error
    assert f"Branches of bob/secret {HIDDEN}: 404 Project Not Found" in text_of(result)
    result = await mcp.call("list_branches", project="acme/app", per_page=0)
    assert result.is_error and "per_page" in text_of(result)


async def test_get_branch_says_who_can_push(mcp, mcp_as, text_of):
    main = (await mcp.call("get_branch", project="acme/app", branch="main")).structured_content
    assert (main["name"], main["protected"], main["can_push"], main["developers_can_merge"]) == (
        "main",
        True,
        True,
        False,
    )
    as_bob = (await mcp_as("bob").call("get_branch", project="acme/app", branch="main")).structured_content
    assert as_bob["can_push"] is False
    login = (await mcp_as("bob").call("get_branch", project="acme/app", branch="feature/login")).structured_content
    assert (login["can_push"], login["commit"]["title"]) == (True, "Mention login in README")
    result = await mcp.call("get_branch", project="acme/app", branch="nope")
    assert result.is_error
    assert f"Branch nope in acme/app {HIDDEN}: 404 Branch Not Found" in text_of(result)


# --- create_branch, delete_branch, delete_merged_branches -----------------------------------------
async def test_create_branch_from_a_ref(mcp, mcp_as):
    result = await mcp_as("bob").call("create_branch", project="acme/app", branch="feature/api", ref="fix/typo")
    assert not result.is_error
    branch = result.structured_content
    assert (branch["name"], branch["protected"], branch["can_push"], branch["merged"]) == (
        "feature/api",
        False,
        True,
        True,
    )
    assert branch["commit"]["title"] == "Fix greeting punctuation"
    assert "feature/api" in await branch_names(mcp)
    readme = await mcp.call("get_file", project="acme/app", file_path="README.md", ref="feature/api")
    assert "## Setup" not in readme.structured_content["content"]  # the files as of fix/typo


async def test_create_branch_errors(mcp, mcp_as, text_of):
    result = await mcp.call("create_branch", project="acme/app", branch="main", ref="feature/login")
    assert result.is_error and "Branch main in acme/app" in text_of(result)
    assert "(HTTP 400): Branch already exists" in text_of(result)
    result = await mcp.call("create_branch", project="acme/app", branch="x", ref="no-such-ref")
    assert "Failed to create branch 'x': invalid reference name 'no-such-ref'" in text_of(result)
    result = await mcp.call("create_branch", project="acme/app", branch="bad..name", ref="main")
    assert "Branch name is invalid" in text_of(result)
    result = await mcp_as("charlie").call("create_branch", project="acme/website", branch="x", ref="main")
    assert result.is_error and "You do not have permission for this on Branch x in acme/website" in text_of(result)


async def test_delete_branch(mcp):
    result = await mcp.call("delete_branch", project="acme/app", branch="fix/typo")
    assert not result.is_error and result.structured_content == {"deleted": "fix/typo"}
    assert await branch_names(mcp) == ["feature/login", "main"]


async def test_delete_branch_errors(mcp, mcp_as, text_of):
    result = await mcp.call("delete_branch", project="acme/app", branch="main")
    assert result.is_error and "The default branch of a project cannot be deleted." in text_of(result)
    result = await mcp.call("delete_branch", project="acme/app", branch="gone")
    assert result.is_error and f"Branch gone in acme/app {HIDDEN}: 404 Branch Not Found" in text_of(result)
    await mcp.call("protect_branch", project="acme/app", name="feature/*", push_access_level=30)
    result = await mcp_as("bob").call("delete_branch", project="acme/app", branch="feature/login")
    assert result.is_error and "Only a project maintainer or owner can delete a protected branch." in text_of(result)
    assert "feature/login" in await branch_names(mcp)


async def test_delete_merged_branches_keeps_protected_and_open_merge_request_branches(mcp, mcp_as, text_of):
    await mcp.call("create_branch", project="acme/app", branch="old/merged", ref="main")
    await mcp.call("create_branch", project="acme/app", branch="release/1", ref="main")
    await mcp.call("protect_branch", project="acme/app", name="release/*")
    result = await mcp.call("delete_merged_branches", project="acme/app")
    assert not result.is_error and result.structured_content["accepted"] is True
    assert await branch_names(mcp) == ["feature/login", "main", "release/1"]
    result = await mcp_as("charlie").call("delete_merged_branches", project="acme/website")
    assert result.is_error and "You do not have permission for this on Project acme/website" in text_of(result)


# --- protected branches ---------------------------------------------------------------------------
async def test_list_protected_branches(mcp, mcp_as, text_of):
    result = await mcp_as("bob").call("list_protected_branches", project="acme/app")
    assert not result.is_error
    assert result.structured_content["items"] == [
        {"name": "main", "allow_force_push": False, "push": ["Maintainers"], "merge": ["Maintainers"]}
    ]
    result = await mcp.call("list_protected_branches", project="bob/secret")
    assert result.is_error and f"Protected branches of bob/secret {HIDDEN}" in text_of(result)


async def test_protect_branch_lets_developers_push_by_wildcard(mcp, mcp_as):
    args = {"project": "acme/app", "name": "feature/*", "push_access_level": 30, "allow_force_push": True}
    result = await mcp.call("protect_branch", **args)
    assert not result.is_error
    assert result.structured_content == {
        "name": "feature/*",
        "allow_force_push": True,
        "push": ["Developers + Maintainers"],
        "merge": ["Maintainers"],
    }
    login = (await mcp_as("bob").call("get_branch", project="acme/app", branch="feature/login")).structured_content
    assert (login["protected"], login["developers_can_push"], login["can_push"]) == (True, True, True)
    await mcp.call("protect_branch", project="acme/app", name="fix/*", push_access_level=0)
    typo = (await mcp.call("get_branch", project="acme/app", branch="fix/typo")).structured_content
    assert (typo["protected"], typo["can_push"]) == (True, False)  # 0: no one, maintainers neither


async def test_protect_branch_errors(mcp, mcp_as, text_of):
    result = await mcp.call("protect_branch", project="acme/app", name="main")
    assert result.is_error and "(HTTP 409): Protected branch 'main' already exists" in text_of(result)
    result = await mcp_as("bob").call("protect_branch", project="acme/app", name="dev")
    assert result.is_error and "You do not have permission for this on Protected branch dev" in text_of(result)
    result = await mcp.call("protect_branch", project="acme/app", name="dev", push_access_level=20)
    assert result.is_error and "push_access_level" in text_of(result)


async def test_unprotect_branch(mcp, mcp_as, text_of):
    result = await mcp.call("unprotect_branch", project="acme/app", name="main")
    assert not result.is_error and result.structured_content == {"unprotected": "main"}
    main = (await mcp_as("bob").call("get_branch", project="acme/app", branch="main")).structured_content
    assert (main["protected"], main["can_push"]) == (False, True)
    result = await mcp.call("unprotect_branch", project="acme/app", name="main")
    assert result.is_error and f"Protected branch main in acme/app {HIDDEN}: 404 Not found" in text_of(result)
    result = await mcp_as("bob").call("unprotect_branch", project="bob/secret", name="main")
    assert not result.is_error  # bob owns it
    result = await mcp_as("bob").call("unprotect_branch", project="acme/app", name="main")
    assert result.is_error and "You do not have permission" in text_of(result)


# --- tags -----------------------------------------------------------------------------------------
async def test_list_tags_newest_first(mcp):
    result = await mcp.call("list_tags", project="acme/app")
    assert not result.is_error
    tags = result.structured_content["items"]
    assert [t["name"] for t in tags] == ["v1.0.0", "v0.1.0"]
    assert (tags[0]["message"], tags[0]["protected"], tags[0]["commit"]["title"]) == (
        "Release 1.0.0",
        True,
        "Document setup steps in README",
    )
    assert tags[1]["message"] is None and tags[1]["created_at"] is None  # lightweight
    by_name = (await mcp.call("list_tags", project="acme/app", order_by="name", sort="asc")).structured_content
    assert [t["name"] for t in by_name["items"]] == ["v0.1.0", "v1.0.0"]
    found = (await mcp.call("list_tags", project="acme/app", search="^v1")).structured_content
    assert [t["name"] for t in found["items"]] == ["v1.0.0"]


async def test_get_tag(mcp, text_of):
    tag = (await mcp.call("get_tag", project="acme/app", tag_name="v1.0.0")).structured_content
    assert tag["message"] == "Release 1.0.0" and "release" in tag  # (the releases area seeds one)
    assert len(tag["target"]) == 40 and not tag["target"].startswith(tag["commit"]["short_id"])  # the tag object
    light = (await mcp.call("get_tag", project="acme/app", tag_name="v0.1.0")).structured_content
    assert (light["release"], light["target"][:8], light["commit"]["title"]) == (
        None,
        light["commit"]["short_id"],
        "Add text utilities",
    )
    result = await mcp.call("get_tag", project="acme/app", tag_name="v9")
    assert result.is_error and f"Tag v9 in acme/app {HIDDEN}: 404 Tag Not Found" in text_of(result)
    result = await mcp.call("list_tags", project="bob/secret")
    assert result.is_error and "404 Project Not Found" in text_of(result)


async def test_create_tag_lightweight_and_annotated(mcp, mcp_as):
    result = await mcp_as("bob").call("create_tag", project="acme/app", tag_name="build-7", ref="feature/login")
    assert not result.is_error
    tag = result.structured_content
    assert (tag["name"], tag["message"], tag["protected"], tag["commit"]["title"]) == (
        "build-7",
        None,
        False,
        "Mention login in README",
    )
    assert tag["target"].startswith(tag["commit"]["short_id"])
    args = {"project": "acme/app", "tag_name": "v1.1.0", "ref": "main", "message": "Release 1.1.0"}
    annotated = (await mcp.call("create_tag", **args)).structured_content
    assert (annotated["message"], annotated["protected"]) == ("Release 1.1.0", True)
    assert annotated["created_at"] is not None


async def test_create_tag_errors(mcp, mcp_as, text_of):
    result = await mcp.call("create_tag", project="acme/app", tag_name="v1.0.0", ref="main")
    assert result.is_error and "(HTTP 400): Tag v1.0.0 already exists" in text_of(result)
    result = await mcp_as("bob").call("create_tag", project="acme/app", tag_name="v2.0.0", ref="main")
    assert result.is_error and "You are not allowed to create this tag as it is protected." in text_of(result)
    result = await mcp.call("create_tag", project="acme/app", tag_name="x", ref="nowhere")
    assert result.is_error and "Target nowhere is invalid" in text_of(result)


async def test_delete_tag(mcp, mcp_as, text_of):
    result = await mcp_as("bob").call("delete_tag", project="acme/app", tag_name="v0.1.0")
    assert result.is_error and "You do not have permission for this on Tag v0.1.0" in text_of(result)
    result = await mcp.call("delete_tag", project="acme/app", tag_name="v0.1.0")
    assert not result.is_error and result.structured_content == {"deleted": "v0.1.0"}
    names = [t["name"] for t in (await mcp.call("list_tags", project="acme/app")).structured_content["items"]]
    assert names == ["v1.0.0"]
    result = await mcp.call("delete_tag", project="acme/app", tag_name="v0.1.0")
    assert result.is_error and "404 Tag Not Found" in text_of(result)


# --- protected tags -------------------------------------------------------------------------------
async def test_list_protected_tags_needs_a_maintainer(mcp, mcp_as, text_of):
    result = await mcp.call("list_protected_tags", project="acme/app")
    assert not result.is_error and result.structured_content["items"] == [{"name": "v*", "create": ["Maintainers"]}]
    result = await mcp_as("bob").call("list_protected_tags", project="acme/app")
    assert result.is_error and "You do not have permission for this on Protected tags of acme/app" in text_of(result)


async def test_protect_and_unprotect_tags(mcp, mcp_as, text_of):
    result = await mcp.call("protect_tag", project="acme/app", name="release-*", create_access_level=30)
    assert not result.is_error
    assert result.structured_content == {"name": "release-*", "create": ["Developers + Maintainers"]}
    made = await mcp_as("bob").call("create_tag", project="acme/app", tag_name="release-1", ref="main")
    assert made.structured_content["protected"] is True
    result = await mcp.call("protect_tag", project="acme/app", name="v*")
    assert result.is_error and "(HTTP 409): Protected tag 'v*' already exists" in text_of(result)
    result = await mcp.call("unprotect_tag", project="acme/app", name="v*")
    assert not result.is_error and result.structured_content == {"unprotected": "v*"}
    made = await mcp_as("bob").call("create_tag", project="acme/app", tag_name="v2.0.0", ref="main")
    assert not made.is_error and made.structured_content["protected"] is False
    result = await mcp.call("unprotect_tag", project="acme/app", name="v*")
    assert result.is_error and "404 Not found" in text_of(result)
