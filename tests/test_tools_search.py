"""Tools of the search area, through the MCP SDK client: as alice (member of acme/app, owner of
acme/website and alice/notes), bob (owner of bob/secret) and charlie (in no project).

Search reads what the other areas seeded (issues, merge requests, milestones, notes, commits, files,
wiki pages); what matters here is that each caller finds only what GitLab would show them.
"""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.seed import TOKENS


def hits(result: Any, key: str = "iid") -> list[Any]:
    assert not result.is_error, result
    return [item[key] for item in result.structured_content["items"]]


async def test_the_search_tools_offer_only_the_scopes_gitlab_free_has(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    assert all(tools[name].annotations.read_only_hint for name in ("search_gitlab", "search_group", "search_project"))
    global_scopes = set(tools["search_gitlab"].input_schema["properties"]["scope"]["enum"])
    assert "blobs" not in global_scopes and "snippet_titles" in global_scopes
    assert "blobs" in tools["search_project"].input_schema["properties"]["scope"]["enum"]


# --- search_gitlab -------------------------------------------------------------------------------
async def test_search_gitlab_projects_only_finds_visible_ones(mcp, mcp_as):
    result = await mcp.call("search_gitlab", scope="projects", search="acme")
    assert hits(result, "path_with_namespace") == ["acme/website", "acme/app"]
    assert result.structured_content["scope"] == "projects"
    assert hits(await mcp.call("search_gitlab", scope="projects", search="secret"), "id") == []
    assert hits(await mcp_as("bob").call("search_gitlab", scope="projects", search="secret"), "id") == [104]


async def test_search_gitlab_issues_hides_confidential_and_private_ones(mcp, mcp_as):
    mine = await mcp.call("search_gitlab", scope="issues", search="launch")
    assert hits(mine, "title") == ["New pricing before the launch"]  # bob/secret's "Secret launch plan" is hidden
    item = mine.structured_content["items"][0]
    assert item["project_id"] == 102 and item["confidential"] is True and item["author"] == "alice"
    assert hits(await mcp_as("charlie").call("search_gitlab", scope="issues", search="launch")) == []


async def test_search_gitlab_filters_merge_requests_by_state_and_pages(mcp, sim):
    assert hits(await mcp.call("search_gitlab", scope="merge_requests", search="add")) == [6, 1]
    merged = await mcp.call("search_gitlab", scope="merge_requests", search="fix", state="merged")
    assert hits(merged) == [2]
    assert merged.structured_content["items"][0]["source_branch"] == "fix/empty-config"
    second = await mcp.call("search_gitlab", scope="merge_requests", search="add", per_page=1, page=2)
    assert hits(second) == [1] and second.structured_content["next_page"] is None
    sent = [r for r in sim.requests() if r["path"] == "/api/v4/search"]
    assert "scope=merge_requests" in sent[0]["query"] and "search=add" in sent[0]["query"]


async def test_search_gitlab_users_milestones_and_snippets(mcp, mcp_as):
    assert hits(await mcp.call("search_gitlab", scope="users", search="CHAR"), "username") == ["charlie"]
    assert hits(await mcp.call("search_gitlab", scope="milestones", search="v1"), "title") == ["v1.1", "v1.0"]
    snippet = await mcp.call("search_gitlab", scope="snippet_titles", search="sql")
    assert hits(snippet, "id") == [312] and snippet.structured_content["items"][0]["file_name"] == "queries.sql"
    assert hits(await mcp.call("search_gitlab", scope="snippet_titles", search="launch"), "id") == []  # bob's
    assert hits(await mcp_as("bob").call("search_gitlab", scope="snippet_titles", search="launch"), "id") == [306]


async def test_search_gitlab_errors(mcp, sim, text_of):
    premium = await mcp.call("search_gitlab", scope="blobs", search="greet")  # advanced search only
    assert premium.is_error
    sim.fault("^/api/v4/search$", status=429, retry_after=60)  # GitLab's search rate limit
    limited = await mcp.call("search_gitlab", scope="issues", search="login")
    assert limited.is_error and "GitLab is rate-limiting" in text_of(limited)


def test_the_simulator_refuses_scopes_basic_search_lacks(sim):
    headers = {"PRIVATE-TOKEN": TOKENS["alice"]}
    refused = sim.http.get(f"{sim.url}/api/v4/search", params={"scope": "blobs", "search": "x"}, headers=headers)
    assert (refused.status_code, refused.json()) == (400, {"error": "scope does not have a valid value"})
    missing = sim.http.get(f"{sim.url}/api/v4/projects/101/search", params={"scope": "notes"}, headers=headers)
    assert missing.json() == {"error": "search is missing"}
    anonymous = sim.http.get(f"{sim.url}/api/v4/search", params={"scope": "users", "search": "a"})
    assert anonymous.status_code == 401


# --- search_group --------------------------------------------------------------------------------
async def test_search_group_covers_its_projects(mcp):
    result = await mcp.call("search_group", group="acme", scope="issues", search="typo")
    assert hits(result, "project_id") == [102, 101]  # acme/website#1 (newest), acme/app#18
    assert hits(await mcp.call("search_group", group="acme", scope="projects", search="app"), "id") == [101]
    members = await mcp.call("search_group", group="acme", scope="users", search="a")
    assert hits(members, "username") == ["alice"]


async def test_search_group_errors(mcp, text_of):
    hidden = await mcp.call("search_group", group="labs", scope="projects", search="x")  # bob's private group
    assert hidden.is_error and "Group labs not found or you have no access" in text_of(hidden)
    unknown = await mcp.call("search_group", group="acme", scope="notes", search="x")  # project-only scope
    assert unknown.is_error


# --- search_project ------------------------------------------------------------------------------
async def test_search_project_blobs_give_path_line_and_matching_lines(mcp):
    result = await mcp.call("search_project", project="acme/app", scope="blobs", search="greet")
    assert hits(result, "path") == ["README.md", "src/app.py", "src/utils/text.py"]
    text = result.structured_content["items"][2]
    assert text == {
        "path": "src/utils/text.py",
        "ref": "main",
        "startline": 1,
        "data": 'def greet(name: str) -> str:\n    return f"Hello, {name}!"\n',
        "project_id": 101,
    }
    python = await mcp.call("search_project", project="acme/app", scope="blobs", search="greet filename:*.py")
    assert hits(python, "path") == ["src/app.py", "src/utils/text.py"]


async def test_search_project_blobs_on_a_ref_and_capped(mcp):
    login = await mcp.call("search_project", project="acme/app", scope="blobs", search="login", ref="feature/login")
    assert hits(login, "path") == ["src/login.py", "README.md", "src/login.py"]  # the file name first
    assert {item["ref"] for item in login.structured_content["items"]} == {"feature/login"}
    assert hits(await mcp.call("search_project", project="acme/app", scope="blobs", search="def login"), "path") == []
    big = await mcp.call("search_project", project="acme/website", scope="blobs", search="14999")
    minified = big.structured_content["items"][0]
    assert minified["path"] == "js/app.min.js" and minified["truncated"] is True
    assert len(minified["data"]) == 601  # 600 characters and an ellipsis


async def test_search_project_commits_and_wiki(mcp):
    commits = await mcp.call("search_project", project="acme/app", scope="commits", search="readme")
    assert hits(commits, "title") == ["Document setup steps in README"]
    branch = await mcp.call("search_project", project="acme/app", scope="commits", search="readme", ref="feature/login")
    assert hits(branch, "title") == ["Mention login in README", "Document setup steps in README"]
    wiki = await mcp.call("search_project", project="acme/app", scope="wiki_blobs", search="make dev")
    assert hits(wiki, "path") == ["Getting-Started.md"]
    assert wiki.structured_content["items"][0]["startline"] == 1
    assert hits(await mcp.call("search_project", project="alice/notes", scope="wiki_blobs", search="a"), "path") == []


async def test_search_project_notes_issues_and_members(mcp):
    notes = await mcp.call("search_project", project="acme/app", scope="notes", search="SAML")
    assert hits(notes, "body") == ["Root cause: the SAML certificate expired."]
    assert notes.structured_content["items"][0]["noteable_type"] == "Issue"
    assert hits(await mcp.call("search_project", project="acme/app", scope="notes", search="label"), "id") == []
    closed = await mcp.call("search_project", project="acme/app", scope="issues", search="a", state="closed")
    assert hits(closed) == [25, 20, 15, 10, 5]
    members = await mcp.call("search_project", project="acme/app", scope="users", search="b")
    assert hits(members, "username") == ["bob"]
    assert hits(await mcp.call("search_project", project="alice/notes", scope="issues", search="a")) == []


async def test_search_project_respects_visibility(mcp, mcp_as, text_of):
    hidden = await mcp.call("search_project", project="bob/secret", scope="blobs", search="domination")
    assert hidden.is_error and "Project bob/secret not found or you have no access" in text_of(hidden)
    own = await mcp_as("bob").call("search_project", project="bob/secret", scope="blobs", search="domination")
    assert hits(own, "path") == ["plans.txt"]
    public = await mcp_as("charlie").call("search_project", project="acme/website", scope="issues", search="pricing")
    assert hits(public) == []  # confidential
