"""Tools of the repository area (tree and files), through the MCP SDK client as alice; the history
(commits, blame, comparisons, contributors): test_tools_repository_history.py.

acme/app (see tests/gitlab_sim/areas/repository/): branches main, feature/login (two commits
ahead) and fix/typo (merged); a 3,000-line docs/changelog.md, a PNG and an executable script.
"""

from __future__ import annotations

import re

from tests.gitlab_sim.areas.repository import CHANGELOG_LINES, PNG, SQLITE

HIDDEN = "not found or you have no access"


def changelog_line(n: int) -> str:
    return f"{n:04d} - release 1.{n}.0: fixed bug #{n}"


# --- get_repository_tree ----------------------------------------------------------------------
async def test_tree_lists_the_root_directories_first(mcp):
    result = await mcp.call("get_repository_tree", project="acme/app")
    assert not result.is_error
    page = result.structured_content
    assert [(e["path"], e["type"]) for e in page["items"]] == [
        ("assets", "tree"),
        ("docs", "tree"),
        ("scripts", "tree"),
        ("src", "tree"),
        (".gitignore", "blob"),
        ("README.md", "blob"),
    ]
    assert page["items"][0] == {"name": "assets", "type": "tree", "path": "assets", "mode": "040000"}
    assert (page["page"], page["next_page"], page["total"]) == (1, None, 6)


async def test_tree_recursive_below_a_path_on_a_branch(mcp):
    args = {"project": "acme/app", "path": "src", "ref": "feature/login", "recursive": True}
    page = (await mcp.call("get_repository_tree", **args)).structured_content
    assert [e["path"] for e in page["items"]] == [
        "src/utils",
        "src/app.py",
        "src/login.py",
        "src/utils/__init__.py",
        "src/utils/text.py",
    ]
    assert page["items"][1]["name"] == "app.py"
    main = (await mcp.call("get_repository_tree", project="acme/app", path="src", recursive=True)).structured_content
    assert "src/login.py" not in [e["path"] for e in main["items"]]


async def test_tree_pages_and_shows_executable_modes(mcp):
    first = (await mcp.call("get_repository_tree", project="101", recursive=True, per_page=10)).structured_content
    assert (len(first["items"]), first["next_page"], first["total"]) == (10, 2, 14)
    rest = (
        await mcp.call("get_repository_tree", project="101", recursive=True, per_page=10, page=2)
    ).structured_content
    assert (len(rest["items"]), rest["next_page"]) == (4, None)
    modes = {e["path"]: e["mode"] for e in first["items"] + rest["items"]}
    assert modes["scripts/deploy.sh"] == "100755" and modes["src/app.py"] == "100644"


async def test_tree_of_a_missing_path_or_ref_is_a_tool_error(mcp, text_of):
    result = await mcp.call("get_repository_tree", project="acme/app", path="nowhere")
    assert result.is_error
    assert f"Tree nowhere at the default branch in acme/app {HIDDEN}: 404 invalid revision or path Not Found" in (
        text_of(result)
    )
    result = await mcp.call("get_repository_tree", project="acme/app", ref="no-such-branch")
    assert result.is_error
    assert "Tree / at no-such-branch in acme/app" in text_of(result) and "404 Tree Not Found" in text_of(result)


async def test_tree_of_a_hidden_project_says_not_found_or_no_access(mcp, text_of):
    result = await mcp.call("get_repository_tree", project="bob/secret")
    assert result.is_error
    assert f"in bob/secret {HIDDEN}: 404 Project Not Found" in text_of(result)


# --- get_file -----------------------------------------------------------------------------------
async def test_get_file_reads_text_on_the_default_branch(mcp, sim):
    result = await mcp.call("get_file", project="acme/app", file_path="src/app.py")
    assert not result.is_error
    file = result.structured_content
    assert file["binary"] is False and file["truncated"] is False
    assert file["content"].splitlines()[0] == '"""The Acme application entry point."""'
    assert (file["first_line"], file["last_line"], file["total_lines"]) == (1, 11, 11)
    assert file["file_path"] == "src/app.py" and file["ref"] == "HEAD"
    assert re.fullmatch(r"[0-9a-f]{40}", file["blob_id"]) and "hint" not in file
    # The file was last touched by the first commit; the ref's head is the newest one.
    history = (await mcp.call("list_commits", project="acme/app", path="src/app.py")).structured_content
    newest = (await mcp.call("list_commits", project="acme/app", per_page=1)).structured_content
    assert file["last_commit_id"] == history["items"][0]["id"]
    assert file["commit_id"] == newest["items"][0]["id"] != file["last_commit_id"]
    sent = [r for r in sim.requests() if "/repository/files/" in r["path"]]
    # The raw endpoint: no base64, metadata in X-Gitlab-* headers.
    assert sent[0]["path"] == "/api/v4/projects/acme%2Fapp/repository/files/src%2Fapp.py/raw"
    assert sent[0]["query"] == "ref=HEAD&lfs=true"  # an LFS file's content, not its pointer


async def test_get_file_on_a_branch(mcp, text_of):
    branch = await mcp.call("get_file", project="acme/app", file_path="README.md", ref="feature/login")
    assert "## Login" in branch.structured_content["content"]
    assert branch.structured_content["ref"] == "feature/login"
    main = await mcp.call("get_file", project="acme/app", file_path="README.md", ref="main")
    assert "## Login" not in main.structured_content["content"]
    assert "## Setup" in text_of(main)


async def test_a_long_file_is_capped_with_a_hint_and_pages_by_start_line(mcp):
    first = (await mcp.call("get_file", project="acme/app", file_path="docs/changelog.md")).structured_content
    assert (first["first_line"], first["last_line"], first["total_lines"]) == (1, 400, CHANGELOG_LINES)
    assert first["truncated"] is True
    assert first["hint"] == "Showing lines 1-400 of 3000; pass start_line to read other lines."
    assert first["content"].splitlines()[-1] == changelog_line(400)
    args = {"project": "acme/app", "file_path": "docs/changelog.md", "start_line": 2990, "line_count": 50}
    tail = (await mcp.call("get_file", **args)).structured_content
    assert (tail["first_line"], tail["last_line"]) == (2990, 3000)
    assert tail["content"].splitlines() == [changelog_line(n) for n in range(2990, 3001)]


async def test_a_window_is_also_capped_by_characters(mcp):
    args = {"project": "acme/app", "file_path": "docs/changelog.md", "start_line": 101, "line_count": 2000}
    window = (await mcp.call("get_file", **args)).structured_content
    assert len(window["content"]) <= 40_000 and window["truncated"] is True
    assert 101 < window["last_line"] < 2100  # whole lines only, fewer than asked for
    lines = window["content"].splitlines()
    assert lines[0] == changelog_line(101) and lines[-1] == changelog_line(window["last_line"])
    assert window["hint"].startswith(f"Showing lines 101-{window['last_line']} of 3000")
    minified = (await mcp.call("get_file", project="acme/website", file_path="js/app.min.js")).structured_content
    assert len(minified["content"]) == 40_000 and minified["total_lines"] == 1
    assert minified["truncated"] is True and "Line 1 is cut at 40000 characters" in minified["hint"]


async def test_a_binary_file_gives_metadata_only(mcp, text_of):
    result = await mcp.call("get_file", project="acme/app", file_path="assets/logo.png")
    assert not result.is_error
    file = result.structured_content
    assert file["binary"] is True and file["size"] == len(PNG)
    assert set(file) == {"file_path", "ref", "size", "blob_id", "commit_id", "last_commit_id", "binary", "hint"}
    assert "iVBOR" not in text_of(result)  # no base64 of the PNG header
    # Valid UTF-8 is still binary when it holds NUL bytes, as git decides.
    database = (await mcp.call("get_file", project="acme/app", file_path="assets/sample.db")).structured_content
    assert database["binary"] is True and "content" not in database and database["size"] == len(SQLITE)


async def test_get_file_missing_file_or_ref_is_a_tool_error(mcp, text_of):
    result = await mcp.call("get_file", project="acme/app", file_path="src/nope.py")
    assert result.is_error
    assert f"File src/nope.py at the default branch in acme/app {HIDDEN}: 404 File Not Found" in text_of(result)
    result = await mcp.call("get_file", project="acme/app", file_path="README.md", ref="gone")
    assert result.is_error
    assert f"File README.md at gone in acme/app {HIDDEN}: 404 Commit Not Found" in text_of(result)


async def test_get_file_of_a_hidden_project_says_not_found_or_no_access(mcp, text_of):
    result = await mcp.call("get_file", project="bob/secret", file_path="README.md")
    assert result.is_error
    assert f"{HIDDEN}: 404 Project Not Found" in text_of(result)
    assert "Bob's plans" not in text_of(result)


async def test_get_file_rejects_bad_arguments(mcp, text_of):
    result = await mcp.call("get_file", project="acme/app", file_path="README.md", start_line=0)
    assert result.is_error and "start_line" in text_of(result)
    result = await mcp.call("get_file", project="acme/app", file_path="README.md", line_count=5000)
    assert result.is_error and "line_count" in text_of(result)
    result = await mcp.call("get_file", project="acme/app")
    assert result.is_error and "file_path" in text_of(result)
