"""Tools of the releases area, through the MCP SDK client: as alice (maintainer of acme/app), bob (developer
there) and charlie (no member anywhere; sees the public acme/website).

The seed (tests/gitlab_sim/areas/releases/): acme/app has v1.0.0 (links 601 runbook and 602 package),
v1.1.0 and the upcoming v2.0.0, and a tag v1.2.0 without a release; acme/website has v2024.1.
"""

from __future__ import annotations

from typing import Any

import pytest


def ok(result: Any) -> Any:
    assert not result.is_error, result
    return result.structured_content


def failed(result: Any, text_of: Any) -> str:
    assert result.is_error, result
    return str(text_of(result))


# --- list_releases / get_release ---------------------------------------------------------------
async def test_list_releases_gives_the_newest_release_first_with_pagination(mcp):
    page = ok(await mcp.call("list_releases", project="acme/app", per_page=2))
    assert [r["tag_name"] for r in page["items"]] == ["v2.0.0", "v1.1.0"]
    assert (page["page"], page["next_page"], page["total"]) == (1, 2, 3)
    assert page["items"][0] == {
        "tag_name": "v2.0.0",
        "name": "Version 2.0.0",
        "released_at": "2030-01-01T00:00:00.000Z",
        "created_at": "2024-03-10T00:00:00.000Z",
        "author": "alice",
        "upcoming_release": True,
        "web_url": "http://gitlab.sim/acme/app/-/releases/v2.0.0",
    }
    oldest = ok(await mcp.call("list_releases", project="101", order_by="created_at", sort="asc"))
    assert [r["tag_name"] for r in oldest["items"]] == ["v1.0.0", "v1.1.0", "v2.0.0"]


async def test_list_releases_of_a_hidden_project_says_not_found(mcp, text_of):
    text = failed(await mcp.call("list_releases", project="bob/secret"), text_of)
    assert "Releases of bob/secret not found or you have no access: 404 Project Not Found" in text


async def test_get_release_gives_notes_commit_milestones_and_assets(mcp):
    release = ok(await mcp.call("get_release", project="acme/app", tag_name="v1.0.0"))
    assert release["description"].startswith("## Highlights")
    assert (release["name"], release["author"], release["milestones"]) == ("Version 1.0.0", "alice", ["v1.0"])
    assert release["commit"]["short_id"] == release["commit"]["id"][:8] and release["commit"]["title"]
    assert release["historical_release"] is False and release["upcoming_release"] is False
    links = release["assets"]["links"]
    assert [(link["id"], link["link_type"]) for link in links] == [(602, "package"), (601, "runbook")]
    assert links[0]["direct_asset_url"] == "http://gitlab.sim/acme/app/-/releases/v1.0.0/downloads/bin/app-linux-amd64"
    assert links[1]["direct_asset_url"] == "https://wiki.acme.example/runbooks/app"
    sources = release["assets"]["sources"]
    assert list(sources) == ["zip", "tar.gz", "tar.bz2", "tar"]
    assert sources["zip"] == "http://gitlab.sim/acme/app/-/archive/v1.0.0/app-v1.0.0.zip"


async def test_get_release_of_a_public_project_as_a_non_member(mcp_as):
    release = ok(await mcp_as("charlie").call("get_release", project="acme/website", tag_name="v2024.1"))
    assert (release["tag_name"], release["name"], release["author"]) == ("v2024.1", "Website 2024.1", "alice")


async def test_get_release_of_a_tag_without_release_says_not_found(mcp, text_of):
    text = failed(await mcp.call("get_release", project="acme/app", tag_name="v1.2.0"), text_of)
    assert "Release v1.2.0 in acme/app not found or you have no access: 404 Not Found" in text


# --- create_release ----------------------------------------------------------------------------
async def test_create_release_for_an_existing_tag(mcp):
    link = {"name": "app.tar.gz", "url": "https://downloads.acme.example/1.2.0", "direct_asset_path": "/bin/app"}
    created = ok(
        await mcp.call(
            "create_release",
            project="acme/app",
            tag_name="v1.2.0",
            description="Login form.",
            milestones=["v1.1"],
            released_at="2024-03-07T08:00:00Z",
            links=[link, {"name": "Screenshot", "url": "https://img.acme.example/1.png", "link_type": "image"}],
        )
    )
    assert (created["tag_name"], created["name"], created["author"]) == ("v1.2.0", "v1.2.0", "alice")
    assert (created["released_at"], created["milestones"]) == ("2024-03-07T08:00:00.000Z", ["v1.1"])
    assert created["historical_release"] is True  # released before it was created
    links = {link["name"]: link for link in created["assets"]["links"]}
    assert links["app.tar.gz"]["direct_asset_url"] == "http://gitlab.sim/acme/app/-/releases/v1.2.0/downloads/bin/app"
    assert (links["app.tar.gz"]["link_type"], links["Screenshot"]["link_type"]) == ("other", "image")
    again = ok(await mcp.call("get_release", project="acme/app", tag_name="v1.2.0"))
    assert again["description"] == "Login form."


async def test_a_developer_can_release_an_unprotected_tag(mcp_as):
    bob = mcp_as("bob")
    created = ok(await bob.call("create_release", project="acme/app", tag_name="nightly-0307", ref="main"))
    assert (created["tag_name"], created["author"], created["upcoming_release"]) == ("nightly-0307", "bob", False)
    listed = ok(await bob.call("list_releases", project="acme/app", order_by="created_at"))
    assert listed["items"][0]["tag_name"] == "nightly-0307"


async def test_create_release_with_a_new_tag_tags_the_ref(mcp, text_of):
    created = ok(await mcp.call("create_release", project="acme/app", tag_name="v1.3.0-rc1", ref="feature/login"))
    assert created["commit"]["title"] == "Mention login in README"  # the head of feature/login
    duplicate = await mcp.call("create_release", project="acme/app", tag_name="v1.3.0-rc1", ref="main")
    assert "(HTTP 409): Release already exists" in failed(duplicate, text_of)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"tag_name": "v9.0.0"}, "(HTTP 422): Ref is not specified"),
        ({"tag_name": "v9.0.0", "ref": "no-such-branch"}, "(HTTP 400): Target no-such-branch is invalid"),
        ({"tag_name": "v1.2.0", "milestones": ["v1.0", "v9"]}, "(HTTP 400): Milestone(s) not found: v9"),
        (
            {"tag_name": "v1.2.0", "links": [{"name": "x", "url": "javascript:alert(1)"}]},
            "Links url is blocked: Only allowed schemes are http, https, ftp",
        ),
    ],
)
async def test_create_release_explains_what_gitlab_refused(mcp, text_of, arguments, expected):
    text = failed(await mcp.call("create_release", project="acme/app", **arguments), text_of)
    assert expected in text


async def test_create_release_needs_the_developer_role(mcp_as, text_of):
    result = await mcp_as("charlie").call("create_release", project="acme/website", tag_name="v2024.1", name="x")
    assert "You do not have permission for this on Release v2024.1 in acme/website" in failed(result, text_of)


# --- update_release / delete_release -----------------------------------------------------------
async def test_update_release_changes_only_what_is_given(mcp):
    updated = ok(await mcp.call("update_release", project="acme/app", tag_name="v1.0.0", name="1.0 LTS", milestones=[]))
    assert (updated["name"], updated["description"][:13]) == ("1.0 LTS", "## Highlights")
    assert "milestones" not in updated  # GitLab omits an empty list
    moved = ok(
        await mcp.call("update_release", project="acme/app", tag_name="v1.0.0", released_at="2024-02-20T10:00:00Z")
    )
    assert (moved["released_at"], moved["name"]) == ("2024-02-20T10:00:00.000Z", "1.0 LTS")


async def test_update_release_of_a_tag_without_release_says_so(mcp, text_of):
    result = await mcp.call("update_release", project="acme/app", tag_name="v1.2.0", name="x")
    assert "Release v1.2.0 in acme/app not found or you have no access: Release does not exist" in failed(
        result, text_of
    )


async def test_delete_release_keeps_the_tag(mcp):
    deleted = ok(await mcp.call("delete_release", project="acme/app", tag_name="v1.1.0"))
    assert deleted == {"deleted": True, "tag_name": "v1.1.0", "tag_kept": True}
    assert (await mcp.call("get_release", project="acme/app", tag_name="v1.1.0")).is_error
    # The tag is still there: a new release on it needs no ref.
    again = ok(await mcp.call("create_release", project="acme/app", tag_name="v1.1.0", name="Again"))
    assert (again["name"], again["assets"]["links"]) == ("Again", [])


async def test_delete_release_needs_the_maintainer_role(mcp_as, text_of):
    result = await mcp_as("bob").call("delete_release", project="acme/app", tag_name="v1.0.0")
    assert "You do not have permission for this on Release v1.0.0 in acme/app: Access Denied" in failed(result, text_of)


# --- release links -----------------------------------------------------------------------------
async def test_list_release_links_gives_the_newest_first(mcp):
    page = ok(await mcp.call("list_release_links", project="acme/app", tag_name="v1.0.0"))
    assert [(link["id"], link["name"]) for link in page["items"]] == [(602, "app-linux-amd64"), (601, "Runbook")]
    assert page["total"] == 2


async def test_list_release_links_of_a_missing_release_says_not_found(mcp, text_of):
    result = await mcp.call("list_release_links", project="acme/app", tag_name="v7")
    assert "Release v7 in acme/app not found or you have no access: 404 Not found" in failed(result, text_of)


async def test_create_release_link_adds_an_asset(mcp):
    link = ok(
        await mcp.call(
            "create_release_link",
            project="acme/app",
            tag_name="v1.1.0",
            name="checksums",
            url="ftp://files.acme.example/1.1.0/SHA256SUMS",
            direct_asset_path="/SHA256SUMS",
            link_type="other",
        )
    )
    assert link["name"] == "checksums" and link["link_type"] == "other"
    assert link["direct_asset_url"] == "http://gitlab.sim/acme/app/-/releases/v1.1.0/downloads/SHA256SUMS"
    release = ok(await mcp.call("get_release", project="acme/app", tag_name="v1.1.0"))
    assert [a["id"] for a in release["assets"]["links"]] == [link["id"]]


@pytest.mark.parametrize(
    ("name", "url", "expected"),
    [
        ("Runbook", "https://elsewhere.example/x", "Name has already been taken"),
        ("new", "file:///etc/passwd", "Url is blocked: Only allowed schemes are http, https, ftp"),
    ],
)
async def test_create_release_link_refuses_duplicates_and_bad_urls(mcp, text_of, name, url, expected):
    result = await mcp.call("create_release_link", project="acme/app", tag_name="v1.0.0", name=name, url=url)
    assert f"(HTTP 400): {expected}" in failed(result, text_of)


async def test_create_release_link_needs_the_developer_role(mcp_as, text_of):
    result = await mcp_as("charlie").call(
        "create_release_link", project="acme/website", tag_name="v2024.1", name="x", url="https://x.example"
    )
    assert "You do not have permission" in failed(result, text_of)


async def test_delete_release_link_removes_it(mcp):
    deleted = ok(await mcp.call("delete_release_link", project="acme/app", tag_name="v1.0.0", link_id=601))
    assert deleted == {"deleted": True, "tag_name": "v1.0.0", "link_id": 601}
    page = ok(await mcp.call("list_release_links", project="acme/app", tag_name="v1.0.0"))
    assert [link["id"] for link in page["items"]] == [602]


async def test_delete_release_link_of_another_release_says_not_found(mcp, text_of):
    result = await mcp.call("delete_release_link", project="acme/app", tag_name="v1.1.0", link_id=601)
    assert "Link 601 of release v1.1.0 in acme/app not found or you have no access" in failed(result, text_of)


async def test_the_release_tools_are_annotated(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    assert tools["list_releases"].annotations.read_only_hint is True
    assert tools["create_release"].annotations.destructive_hint is False
    for name in ("delete_release", "delete_release_link"):
        assert tools[name].annotations.destructive_hint is True
