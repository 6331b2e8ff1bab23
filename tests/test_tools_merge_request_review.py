"""Review tools beyond threads, through the MCP SDK client (alice by default).

acme/app: !1 (bob's feature/login, two commits, reviewer alice who asked for changes, pipeline passed);
!3 a draft with a running pipeline; !6 conflicts with release/1.0 in app/http.py. bob has a draft on !1.
"""

from __future__ import annotations

APP = {"project": "acme/app"}


def ok(result):
    assert not result.is_error, result
    return result.structured_content


# --- conflicts -----------------------------------------------------------------------------------
async def test_conflicts_come_with_git_markers(mcp):
    found = ok(await mcp.call("get_merge_request_conflicts", iid=6, **APP))
    [file] = found["files"]
    assert file["new_path"] == "app/http.py" and file["first_line"] == 20
    assert file["content"].splitlines() == [
        "<<<<<<< release/1.0",
        "client = Client(timeout=10)",
        "=======",
        "client = Client(timeout=30)",
        ">>>>>>> fix/timeout",
    ]


async def test_conflicts_of_a_clean_mr_or_as_a_guest(mcp, mcp_as, text_of):
    clean = await mcp.call("get_merge_request_conflicts", iid=1, **APP)
    assert clean.is_error and "Conflicts of Merge request !1 in acme/app not found" in text_of(clean)
    site = await mcp_as("charlie").call("get_merge_request_conflicts", project="acme/website", iid=1)
    assert site.is_error and "You do not have permission" in text_of(site)


# --- reviewers -----------------------------------------------------------------------------------
async def test_reviewers_with_their_review_state(mcp):
    reviewers = ok(await mcp.call("list_merge_request_reviewers", iid=1, **APP))
    assert [(r["username"], r["state"]) for r in reviewers["items"]] == [("alice", "requested_changes")]
    timeouts = ok(await mcp.call("list_merge_request_reviewers", iid=6, **APP))
    assert [(r["username"], r["state"]) for r in timeouts["items"]] == [("bob", "unreviewed")]


async def test_reviewers_of_a_missing_mr(mcp, text_of):
    result = await mcp.call("list_merge_request_reviewers", iid=99, **APP)
    assert result.is_error and "Merge request !99 in acme/app not found" in text_of(result)


# --- versions ------------------------------------------------------------------------------------
async def test_versions_newest_first_and_one_read_with_its_diffs(mcp):
    listed = ok(await mcp.call("list_merge_request_versions", iid=1, **APP))
    assert len(listed["items"]) == 2 and listed["total"] == 2
    newest, first = listed["items"]
    mr = ok(await mcp.call("get_merge_request", iid=1, **APP))
    assert newest["head_commit_sha"] == mr["sha"] != first["head_commit_sha"]
    version = ok(await mcp.call("get_merge_request_version", iid=1, version_id=first["id"], paths=["app/"], **APP))
    assert version["id"] == first["id"] and len(version["commits"]) == 2
    assert [f["new_path"] for f in version["files"]] == ["app/login.py", "app/templates/login.html", "app/auth.py",
                                                         "app/old_login.py"]  # fmt: skip
    assert version["files"][0]["diff"].startswith("@@ -3,1 +3,2 @@")


async def test_a_version_that_is_not_there(mcp, text_of):
    result = await mcp.call("get_merge_request_version", iid=1, version_id=12345, **APP)
    assert result.is_error and "Version 12345 of Merge request !1 in acme/app not found" in text_of(result)


# --- auto-merge and pipelines --------------------------------------------------------------------
async def test_cancel_auto_merge(mcp, text_of):
    ok(await mcp.call("update_merge_request", iid=3, draft=False, **APP))
    ok(await mcp.call("merge_merge_request", iid=3, auto_merge=True, **APP))
    cancelled = ok(await mcp.call("cancel_auto_merge", iid=3, **APP))
    assert cancelled["merge_when_pipeline_succeeds"] is False and cancelled["state"] == "opened"
    again = await mcp.call("cancel_auto_merge", iid=3, **APP)
    assert again.is_error and "HTTP 406" in text_of(again)


async def test_create_a_merge_request_pipeline(mcp, text_of):
    pipeline = ok(await mcp.call("create_merge_request_pipeline", iid=1, **APP))
    assert pipeline["ref"] == "refs/merge-requests/1/head" and pipeline["source"] == "merge_request_event"
    listed = ok(await mcp.call("list_merge_request_pipelines", iid=1, **APP))
    assert pipeline["id"] in [p["id"] for p in listed["items"]]
    merged = await mcp.call("create_merge_request_pipeline", iid=2, **APP)
    assert merged.is_error and "Merge request is not open" in text_of(merged)


# --- one draft note ------------------------------------------------------------------------------
async def test_update_publish_and_delete_one_draft(mcp):
    first = ok(await mcp.call("create_draft_note", note="Typo.", new_path="app/login.py", new_line=4, iid=1, **APP))
    second = ok(await mcp.call("create_draft_note", note="Why?", iid=1, **APP))
    moved = ok(await mcp.call("update_draft_note", draft_note_id=first["id"], note="Typo: form.", new_line=3,
                              new_path="app/login.py", iid=1, **APP))  # fmt: skip
    assert moved["note"] == "Typo: form." and moved["position"]["new_line"] == 3
    assert ok(await mcp.call("publish_draft_note", draft_note_id=first["id"], iid=1, **APP))["published"] is True
    left = ok(await mcp.call("list_draft_notes", iid=1, **APP))["items"]
    assert [d["id"] for d in left] == [second["id"]]  # the other draft is still pending
    threads = ok(await mcp.call("list_merge_request_discussions", iid=1, per_page=100, **APP))["items"]
    published = [n for t in threads for n in t["notes"] if n["body"] == "Typo: form."]
    assert published and published[0]["position"]["new_line"] == 3
    assert ok(await mcp.call("delete_draft_note", draft_note_id=second["id"], iid=1, **APP))["deleted"] is True
    assert ok(await mcp.call("list_draft_notes", iid=1, **APP))["items"] == []


async def test_someone_elses_draft_is_not_found(mcp, text_of):
    bobs = await mcp.call("list_draft_notes", iid=1, **APP)
    assert ok(bobs)["items"] == []  # bob's draft is invisible to alice
    result = await mcp.call("delete_draft_note", draft_note_id=424242, iid=1, **APP)
    assert result.is_error and "Draft note 424242 on Merge request !1 in acme/app not found" in text_of(result)
    blank = await mcp.call("update_draft_note", draft_note_id=1, note="", iid=1, **APP)
    assert blank.is_error and "note" in text_of(blank)


# --- comments on a line range, with a suggestion ------------------------------------------------
async def test_a_thread_on_a_line_range_with_a_suggestion(mcp, sim):
    args = {"iid": 1, "new_path": "app/login.py", "start_new_line": 3, "new_line": 4, **APP}
    fix = "def login(form: Form):\n    return check(form)"
    thread = ok(await mcp.call("create_merge_request_thread", body="Type the form.", suggestion=fix, **args))
    [note] = thread["notes"]
    assert note["position"]["new_line"] == 4 and note["position"]["start"] == {"old_line": None, "new_line": 3}
    assert note["body"] == f"Type the form.\n\n```suggestion:-1+0\n{fix}\n```"
    listed = ok(await mcp.call("list_merge_request_discussions", iid=1, per_page=100, **APP))["items"]
    assert any(
        n.get("position", {}).get("start") == {"old_line": None, "new_line": 3} for t in listed for n in t["notes"]
    )


async def test_a_range_starting_outside_the_diff_is_refused(mcp, text_of):
    args = {"iid": 1, "new_path": "app/login.py", "start_new_line": 1, "new_line": 4, **APP}
    result = await mcp.call("create_merge_request_thread", body="Hmm.", **args)
    assert result.is_error and "must be a valid line code" in text_of(result)
    assert "lines must be in the diff of app/login.py" in text_of(result)


async def test_a_thread_on_an_earlier_diff_version(mcp, sim, text_of):
    first = ok(await mcp.call("list_merge_request_versions", iid=1, **APP))["items"][-1]
    args = {"iid": 1, "new_path": "app/login.py", "new_line": 4, **APP}
    before = len(sim.requests())
    thread = ok(
        await mcp.call("create_merge_request_thread", body="Already here in v1.", version_id=first["id"], **args)
    )
    assert thread["notes"][0]["position"]["new_line"] == 4
    sent = [(r["method"], r["path"].split("/merge_requests/1")[-1]) for r in sim.requests()[before:]]
    assert sent == [("GET", f"/versions/{first['id']}"), ("POST", "/discussions")]  # that version's SHAs
    missing = await mcp.call("create_merge_request_thread", body="?", version_id=99999, **args)
    assert missing.is_error and "Version 99999 of Merge request !1 in acme/app not found" in text_of(missing)
