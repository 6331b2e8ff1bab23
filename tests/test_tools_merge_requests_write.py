"""Writing tools of the merge_requests area: create, update, merge, rebase, approve (as alice unless said).

acme/app: !1 (bob's feature/login -> protected main, pipeline passed) is mergeable; !3 is a draft with a
running pipeline, !4's pipeline failed, !6 conflicts, !2 is merged. acme/website !1 needs one approval.
Only maintainers merge into main; in acme/app authors may not approve their own MRs.
"""

from __future__ import annotations

HIDDEN = "not found or you have no access"


async def mr(mcp, iid, project="acme/app"):
    return (await mcp.call("get_merge_request", project=project, iid=iid)).structured_content


# --- create_merge_request --------------------------------------------------------------------------
async def test_create_opens_an_mr_with_people_labels_and_draft(mcp):
    args = {"project": "acme/app", "source_branch": "feature/login", "target_branch": "fix/typo"}
    result = await mcp.call(
        "create_merge_request",
        title="Login on the typo branch",
        description="Closes #4",
        labels=["feature", "auth"],
        assignee_ids=[2],
        reviewer_ids=[1],
        draft=True,
        remove_source_branch=True,
        **args,
    )
    assert not result.is_error, result
    new = result.structured_content
    assert (new["iid"], new["state"], new["title"]) == (7, "opened", "Draft: Login on the typo branch")
    assert new["draft"] is True and new["detailed_merge_status"] == "draft_status"
    assert (new["author"], new["assignees"], new["reviewers"]) == ("alice", ["bob"], ["alice"])
    assert new["labels"] == ["auth", "feature"] and new["force_remove_source_branch"] is True
    assert new["reference"] == "acme/app!7" and new["changes_count"] == "2"
    changes = (await mcp.call("get_merge_request_changes", project="acme/app", iid=7)).structured_content
    assert [f["new_path"] for f in changes["files"]] == ["README.md", "src/login.py"]
    closes = (await mcp.call("get_merge_request_closes_issues", project="acme/app", iid=7)).structured_content
    assert [i["iid"] for i in closes["items"]] == [4]


async def test_create_refusals_say_why(mcp, mcp_as, text_of):
    args = {"project": "acme/app", "title": "Again"}
    twice = await mcp.call("create_merge_request", source_branch="feature/login", target_branch="main", **args)
    assert twice.is_error and "HTTP 409" in text_of(twice)
    assert "Another open merge request already exists for this source branch: !1" in text_of(twice)
    same = await mcp.call("create_merge_request", source_branch="main", target_branch="main", **args)
    assert same.is_error and "You can't use same project/branch for source and target" in text_of(same)
    ghost = await mcp.call("create_merge_request", source_branch="ghost", target_branch="main", **args)
    assert ghost.is_error and "source_branch does not exist" in text_of(ghost)
    site = {"project": "acme/website", "source_branch": "main", "target_branch": "gh-pages", "title": "T"}
    outsider = await mcp_as("charlie").call("create_merge_request", **site)
    assert outsider.is_error and "You do not have permission" in text_of(outsider)


# --- update_merge_request --------------------------------------------------------------------------
async def test_update_changes_only_what_is_passed(mcp, sim):
    args = {"project": "acme/app", "iid": 6}
    result = await mcp.call(
        "update_merge_request", title="Add HTTP timeouts (30 s)", add_labels=["urgent"], remove_labels=["backend"],
        reviewer_ids=[1, 2], **args,
    )  # fmt: skip
    assert not result.is_error, result
    updated = result.structured_content
    assert updated["title"] == "Add HTTP timeouts (30 s)" and updated["labels"] == ["bug", "urgent"]
    assert updated["reviewers"] == ["alice", "bob"] and updated["assignees"] == ["alice", "bob"]
    assert "add_labels=" not in sim.requests()[-1]["query"]  # sent in the JSON body
    closed = (await mcp.call("update_merge_request", state_event="close", **args)).structured_content
    assert closed["state"] == "closed" and closed["closed_by"] == "alice"
    reopened = (await mcp.call("update_merge_request", state_event="reopen", labels=[], **args)).structured_content
    assert reopened["state"] == "opened" and reopened["labels"] == []


async def test_update_draft_flag_rewrites_the_title(mcp):
    ready = (await mcp.call("update_merge_request", project="acme/app", iid=3, draft=False)).structured_content
    assert ready["title"] == "Rewrite the API client" and ready["draft"] is False
    assert ready["detailed_merge_status"] == "ci_still_running"  # the draft was the first blocker
    again = await mcp.call("update_merge_request", project="acme/app", iid=1, draft=True, title="Login page")
    assert again.structured_content["title"] == "Draft: Login page"


async def test_update_refusals(mcp, mcp_as, text_of):
    nothing = await mcp.call("update_merge_request", project="acme/app", iid=1)
    assert nothing.is_error and "at least one parameter must be provided" in text_of(nothing)
    outsider = await mcp_as("charlie").call("update_merge_request", project="acme/website", iid=1, title="Mine")
    assert outsider.is_error and "You do not have permission" in text_of(outsider)
    hidden = await mcp_as("charlie").call("update_merge_request", project="acme/app", iid=1, title="Mine")
    assert hidden.is_error and HIDDEN in text_of(hidden)


# --- merge_merge_request ---------------------------------------------------------------------------
async def test_merge_with_the_reviewed_sha(mcp):
    before = await mcp.call("get_commit", project="acme/app", sha="main")
    head = (await mr(mcp, 1))["sha"]
    result = await mcp.call(
        "merge_merge_request", project="acme/app", iid=1, sha=head, should_remove_source_branch=True
    )
    assert not result.is_error, result
    merged = result.structured_content
    assert (merged["state"], merged["merge_user"], merged["detailed_merge_status"]) == ("merged", "alice", "not_open")
    commit = (await mcp.call("get_commit", project="acme/app", sha="main")).structured_content
    assert commit["id"] == merged["merge_commit_sha"]
    assert commit["parent_ids"] == [before.structured_content["id"], head]
    assert commit["title"] == "Merge branch 'feature/login' into 'main'"
    by_commit = await mcp.call("list_commit_merge_requests", project="acme/app", sha=merged["merge_commit_sha"])
    assert [m["iid"] for m in by_commit.structured_content["items"]] == [1]
    gone = await mcp.call("get_commit", project="acme/app", sha="feature/login")
    assert gone.is_error  # the source branch was removed


async def test_merge_refusals_say_why_and_what_to_do(mcp, mcp_as, text_of):
    async def refusal(iid, project="acme/app", client=mcp, **arguments):
        result = await client.call("merge_merge_request", project=project, iid=iid, **arguments)
        assert result.is_error, result
        return text_of(result)

    assert "is a draft. Mark it ready with update_merge_request(draft=false)" in await refusal(3)
    assert "has merge conflicts with release/1.0" in await refusal(6)
    assert "pipeline must succeed first (latest: failed)" in await refusal(4)
    assert "lacks required approvals" in await refusal(1, "acme/website")
    assert "it is merged (merge commit" in await refusal(2)
    moved = await refusal(1, sha="0" * 40)
    assert f"source branch moved: the head is now {(await mr(mcp, 1))['sha']}" in moved
    assert "you may not merge into main" in await refusal(1, client=mcp_as("bob"))
    assert (await mr(mcp, 1))["state"] == "opened"  # nothing merged


async def test_merge_reports_gitlabs_own_refusal(mcp, sim, text_of):
    # The branch moved between the check and the merge: GitLab's 409 reaches the model as it is.
    sim.fault("/merge_requests/1/merge$", status=409, body={"message": "SHA does not match HEAD of source branch: abc"})
    result = await mcp.call("merge_merge_request", project="acme/app", iid=1)
    assert result.is_error and "HTTP 409" in text_of(result)
    assert "SHA does not match HEAD of source branch: abc" in text_of(result)


async def test_auto_merge_waits_for_the_running_pipeline(mcp, text_of):
    await mcp.call("update_merge_request", project="acme/app", iid=3, draft=False)
    now = await mcp.call("merge_merge_request", project="acme/app", iid=3)
    assert now.is_error and "pass auto_merge=true" in text_of(now)
    result = await mcp.call("merge_merge_request", project="acme/app", iid=3, auto_merge=True)
    assert not result.is_error, result
    waiting = result.structured_content
    assert waiting["state"] == "opened" and waiting["merge_when_pipeline_succeeds"] is True
    assert waiting["merge_user"] == "alice" and "automatically" in waiting["hint"]


# --- approvals -------------------------------------------------------------------------------------
async def test_approve_unblocks_the_merge_and_unapprove_takes_it_back(mcp, text_of):
    site = {"project": "acme/website", "iid": 1}
    approved = (await mcp.call("approve_merge_request", **site)).structured_content
    assert approved["approved"] is True and approved["approvals_left"] == 0 and approved["approved_by"] == ["alice"]
    assert approved["user_has_approved"] is True
    again = (await mcp.call("approve_merge_request", **site)).structured_content
    assert again["hint"] == "You had already approved it." and again["approved_by"] == ["alice"]
    taken_back = (await mcp.call("unapprove_merge_request", **site)).structured_content
    assert taken_back["approved_by"] == [] and taken_back["approvals_left"] == 1
    twice = await mcp.call("unapprove_merge_request", **site)
    assert twice.is_error and "Your approval of merge request !1 in acme/website not found" in text_of(twice)
    await mcp.call("approve_merge_request", **site)
    merged = (await mcp.call("merge_merge_request", **site)).structured_content
    assert merged["state"] == "merged"


async def test_who_may_approve(mcp, mcp_as, text_of):
    own = await mcp_as("bob").call("approve_merge_request", project="acme/app", iid=1)
    assert own.is_error and "You may not approve Merge request !1 in acme/app" in text_of(own)
    outsider = await mcp_as("charlie").call("approve_merge_request", project="acme/website", iid=1)
    assert outsider.is_error and "You may not approve" in text_of(outsider)
    stale = await mcp.call("approve_merge_request", project="acme/app", iid=1, sha="1" * 40)
    assert stale.is_error and "SHA does not match HEAD of source branch" in text_of(stale)
    ok = (await mcp.call("approve_merge_request", project="acme/app", iid=1)).structured_content
    assert ok["approved_by"] == ["alice"]
    participants = await mcp.call("list_merge_request_participants", project="acme/app", iid=1)
    assert [p["username"] for p in participants.structured_content["items"]] == ["bob", "alice"]


# --- rebase_merge_request --------------------------------------------------------------------------
async def test_rebase_replays_the_commits_on_the_new_target(mcp, mcp_as):
    await mcp.call("revert_commit", project="acme/app", sha="main", branch="main")  # main moves on
    before = await mr(mcp, 1)
    result = await mcp_as("bob").call("rebase_merge_request", project="acme/app", iid=1)
    assert not result.is_error, result
    assert (
        result.structured_content["rebase_in_progress"] is True and "merge_error" in result.structured_content["hint"]
    )
    after = await mr(mcp, 1)
    assert after["sha"] != before["sha"] and after["merge_error"] is None
    commits = (await mcp.call("list_merge_request_commits", project="acme/app", iid=1)).structured_content
    assert [c["title"] for c in commits["items"]] == ["Mention login in README", "Add login form"]
    head = (await mcp.call("get_commit", project="acme/app", sha=after["sha"])).structured_content
    assert head["author_name"] == "Bob Builder"


async def test_rebase_refusals(mcp, mcp_as, text_of):
    branchless = await mcp.call("rebase_merge_request", project="acme/app", iid=3)
    assert branchless.is_error and "Source branch does not exist" in text_of(branchless)
    hidden = await mcp_as("charlie").call("rebase_merge_request", project="acme/app", iid=1)
    assert hidden.is_error and HIDDEN in text_of(hidden)
