"""Tools of the commits area, through the MCP SDK client (as alice unless said otherwise).

acme/app's history (tests/gitlab_sim/areas/repository/): seven commits on main, two more on
feature/login, fix/typo at "Fix greeting punctuation". Statuses hang on main's head; two comments on
"Fix greeting punctuation" (tests/gitlab_sim/areas/commits.py).
"""

from __future__ import annotations

from tests.gitlab_sim.seed import seed

HIDDEN = "not found or you have no access"
WORLD = seed()


def sha(title: str, project: int = 101) -> str:
    return next(c["id"] for c in WORLD.table("commits") if (c["project_id"], c["title"]) == (project, title))


FIX, SETUP, LOGIN = sha("Fix greeting punctuation"), sha("Document setup steps in README"), sha("Add login form")


# --- get_commit ---------------------------------------------------------------------------------
async def test_get_commit_gives_message_parents_and_stats(mcp):
    result = await mcp.call("get_commit", project="acme/app", sha=FIX[:8])
    assert not result.is_error, result
    commit = result.structured_content
    assert commit["id"] == FIX and commit["title"] == "Fix greeting punctuation"
    assert commit["author_name"] == "Bob Builder" and commit["parent_ids"] == [sha("Import the changelog")]
    assert commit["stats"] == {"additions": 1, "deletions": 1, "total": 2}
    assert commit["status"] is None and commit["last_pipeline"] is None


async def test_get_commit_by_branch_shows_its_pipeline(mcp):
    head = (await mcp.call("get_commit", project="acme/app", sha="main")).structured_content
    assert head["id"] == SETUP and head["status"] == "success"
    assert head["last_pipeline"] == {
        "id": 7100,
        "status": "success",
        "ref": "main",
        "web_url": "http://gitlab.sim/acme/app/-/pipelines/7100",
    }
    login = (await mcp.call("get_commit", project="acme/app", sha="feature/login")).structured_content
    assert login["title"] == "Mention login in README" and login["parent_ids"] == [LOGIN]


async def test_get_commit_missing_or_hidden(mcp, text_of):
    missing = await mcp.call("get_commit", project="acme/app", sha="deadbeef")
    assert missing.is_error and f"Commit deadbeef in acme/app {HIDDEN}" in text_of(missing)
    hidden = await mcp.call("get_commit", project="bob/secret", sha="main")
    assert hidden.is_error and HIDDEN in text_of(hidden) and "plans" not in text_of(hidden)


# --- get_commit_diff ---------------------------------------------------------------------------
async def test_commit_diff_gives_each_file(mcp):
    fix = (await mcp.call("get_commit_diff", project="acme/app", sha=FIX)).structured_content
    assert [f["new_path"] for f in fix["files"]] == ["src/utils/text.py"] and fix["truncated"] is False
    assert '-    return f"Hello, {name}"\n+    return f"Hello, {name}!"' in fix["files"][0]["diff"]
    binary = await mcp.call("get_commit_diff", project="acme/app", sha=sha("Add logo and sample data"))
    files = binary.structured_content["files"]
    assert files[0] == {
        "old_path": "assets/logo.png",
        "new_path": "assets/logo.png",
        "new_file": True,
        "renamed_file": False,
        "deleted_file": False,
        "diff": "",  # GitLab sends no text diff for a binary file
    }


async def test_commit_diff_is_capped_and_read_on_by_line(mcp):
    changelog = sha("Import the changelog")
    first = (await mcp.call("get_commit_diff", project="acme/app", sha=changelog)).structured_content
    diff = first["files"][0]
    assert first["truncated"] is True and len(diff["diff"]) <= 10_000 and diff["total_lines"] == 3001
    assert diff["diff"].startswith("@@ -0,0 +1,3000 @@\n+# Changelog\n") and "start_line" in first["hint"]
    more = await mcp.call("get_commit_diff", project="acme/app", sha=changelog, start_line=2990)
    tail = more.structured_content["files"][0]
    assert (tail["first_line"], tail["last_line"]) == (2990, 3001)
    assert tail["diff"].endswith("+3000 - release 1.3000.0: fixed bug #3000")


async def test_commit_diff_of_a_missing_commit(mcp, text_of):
    result = await mcp.call("get_commit_diff", project="acme/app", sha="0" * 40)
    assert result.is_error and HIDDEN in text_of(result)


# --- cherry_pick_commit ------------------------------------------------------------------------
async def test_cherry_pick_onto_a_branch_makes_a_new_commit(mcp):
    dry = await mcp.call("cherry_pick_commit", project="acme/app", sha=LOGIN, branch="fix/typo", dry_run=True)
    assert dry.structured_content == {"dry_run": "success"}
    result = await mcp.call("cherry_pick_commit", project="acme/app", sha=LOGIN, branch="fix/typo")
    assert not result.is_error, result
    picked = result.structured_content
    assert picked["title"] == "Add login form" and picked["parent_ids"] == [FIX] and picked["id"] != LOGIN
    assert f"(cherry picked from commit {LOGIN})" in picked["message"] and picked["author_name"] == "Bob Builder"
    head = (await mcp.call("get_commit", project="acme/app", sha="fix/typo")).structured_content
    assert head["id"] == picked["id"]
    diff = (await mcp.call("get_commit_diff", project="acme/app", sha=picked["id"])).structured_content
    assert [(f["new_path"], f["new_file"]) for f in diff["files"]] == [("src/login.py", True)]


async def test_cherry_pick_refusals_say_why(mcp, mcp_as, text_of):
    again = await mcp.call("cherry_pick_commit", project="acme/app", sha=FIX, branch="main")
    assert again.is_error and "HTTP 400" in text_of(again)
    assert "cannot cherry-pick this commit automatically" in text_of(again)
    protected = await mcp_as("bob").call("cherry_pick_commit", project="acme/app", sha=LOGIN, branch="main")
    assert protected.is_error and "You are not allowed to push into this branch" in text_of(protected)
    nowhere = await mcp.call("cherry_pick_commit", project="acme/app", sha=LOGIN, branch="nope")
    assert nowhere.is_error and "Branch Not Found" in text_of(nowhere)


# --- revert_commit -----------------------------------------------------------------------------
async def test_revert_undoes_a_commit_once(mcp, text_of):
    deploy = sha("Add deploy script")
    result = await mcp.call("revert_commit", project="acme/app", sha=deploy, branch="main")
    assert not result.is_error, result
    revert = result.structured_content
    assert revert["title"] == 'Revert "Add deploy script"' and revert["parent_ids"] == [SETUP]
    assert f"This reverts commit {deploy}." in revert["message"] and revert["author_name"] == "Alice Liddell"
    diff = (await mcp.call("get_commit_diff", project="acme/app", sha=revert["id"])).structured_content
    assert diff["files"][0]["deleted_file"] is True and "-echo deploying acme/app" in diff["files"][0]["diff"]
    twice = await mcp.call("revert_commit", project="acme/app", sha=deploy, branch="main")
    assert twice.is_error and "may already have been reverted" in text_of(twice)


async def test_revert_refusals(mcp, mcp_as, text_of):
    elsewhere = await mcp.call("revert_commit", project="acme/app", sha=LOGIN, branch="main", dry_run=True)
    assert elsewhere.is_error and "cannot revert this commit automatically" in text_of(elsewhere)
    bob = await mcp_as("bob").call("revert_commit", project="acme/app", sha=FIX, branch="main")
    assert bob.is_error and "You do not have permission" in text_of(bob)


# --- list_commit_statuses ----------------------------------------------------------------------
async def test_statuses_latest_per_name_or_all(mcp):
    latest = (await mcp.call("list_commit_statuses", project="acme/app", sha=SETUP)).structured_content
    assert [(s["name"], s["status"]) for s in latest["items"]] == [
        ("build", "success"),
        ("rspec", "success"),
        ("lint", "failed"),
        ("coverage/external", "success"),
    ]
    assert latest["items"][2]["allow_failure"] is True and latest["items"][0]["author"] == "alice"
    rspec = await mcp.call("list_commit_statuses", project="acme/app", sha=SETUP, name="rspec", all=True)
    assert [s["description"] for s in rspec.structured_content["items"]] == ["3 examples failed", "Retried: all green"]
    other = await mcp.call("list_commit_statuses", project="acme/app", sha=SETUP, ref="feature/login")
    assert other.structured_content["items"] == []


async def test_statuses_need_a_full_existing_sha(mcp, text_of):
    short = await mcp.call("list_commit_statuses", project="acme/app", sha=SETUP[:8])
    assert short.is_error and "sha" in text_of(short)
    missing = await mcp.call("list_commit_statuses", project="acme/app", sha="f" * 40)
    assert missing.is_error and HIDDEN in text_of(missing)


# --- list_commit_merge_requests ----------------------------------------------------------------
async def test_commit_merge_requests_name_the_mr_that_brings_it(mcp, text_of):
    page = (await mcp.call("list_commit_merge_requests", project="acme/app", sha=LOGIN)).structured_content
    assert [(mr["iid"], mr["title"]) for mr in page["items"]] == [(1, "Add a login page")]
    assert (await mcp.call("list_commit_merge_requests", project="acme/app", sha=FIX)).structured_content["items"] == []
    merged = await mcp.call("list_commit_merge_requests", project="acme/app", sha=LOGIN, state="merged")
    assert merged.structured_content["items"] == []
    missing = await mcp.call("list_commit_merge_requests", project="acme/app", sha="nope123")
    assert missing.is_error and HIDDEN in text_of(missing)


# --- list_commit_comments / create_commit_comment ----------------------------------------------
async def test_list_comments_of_a_commit(mcp, text_of):
    page = (await mcp.call("list_commit_comments", project="acme/app", sha=FIX)).structured_content
    assert [(n["author"], n["note"], n["path"], n["line"]) for n in page["items"]] == [
        ("bob", "Should empty names be greeted too?", None, None),
        ("alice", "Nice catch!", "src/utils/text.py", 2),
    ]
    assert page["total"] == 2
    missing = await mcp.call("list_commit_comments", project="acme/app", sha="abcdef0")
    assert missing.is_error and HIDDEN in text_of(missing)


async def test_comment_on_a_commit_and_on_a_diff_line(mcp):
    plain = (await mcp.call("create_commit_comment", project="acme/app", sha="main", note="Ship it")).structured_content
    assert plain["note"] == "Ship it" and plain["author"] == "alice" and plain["path"] is None
    args = {"project": "acme/app", "sha": FIX, "path": "src/utils/text.py"}
    on_line = (await mcp.call("create_commit_comment", note="Here", line=2, **args)).structured_content
    assert (on_line["path"], on_line["line"], on_line["line_type"]) == ("src/utils/text.py", 2, "new")
    old_line = (await mcp.call("create_commit_comment", note="Was", line=2, line_type="old", **args)).structured_content
    assert old_line["line_type"] == "old"
    off_diff = (await mcp.call("create_commit_comment", note="Where?", line=99, **args)).structured_content
    assert (off_diff["path"], off_diff["line"]) == (None, None)  # not a diff line: a plain comment
    listed = (await mcp.call("list_commit_comments", project="acme/app", sha=FIX)).structured_content
    assert [n["note"] for n in listed["items"]][-3:] == ["Here", "Was", "Where?"]


async def test_comments_by_an_outsider(mcp_as, text_of):
    charlie = mcp_as("charlie")
    site = await charlie.call("create_commit_comment", project="acme/website", sha="main", note="Nice site")
    assert not site.is_error and site.structured_content["author"] == "charlie"
    app = await charlie.call("create_commit_comment", project="acme/app", sha="main", note="Hi")
    assert app.is_error and "Commit main in acme/app not found or you have no access" in text_of(app)
    empty = await charlie.call("create_commit_comment", project="acme/website", sha="main", note="")
    assert empty.is_error and "note" in text_of(empty)
