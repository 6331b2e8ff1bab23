"""Tools of the wiki area, through the MCP SDK client: project wikis as alice (maintainer of acme/app),
bob (developer) and charlie (no role; acme/website is public), and the wiki of the public acme group
(alice maintainer) and of bob's private labs group.

The seed (tests/gitlab_sim/areas/wiki.py): acme/app has home, Getting-Started, docs/deploy and a
1,500-line Runbook; alice/notes has its wiki turned off; the acme group has home and Handbook.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.gitlab_sim.seed import TOKENS
from tests.inprocess import Sim


def slugs(result: Any) -> list[str]:
    assert not result.is_error, result
    return [page["slug"] for page in result.structured_content["items"]]


def in_gitlab(sim: Sim, path: str) -> httpx.Response:
    return sim.http.get(f"{sim.url}/api/v4{path}", headers={"PRIVATE-TOKEN": TOKENS["alice"]})


async def test_the_wiki_tools_are_listed_with_their_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    for prefix in ("", "group_"):
        assert tools[f"list_{prefix}wiki_pages"].annotations.read_only_hint is True
        assert tools[f"get_{prefix}wiki_page"].annotations.read_only_hint is True
        assert tools[f"create_{prefix}wiki_page"].annotations.read_only_hint is False
        assert tools[f"update_{prefix}wiki_page"].annotations.destructive_hint is False
        assert tools[f"delete_{prefix}wiki_page"].annotations.destructive_hint is True
    schema = tools["create_wiki_page"].input_schema
    assert schema["properties"]["format"]["enum"] == ["markdown", "rdoc", "asciidoc", "org"]


# --- project wikis -----------------------------------------------------------------------------
async def test_list_wiki_pages_gives_slugs_and_titles_without_content(mcp, mcp_as, sim: Sim):
    result = await mcp.call("list_wiki_pages", project="acme/app")
    assert slugs(result) == ["docs/deploy", "Getting-Started", "home", "Runbook"]
    assert result.structured_content["items"][1] == {
        "slug": "Getting-Started",
        "title": "Getting Started",
        "format": "markdown",
    }
    assert result.structured_content["total"] == 4
    assert any(
        r["path"] == "/api/v4/projects/acme%2Fapp/wikis" and "with_content=false" in r["query"] for r in sim.requests()
    )
    # A public project's wiki is readable without a role.
    assert slugs(await mcp_as("charlie").call("list_wiki_pages", project="acme/website")) == ["home"]


async def test_list_wiki_pages_errors(mcp, mcp_as, text_of):
    disabled = await mcp.call("list_wiki_pages", project="alice/notes")
    assert disabled.is_error and "You do not have permission for this on Wiki of alice/notes" in text_of(disabled)
    hidden = await mcp_as("charlie").call("list_wiki_pages", project="acme/app")
    assert hidden.is_error and "Wiki of acme/app not found or you have no access" in text_of(hidden)


async def test_get_wiki_page_reads_a_page_by_its_slug(mcp, sim: Sim):
    page = await mcp.call("get_wiki_page", project="acme/app", slug="docs/deploy")
    assert page.structured_content == {
        "slug": "docs/deploy",
        "title": "deploy",
        "format": "markdown",
        "content": "Deploys go through the production pipeline.",
        "first_line": 1,
        "last_line": 1,
        "total_lines": 1,
        "truncated": False,
    }
    # doc/api/wikis.md: the slug is URL-encoded in the path (dir%2Fpage_name).
    assert any(r["path"] == "/api/v4/projects/acme%2Fapp/wikis/docs%2Fdeploy" for r in sim.requests())


async def test_get_wiki_page_caps_long_pages_and_reads_on(mcp):
    first = (await mcp.call("get_wiki_page", project="acme/app", slug="Runbook")).structured_content
    assert (first["first_line"], first["last_line"], first["total_lines"], first["truncated"]) == (1, 348, 1500, True)
    assert len(first["content"]) <= 20_000 and "pass start_line" in first["hint"]
    later = await mcp.call("get_wiki_page", project="acme/app", slug="Runbook", start_line=1499, line_count=5)
    window = later.structured_content
    assert (window["first_line"], window["last_line"]) == (1499, 1500)
    assert window["content"].splitlines()[-1].startswith("1500. Check service number 1500")


async def test_get_wiki_page_errors(mcp, text_of):
    missing = await mcp.call("get_wiki_page", project="acme/app", slug="nope")
    assert missing.is_error and "Wiki page nope in acme/app not found" in text_of(missing)
    assert "404 Wiki Page Not Found" in text_of(missing)


async def test_create_wiki_page_makes_the_slug_from_the_title(mcp_as, sim: Sim):
    bob = mcp_as("bob")  # developers can write the wiki
    created = await bob.call(
        "create_wiki_page", project="acme/app", title="Release Process", content="1. Tag\n2. Ship\n"
    )
    assert created.structured_content == {"slug": "Release-Process", "title": "Release Process", "format": "markdown"}
    stored = in_gitlab(sim, "/projects/101/wikis/Release-Process").json()
    assert stored["content"] == "1. Tag\n2. Ship\n"
    nested = await bob.call(
        "create_wiki_page", project="acme/app", title="docs/API notes", content="= API", format="asciidoc"
    )
    assert nested.structured_content == {"slug": "docs/API-notes", "title": "API notes", "format": "asciidoc"}


async def test_create_wiki_page_errors(mcp, mcp_as, text_of):
    duplicate = await mcp.call("create_wiki_page", project="acme/app", title="Getting Started", content="again")
    assert duplicate.is_error and "A page with that title already exists" in text_of(duplicate)
    charlie = await mcp_as("charlie").call("create_wiki_page", project="acme/website", title="Hi", content="x")
    assert charlie.is_error and "You do not have permission" in text_of(charlie)


async def test_update_wiki_page_changes_content_and_renames(mcp, sim: Sim):
    edited = await mcp.call("update_wiki_page", project="acme/app", slug="home", content="# New home\n")
    assert edited.structured_content == {"slug": "home", "title": "home", "format": "markdown"}
    assert in_gitlab(sim, "/projects/101/wikis/home").json()["content"] == "# New home\n"
    renamed = await mcp.call(
        "update_wiki_page", project="acme/app", slug="docs/deploy", title="Deploying", format="org"
    )
    assert renamed.structured_content == {"slug": "docs/Deploying", "title": "Deploying", "format": "org"}
    assert in_gitlab(sim, "/projects/101/wikis/docs%2Fdeploy").status_code == 404


async def test_update_wiki_page_errors(mcp, text_of):
    nothing = await mcp.call("update_wiki_page", project="acme/app", slug="home")
    assert nothing.is_error and "at least one parameter must be provided" in text_of(nothing)
    missing = await mcp.call("update_wiki_page", project="acme/app", slug="nope", content="x")
    assert missing.is_error and "not found" in text_of(missing)
    clash = await mcp.call("update_wiki_page", project="acme/app", slug="home", title="Runbook")
    assert clash.is_error and "already exists" in text_of(clash)


async def test_delete_wiki_page(mcp, mcp_as, sim: Sim, text_of):
    deleted = await mcp.call("delete_wiki_page", project="acme/app", slug="docs/deploy")
    assert deleted.structured_content == {"deleted": True, "slug": "docs/deploy"}
    assert in_gitlab(sim, "/projects/101/wikis/docs%2Fdeploy").status_code == 404
    again = await mcp.call("delete_wiki_page", project="acme/app", slug="docs/deploy")
    assert again.is_error and "not found" in text_of(again)
    charlie = await mcp_as("charlie").call("delete_wiki_page", project="acme/website", slug="home")
    assert charlie.is_error and "permission" in text_of(charlie)


# --- group wikis -------------------------------------------------------------------------------
async def test_group_wiki_pages_are_listed_and_read(mcp, text_of):
    assert slugs(await mcp.call("list_group_wiki_pages", group="acme")) == ["Handbook", "home"]
    page = await mcp.call("get_group_wiki_page", group="10", slug="Handbook")
    assert (page.structured_content["title"], page.structured_content["content"]) == (
        "Handbook",
        "How we work at Acme.",
    )
    private = await mcp.call("list_group_wiki_pages", group="labs")
    assert private.is_error and "Wiki of group labs not found or you have no access" in text_of(private)
    missing = await mcp.call("get_group_wiki_page", group="acme", slug="nope")
    assert missing.is_error and "Wiki page nope in group acme not found" in text_of(missing)


async def test_group_wiki_pages_are_written_by_members(mcp, mcp_as, sim: Sim, text_of):
    created = await mcp.call("create_group_wiki_page", group="acme", title="On Call", content="Rota", format="rdoc")
    assert created.structured_content == {"slug": "On-Call", "title": "On Call", "format": "rdoc"}
    updated = await mcp.call("update_group_wiki_page", group="acme", slug="On-Call", content="New rota")
    assert updated.structured_content["slug"] == "On-Call"
    assert in_gitlab(sim, "/groups/10/wikis/On-Call").json()["content"] == "New rota"
    deleted = await mcp.call("delete_group_wiki_page", group="acme", slug="On-Call")
    assert deleted.structured_content == {"deleted": True, "slug": "On-Call"}
    assert in_gitlab(sim, "/groups/10/wikis/On-Call").status_code == 404
    charlie = mcp_as("charlie")  # can read the public acme group, not write its wiki
    assert slugs(await charlie.call("list_group_wiki_pages", group="acme")) == ["Handbook", "home"]
    for tool, args in (
        ("create_group_wiki_page", {"title": "X", "content": "y"}),
        ("update_group_wiki_page", {"slug": "home", "content": "y"}),
        ("delete_group_wiki_page", {"slug": "home"}),
    ):
        refused = await charlie.call(tool, group="acme", **args)
        assert refused.is_error and "You do not have permission" in text_of(refused), tool
