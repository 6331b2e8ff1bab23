"""Tools of the groups toolset, as alice, bob and charlie.

The seed (tests/gitlab_sim/areas/groups.py): acme (10, public; alice Maintainer) with its private subgroup
acme/platform (11; charlie Developer, alice inherits Maintainer), and bob's private group labs (12).
bob sees acme through his membership of acme/app.
"""

from __future__ import annotations

from typing import Any


def paths(result: Any) -> list[str]:
    assert not result.is_error, result
    return [item.get("full_path") or item["path_with_namespace"] for item in result.structured_content["items"]]


# --- list_groups -----------------------------------------------------------------------------------
async def test_list_groups_gives_your_groups_by_name(mcp, mcp_as):
    result = await mcp.call("list_groups")
    assert paths(result) == ["acme", "acme/platform"]
    assert result.structured_content["items"][1] == {
        "id": 11,
        "name": "Platform",
        "full_path": "acme/platform",
        "description": "Shared services of Acme",
        "visibility": "private",
        "parent_id": 10,
        "web_url": "http://gitlab.sim/groups/acme/platform",
    }
    assert paths(await mcp_as("bob").call("list_groups")) == ["acme", "labs"]
    charlie = mcp_as("charlie")
    assert paths(await charlie.call("list_groups")) == ["acme/platform"]
    assert paths(await charlie.call("list_groups", all_available=True)) == ["acme", "acme/platform"]


async def test_list_groups_filters(mcp, mcp_as):
    assert paths(await mcp.call("list_groups", top_level_only=True)) == ["acme"]
    assert paths(await mcp.call("list_groups", search="plat")) == ["acme/platform"]
    assert paths(await mcp.call("list_groups", min_access_level=40)) == ["acme", "acme/platform"]
    assert paths(await mcp.call("list_groups", owned=True)) == []
    assert paths(await mcp_as("bob").call("list_groups", owned=True)) == ["labs"]
    assert paths(await mcp_as("charlie").call("list_groups", min_access_level=40)) == []


async def test_list_groups_rejects_an_unknown_access_level(mcp, text_of):
    result = await mcp.call("list_groups", min_access_level=35)
    assert result.is_error
    assert "min_access_level" in text_of(result)


# --- get_group -------------------------------------------------------------------------------------
async def test_get_group_by_path_and_id(mcp, sim):
    group = await mcp.call("get_group", group="acme/platform")
    assert not group.is_error, group
    assert group.structured_content["full_name"] == "Acme / Platform"
    assert group.structured_content["project_creation_level"] == "maintainer"
    assert any("with_projects=false" in r["query"] for r in sim.requests())  # no embedded project list
    assert (await mcp.call("get_group", group="10")).structured_content["full_path"] == "acme"


async def test_get_group_hidden_from_you(mcp, text_of):
    result = await mcp.call("get_group", group="labs")
    assert result.is_error
    assert "Group labs not found or you have no access" in text_of(result)


# --- list_subgroups --------------------------------------------------------------------------------
async def test_list_subgroups_shows_those_you_can_see(mcp, mcp_as):
    assert paths(await mcp.call("list_subgroups", group="acme")) == ["acme/platform"]
    assert paths(await mcp_as("bob").call("list_subgroups", group="acme")) == []  # private, not a member
    assert paths(await mcp.call("list_subgroups", group="acme", search="zzz")) == []


async def test_list_subgroups_of_a_hidden_group(mcp_as, text_of):
    result = await mcp_as("charlie").call("list_subgroups", group="12")
    assert result.is_error
    assert "Group 12 not found or you have no access" in text_of(result)


# --- list_group_projects ---------------------------------------------------------------------------
async def test_list_group_projects_most_recently_active_first(mcp, mcp_as):
    assert paths(await mcp.call("list_group_projects", group="acme")) == ["acme/website", "acme/app"]
    assert paths(await mcp_as("charlie").call("list_group_projects", group="acme")) == ["acme/website"]
    assert paths(await mcp.call("list_group_projects", group="acme", search="app")) == ["acme/app"]
    assert paths(await mcp.call("list_group_projects", group="acme", archived=True)) == []
    await mcp.call("archive_project", project="acme/website")
    assert paths(await mcp.call("list_group_projects", group="acme", archived=True)) == ["acme/website"]


async def test_list_group_projects_with_subgroups(mcp):
    created = await mcp.call("create_project", name="tools", namespace_id=11)
    assert not created.is_error, created
    assert "acme/platform/tools" not in paths(await mcp.call("list_group_projects", group="acme"))
    every = paths(await mcp.call("list_group_projects", group="acme", include_subgroups=True))
    assert sorted(every) == ["acme/app", "acme/platform/tools", "acme/website"]


async def test_list_group_projects_of_a_hidden_group(mcp, text_of):
    result = await mcp.call("list_group_projects", group="labs")
    assert result.is_error
    assert "Group labs not found or you have no access" in text_of(result)


# --- list_group_members ----------------------------------------------------------------------------
async def test_list_group_members_includes_inherited_ones(mcp):
    result = await mcp.call("list_group_members", group="acme/platform")
    assert not result.is_error, result
    members = result.structured_content["items"]
    assert [(m["username"], m["access_level"]) for m in members] == [("alice", 40), ("charlie", 30)]
    found = await mcp.call("list_group_members", group="acme/platform", query="char")
    assert [m["username"] for m in found.structured_content["items"]] == ["charlie"]


async def test_list_group_members_of_a_hidden_group(mcp_as, text_of):
    result = await mcp_as("charlie").call("list_group_members", group="labs")
    assert result.is_error
    assert "Group labs not found or you have no access" in text_of(result)
