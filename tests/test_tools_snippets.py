"""Tools of the snippets area, through the MCP SDK client: as alice (maintainer of acme/app), bob (developer
there) and charlie (no member anywhere).

The seed (tests/gitlab_sim/areas/snippets/): acme/app 301 "Deploy checklist" (alice, private), 302
"Test fixtures" (bob, internal, 600 lines), 303 "Nginx config" (alice, private, two files); acme/website
304 (public) and 305 (private); bob/secret 306; personal 311-312 alice, 313-314 bob, 315 charlie;
snippets are turned off in alice/notes.
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


def ids(result: Any) -> list[int]:
    return [s["id"] for s in ok(result)["items"]]


# --- project snippets: read --------------------------------------------------------------------
async def test_list_project_snippets_gives_the_newest_first(mcp):
    page = ok(await mcp.call("list_project_snippets", project="acme/app"))
    assert [s["id"] for s in page["items"]] == [303, 302, 301]
    assert page["items"][2] == {
        "id": 301,
        "title": "Deploy checklist",
        "visibility": "private",
        "author": "alice",
        "file_name": "deploy.md",
        "project_id": 101,
        "updated_at": "2024-03-01T10:00:00.000Z",
        "web_url": "http://gitlab.sim/acme/app/-/snippets/301",
    }
    assert page["total"] == 3


async def test_private_project_snippets_are_for_members_only(mcp_as):
    assert ids(await mcp_as("charlie").call("list_project_snippets", project="acme/website")) == [304]


async def test_list_project_snippets_where_snippets_are_off_is_forbidden(mcp, text_of):
    result = await mcp.call("list_project_snippets", project="alice/notes")
    assert "You do not have permission for this on Snippets of alice/notes: 403 Forbidden" in failed(result, text_of)


async def test_get_project_snippet_gives_details_and_content(mcp):
    snippet = ok(await mcp.call("get_project_snippet", project="acme/app", snippet_id=301))
    assert (snippet["title"], snippet["description"]) == ("Deploy checklist", "Steps for a production deploy.")
    assert (snippet["files"], snippet["file"]) == (["deploy.md"], "deploy.md")
    assert snippet["content"].splitlines()[0] == "# Deploy checklist"
    assert (snippet["total_lines"], snippet["truncated"]) == (5, False)


async def test_get_project_snippet_pages_through_a_long_file(mcp):
    first = ok(await mcp.call("get_project_snippet", project="acme/app", snippet_id=302, line_count=10))
    assert (first["first_line"], first["last_line"], first["total_lines"]) == (1, 10, 600)
    assert first["truncated"] is True and "start_line" in first["hint"]
    later = ok(await mcp.call("get_project_snippet", project="acme/app", snippet_id=302, start_line=599))
    assert later["content"] == "598,item-598,1794\n599,item-599,1797"


async def test_get_project_snippet_reads_any_file_of_a_multi_file_snippet(mcp, text_of):
    first = ok(await mcp.call("get_project_snippet", project="acme/app", snippet_id=303))
    assert (first["files"], first["file"]) == (["nginx.conf", "README.md"], "nginx.conf")
    assert first["content"].startswith("server {")
    readme = ok(await mcp.call("get_project_snippet", project="acme/app", snippet_id=303, file_path="README.md"))
    assert readme["content"] == "Copy nginx.conf to /etc/nginx/sites-enabled/."
    missing = await mcp.call("get_project_snippet", project="acme/app", snippet_id=303, file_path="nope.txt")
    assert "404 File Not Found" in failed(missing, text_of)


async def test_get_project_snippet_hides_private_snippets_from_non_members(mcp_as, text_of):
    result = await mcp_as("charlie").call("get_project_snippet", project="acme/website", snippet_id=305)
    assert "Snippet 305 in acme/website not found or you have no access" in failed(result, text_of)


# --- project snippets: write -------------------------------------------------------------------
async def test_create_project_snippet_with_one_file(mcp_as):
    bob = mcp_as("bob")
    created = ok(
        await bob.call(
            "create_project_snippet", project="acme/app", title="Run tests", file_name="test.sh", content="make test\n"
        )
    )
    assert (created["author"], created["visibility"], created["files"]) == ("bob", "private", ["test.sh"])
    snippet = ok(await bob.call("get_project_snippet", project="acme/app", snippet_id=created["id"]))
    assert snippet["content"] == "make test"


async def test_create_project_snippet_with_several_files(mcp):
    files = [{"file_path": "a.py", "content": "print('a')\n"}, {"file_path": "b.py", "content": "print('b')\n"}]
    created = ok(
        await mcp.call("create_project_snippet", project="acme/app", title="Two", files=files, visibility="internal")
    )
    assert (created["files"], created["file_name"], created["visibility"]) == (["a.py", "b.py"], "a.py", "internal")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "files, content are missing, exactly one parameter must be provided"),
        ({"content": "x"}, "file_name is missing"),
        (
            {"file_name": "a", "content": "x", "files": [{"file_path": "b", "content": "y"}]},
            "files, content are mutually exclusive",
        ),
    ],
)
async def test_create_project_snippet_explains_bad_file_arguments(mcp, text_of, arguments, expected):
    result = await mcp.call("create_project_snippet", project="acme/app", title="t", **arguments)
    assert f"(HTTP 400): {expected}" in failed(result, text_of)


async def test_create_project_snippet_needs_the_reporter_role(mcp_as, text_of):
    result = await mcp_as("charlie").call(
        "create_project_snippet", project="acme/website", title="t", file_name="a.txt", content="x"
    )
    assert "You do not have permission for this on Project acme/website" in failed(result, text_of)


async def test_update_project_snippet_changes_title_and_content(mcp_as):
    bob = mcp_as("bob")
    updated = ok(
        await bob.call(
            "update_project_snippet", project="acme/app", snippet_id=302, title="Fixtures v2", content="id\n1\n"
        )
    )
    assert (updated["title"], updated["visibility"], updated["files"]) == ("Fixtures v2", "internal", ["fixtures.csv"])
    snippet = ok(await bob.call("get_project_snippet", project="acme/app", snippet_id=302))
    assert (snippet["content"], snippet["total_lines"]) == ("id\n1", 2)


async def test_update_project_snippet_edits_files_of_a_multi_file_snippet(mcp, text_of):
    plain = await mcp.call("update_project_snippet", project="acme/app", snippet_id=303, content="x")
    assert "you must use the `files` parameter" in failed(plain, text_of)
    actions = [
        {"action": "move", "previous_path": "README.md", "file_path": "INSTALL.md"},
        {"action": "delete", "file_path": "nginx.conf"},
        {"action": "create", "file_path": "site.conf", "content": "server {}\n"},
    ]
    updated = ok(await mcp.call("update_project_snippet", project="acme/app", snippet_id=303, files=actions))
    assert updated["files"] == ["INSTALL.md", "site.conf"]


async def test_update_project_snippet_of_someone_else_needs_the_maintainer_role(mcp, mcp_as, text_of):
    result = await mcp_as("bob").call("update_project_snippet", project="acme/app", snippet_id=301, title="Mine")
    assert "You do not have permission for this on Snippet 301 in acme/app" in failed(result, text_of)
    # alice maintains acme/app: she may edit bob's snippet.
    assert ok(await mcp.call("update_project_snippet", project="acme/app", snippet_id=302, visibility="private"))


async def test_delete_project_snippet_removes_it(mcp, text_of):
    assert ok(await mcp.call("delete_project_snippet", project="acme/app", snippet_id=302)) == {
        "deleted": True,
        "snippet_id": 302,
    }
    assert ids(await mcp.call("list_project_snippets", project="acme/app")) == [303, 301]
    again = await mcp.call("delete_project_snippet", project="acme/app", snippet_id=302)
    assert "Snippet 302 in acme/app not found or you have no access: 404 Snippet Not Found" in failed(again, text_of)


async def test_delete_project_snippet_of_someone_else_is_forbidden(mcp_as, text_of):
    result = await mcp_as("bob").call("delete_project_snippet", project="acme/app", snippet_id=301)
    assert "You do not have permission" in failed(result, text_of)


# --- personal snippets -------------------------------------------------------------------------
async def test_list_my_snippets_gives_what_i_wrote(mcp, mcp_as):
    assert ids(await mcp.call("list_my_snippets")) == [312, 311, 305, 304, 303, 301]
    page = ok(await mcp_as("bob").call("list_my_snippets", per_page=2))
    assert ([s["id"] for s in page["items"]], page["next_page"], page["total"]) == ([314, 313], 2, 4)


async def test_list_my_snippets_reports_a_rate_limit(mcp, sim, text_of):
    sim.fault("^/api/v4/snippets$", status=429, retry_after=60)
    assert "GitLab is rate-limiting" in failed(await mcp.call("list_my_snippets"), text_of)


async def test_get_snippet_reads_a_personal_snippet(mcp, mcp_as):
    snippet = ok(await mcp.call("get_snippet", snippet_id=311))
    assert (snippet["title"], snippet["project_id"], snippet["file"]) == ("Git aliases", None, ".gitconfig")
    assert snippet["content"] == "[alias]\n    st = status\n    co = checkout"
    assert snippet["web_url"] == "http://gitlab.sim/-/snippets/311"
    # Public and internal snippets of others are readable too.
    assert ok(await mcp_as("bob").call("get_snippet", snippet_id=312))["title"] == "Useful SQL"
    assert ok(await mcp.call("get_snippet", snippet_id=315))["content"] == "Fridays at noon."


async def test_get_snippet_hides_the_private_snippets_of_others(mcp, text_of):
    result = await mcp.call("get_snippet", snippet_id=313)
    assert "Snippet 313 not found or you have no access: 404 Snippet Not Found" in failed(result, text_of)


async def test_create_snippet_is_private_by_default(mcp, mcp_as, text_of):
    created = ok(await mcp.call("create_snippet", title="Todo", file_name="todo.md", content="- ship it\n"))
    assert (created["visibility"], created["project_id"], created["author"]) == ("private", None, "alice")
    assert ok(await mcp.call("get_snippet", snippet_id=created["id"]))["content"] == "- ship it"
    assert (await mcp_as("bob").call("get_snippet", snippet_id=created["id"])).is_error


async def test_create_snippet_without_content_says_what_is_missing(mcp, text_of):
    result = await mcp.call("create_snippet", title="Empty", file_name="x.txt")
    assert "(HTTP 400): files, content are missing" in failed(result, text_of)
