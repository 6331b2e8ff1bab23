"""The repository's history (commits, blame, comparisons, contributors), through the MCP SDK client as
alice. The tree and files: test_tools_repository.py.

acme/app (see tests/gitlab_sim/areas/repository/): branches main, feature/login (two commits
ahead) and fix/typo (merged); a 3,000-line docs/changelog.md.
"""

from __future__ import annotations

import re

from tests.gitlab_sim.areas.repository import CHANGELOG_LINES
from tests.test_tools_repository import HIDDEN, changelog_line


# --- list_commits ---------------------------------------------------------------------------------
async def test_list_commits_newest_first_with_pagination_without_total(mcp):
    result = await mcp.call("list_commits", project="acme/app", per_page=3)
    assert not result.is_error
    page = result.structured_content
    assert [c["title"] for c in page["items"]] == [
        "Document setup steps in README",
        "Fix greeting punctuation",
        "Import the changelog",
    ]
    commit = page["items"][0]
    assert re.fullmatch(r"[0-9a-f]{40}", commit["id"]) and commit["id"].startswith(commit["short_id"])
    assert commit["author_name"] == "Alice Liddell" and commit["authored_date"].startswith("2024-03-01")
    assert commit["web_url"] == f"http://gitlab.sim/acme/app/-/commit/{commit['id']}"
    assert (page["next_page"], page["total"]) == (2, None)  # GitLab sends no total for commits
    last = (await mcp.call("list_commits", project="acme/app", per_page=3, page=3)).structured_content
    assert ([c["title"] for c in last["items"]], last["next_page"]) == (["Initial commit"], None)


async def test_list_commits_filtered_by_ref_path_author_and_dates(mcp):
    async def titles(**filters):
        page = (await mcp.call("list_commits", project="acme/app", **filters)).structured_content
        return [c["title"] for c in page["items"]]

    assert (await titles(ref_name="feature/login"))[:2] == ["Mention login in README", "Add login form"]
    assert len(await titles(ref_name="feature/login")) == 9
    assert await titles(path="src/utils") == ["Fix greeting punctuation", "Add text utilities"]
    assert await titles(author="Bob") == ["Fix greeting punctuation", "Add deploy script", "Add text utilities"]
    assert await titles(author="bob@example.com", ref_name="main", path="scripts") == ["Add deploy script"]
    assert await titles(since="2024-02-15", until="2024-02-28T23:59:59Z") == [
        "Fix greeting punctuation",
        "Import the changelog",
        "Add deploy script",
    ]
    assert await titles(ref_name="no-such-branch") == []  # GitLab lists nothing rather than failing


async def test_list_commits_errors(mcp, text_of):
    result = await mcp.call("list_commits", project="bob/secret")
    assert result.is_error
    assert f"Commits of bob/secret {HIDDEN}: 404 Project Not Found" in text_of(result)
    result = await mcp.call("list_commits", project="acme/app", since="last tuesday")
    assert result.is_error and "since" in text_of(result)


# --- get_file_blame -------------------------------------------------------------------------------
async def test_blame_names_the_commit_of_each_line(mcp):
    result = await mcp.call("get_file_blame", project="acme/app", file_path="README.md")
    assert not result.is_error
    blame = result.structured_content
    assert (blame["first_line"], blame["last_line"], "hint" not in blame) == (1, 8, True)
    first, second = blame["ranges"]
    assert (first["first_line"], first["lines"][0], len(first["lines"])) == (1, "# Acme App", 3)
    assert (second["first_line"], second["lines"][1]) == (4, "## Setup")
    assert blame["commits"][first["commit"]] == {
        "title": "Initial commit",
        "author_name": "Alice Liddell",
        "authored_date": "2024-02-01T10:00:00.000+00:00",
    }
    assert blame["commits"][second["commit"]]["title"] == "Document setup steps in README"
    text = (await mcp.call("get_file_blame", project="acme/app", file_path="src/utils/text.py")).structured_content
    titles = [text["commits"][r["commit"]]["title"] for r in text["ranges"]]
    assert titles == ["Add text utilities", "Fix greeting punctuation"]


async def test_blame_a_range_of_a_long_file(mcp, sim):
    args = {"project": "acme/app", "file_path": "docs/changelog.md", "start_line": 2990, "line_count": 50}
    blame = (await mcp.call("get_file_blame", **args)).structured_content
    assert (blame["first_line"], blame["last_line"]) == (2990, 3000)
    assert blame["ranges"][0]["lines"] == [changelog_line(n) for n in range(2990, 3001)]
    sent = next(r for r in sim.requests() if r["path"].endswith("/blame"))
    assert "range%5Bstart%5D=2990&range%5Bend%5D=3039" in sent["query"]
    first = (await mcp.call("get_file_blame", project="acme/app", file_path="docs/changelog.md")).structured_content
    assert (first["last_line"], first["hint"]) == (200, "More lines may follow: pass start_line=201.")


async def test_blame_errors(mcp, text_of):
    args = {"project": "acme/app", "file_path": "README.md", "start_line": 50}
    result = await mcp.call("get_file_blame", **args)
    assert result.is_error and "range is outside of the file length" in text_of(result)
    result = await mcp.call("get_file_blame", project="acme/app", file_path="nope.md")
    assert result.is_error and f"File nope.md at the default branch in acme/app {HIDDEN}" in text_of(result)


# --- compare_refs ---------------------------------------------------------------------------------
async def test_compare_a_branch_with_main(mcp):
    result = await mcp.call("compare_refs", project="acme/app", from_ref="main", to_ref="feature/login")
    assert not result.is_error
    diff = result.structured_content
    assert [c["title"] for c in diff["commits"]] == ["Add login form", "Mention login in README"]
    assert (diff["total_commits"], diff["total_files"], diff["next_page"]) == (2, 2, None)
    readme, login = diff["files"]
    assert readme["new_path"] == "README.md" and "+## Login" in readme["diff"]
    assert (login["new_path"], login["new_file"]) == ("src/login.py", True)
    assert login["diff"].startswith("@@ -0,0 +1,2 @@")


async def test_compare_straight_or_from_the_merge_base(mcp):
    args = {"project": "acme/app", "from_ref": "feature/login", "to_ref": "fix/typo"}
    base = (await mcp.call("compare_refs", **args)).structured_content
    assert (base["commits"], base["files"]) == ([], [])  # fix/typo is behind
    straight = (await mcp.call("compare_refs", **args, straight=True)).structured_content
    files = {f["new_path"]: f for f in straight["files"]}
    assert set(files) == {"README.md", "src/login.py"} and files["src/login.py"]["deleted_file"] is True


async def test_compare_caps_big_diffs_and_pages_files(mcp):
    history = (await mcp.call("list_commits", project="acme/app", per_page=10)).structured_content["items"]
    args = {"project": "acme/app", "from_ref": history[-1]["id"], "to_ref": "main", "paths": ["docs/"]}
    big = (await mcp.call("compare_refs", **args)).structured_content
    changelog = big["files"][0]
    assert changelog["truncated"] is True and len(changelog["diff"]) <= 10_000
    assert changelog["total_lines"] == CHANGELOG_LINES + 1  # the hunk header
    assert "pass paths=[<file>] and start_line" in big["hint"]
    more = (await mcp.call("compare_refs", **args, start_line=changelog["last_line"] + 1)).structured_content
    assert more["files"][0]["diff"].startswith(f"+{changelog_line(changelog['last_line'])}")
    paged = (await mcp.call("compare_refs", **args | {"paths": None}, per_page=2)).structured_content
    assert (len(paged["files"]), paged["next_page"], paged["total_files"]) == (2, 2, 7)


async def test_compare_errors(mcp, text_of):
    result = await mcp.call("compare_refs", project="acme/app", from_ref="main", to_ref="nowhere")
    assert result.is_error
    assert f"Comparison main...nowhere in acme/app {HIDDEN}: 404 Ref Not Found" in text_of(result)


# --- list_repository_contributors -----------------------------------------------------------------
async def test_contributors_by_commit_count(mcp):
    result = await mcp.call("list_repository_contributors", project="acme/app")
    assert not result.is_error
    assert result.structured_content["items"] == [
        {"name": "Alice Liddell", "email": "alice@example.com", "commits": 4},
        {"name": "Bob Builder", "email": "bob@example.com", "commits": 3},
    ]
    by_name = await mcp.call("list_repository_contributors", project="acme/app", order_by="name", sort="asc")
    assert [p["name"] for p in by_name.structured_content["items"]] == ["Alice Liddell", "Bob Builder"]


async def test_contributors_of_a_hidden_project(mcp, text_of):
    result = await mcp.call("list_repository_contributors", project="bob/secret")
    assert result.is_error and f"Contributors of bob/secret {HIDDEN}: 404 Project Not Found" in text_of(result)
