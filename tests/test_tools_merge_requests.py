"""Reading tools of the merge_requests area, through the MCP SDK client (acting as alice).

The seed (tests/gitlab_sim/areas/merge_requests/): acme/app has !1-!6 (opened: 1, 3, 4, 6; !2 merged,
!5 closed); !3 changes 45 files, !4 has a ~200 kB diff and eight more files; acme/website !1 needs an
approval; bob/secret has !1, hidden from alice. Writing tools: test_tools_merge_requests_write.py;
get_merge_request_changes: test_tools_merge_request_changes.py.
"""

from __future__ import annotations

from tests.gitlab_sim.seed import TOKENS

LIST_KEYS = {
    "iid",
    "title",
    "state",
    "draft",
    "author",
    "assignees",
    "reviewers",
    "source_branch",
    "target_branch",
    "labels",
    "detailed_merge_status",
    "updated_at",
    "web_url",
}


async def iids(mcp, **arguments):
    result = await mcp.call("list_merge_requests", project="acme/app", **arguments)
    assert not result.is_error, result
    return [mr["iid"] for mr in result.structured_content["items"]]


# --- list_merge_requests ---------------------------------------------------------------------------
async def test_list_gives_open_mrs_most_recently_updated_first_trimmed(mcp):
    page = (await mcp.call("list_merge_requests", project="acme/app")).structured_content
    assert [mr["iid"] for mr in page["items"]] == [3, 6, 1, 4]
    assert page["total"] == 4 and page["next_page"] is None and page["page"] == 1
    login = next(mr for mr in page["items"] if mr["iid"] == 1)
    assert set(login) == LIST_KEYS
    assert login["author"] == "bob" and login["reviewers"] == ["alice"] and login["assignees"] == ["bob"]
    assert login["labels"] == ["feature", "frontend"]
    assert login["web_url"] == "http://gitlab.sim/acme/app/-/merge_requests/1"


async def test_list_filters_by_state(mcp):
    assert await iids(mcp, state="merged") == [2]
    assert await iids(mcp, state="closed") == [5]
    assert sorted(await iids(mcp, state="all")) == [1, 2, 3, 4, 5, 6]


async def test_list_filters_by_labels_people_and_branches(mcp, sim):
    assert await iids(mcp, state="all", labels=["bug"]) == [6, 2]
    assert await iids(mcp, state="all", labels=["bug", "backend"]) == [6]
    assert "labels=bug%2Cbackend" in sim.requests()[-1]["query"]  # GitLab's comma-separated list
    assert await iids(mcp, state="all", author_username="bob") == [1, 4, 5]
    assert await iids(mcp, reviewer_username="alice") == [1, 4]
    assert await iids(mcp, target_branch="release/1.0") == [6]
    assert await iids(mcp, source_branch="feature/login") == [1]


async def test_list_filters_drafts_and_searches_text(mcp, sim):
    assert await iids(mcp, draft=True) == [3]
    assert "wip=yes" in sim.requests()[-1]["query"]
    assert await iids(mcp, draft=False) == [6, 1, 4]
    assert await iids(mcp, search="KeyError") == [6]  # in the description only
    assert await iids(mcp, state="all", search="crash") == [2]


async def test_list_orders_and_pages(mcp):
    assert await iids(mcp, order_by="created_at", sort="asc") == [1, 3, 4, 6]
    first = (await mcp.call("list_merge_requests", project="101", state="all", per_page=4)).structured_content
    assert len(first["items"]) == 4 and first["next_page"] == 2 and first["total"] == 6
    rest = (await mcp.call("list_merge_requests", project="101", state="all", per_page=4, page=2)).structured_content
    assert rest["next_page"] is None
    assert sorted(mr["iid"] for mr in first["items"] + rest["items"]) == [1, 2, 3, 4, 5, 6]


async def test_list_in_a_hidden_project_says_not_found_or_no_access(mcp, text_of):
    result = await mcp.call("list_merge_requests", project="bob/secret", state="all")
    assert result.is_error
    assert "Project bob/secret not found or you have no access" in text_of(result)


async def test_list_rejects_invalid_arguments(mcp, text_of):
    result = await mcp.call("list_merge_requests", project="acme/app", state="bogus")
    assert result.is_error and "state" in text_of(result)
    result = await mcp.call("list_merge_requests", project="acme/app", per_page=0)
    assert result.is_error and "per_page" in text_of(result)


async def test_bob_sees_the_mr_hidden_from_alice(mcp_with, sim):
    bob = mcp_with(token=TOKENS["bob"])
    page = (await bob.call("list_merge_requests", project="bob/secret")).structured_content
    assert [mr["title"] for mr in page["items"]] == ["Secret plan"]


# --- get_merge_request -----------------------------------------------------------------------------
async def test_get_gives_people_status_and_pipeline(mcp):
    result = await mcp.call("get_merge_request", project="acme/app", iid=1)
    assert not result.is_error
    mr = result.structured_content
    assert mr["title"] == "Add a login page" and mr["state"] == "opened"
    assert mr["description"].startswith("Adds the login form")
    assert (mr["source_branch"], mr["target_branch"]) == ("feature/login", "main")
    assert (mr["author"], mr["assignees"], mr["reviewers"]) == ("bob", ["bob"], ["alice"])
    assert mr["detailed_merge_status"] == "mergeable" and mr["has_conflicts"] is False
    assert mr["milestone"] == "v1.0" and mr["reference"] == "acme/app!1"
    assert mr["changes_count"] == "4" and len(mr["sha"]) == 40
    assert mr["pipeline"]["status"] == "success" and set(mr["pipeline"]) == {"id", "status", "ref", "sha", "web_url"}
    assert not {"time_stats", "head_pipeline", "references", "assignee", "_links"} & set(mr)


async def test_get_a_merged_mr_by_project_id(mcp):
    mr = (await mcp.call("get_merge_request", project="101", iid=2)).structured_content
    assert mr["state"] == "merged" and mr["merge_user"] == "alice"
    assert mr["merged_at"] and mr["merge_commit_sha"]
    assert mr["pipeline"] is None


async def test_get_shows_conflicts(mcp):
    mr = (await mcp.call("get_merge_request", project="acme/app", iid=6)).structured_content
    assert mr["has_conflicts"] is True and mr["detailed_merge_status"] == "conflict"
    assert mr["target_branch"] == "release/1.0" and mr["assignees"] == ["alice", "bob"]


async def test_get_a_missing_mr_says_not_found(mcp, text_of):
    result = await mcp.call("get_merge_request", project="acme/app", iid=99)
    assert result.is_error
    assert "Merge request !99 in acme/app not found or you have no access" in text_of(result)


async def test_get_in_a_hidden_project_says_not_found(mcp, text_of):
    result = await mcp.call("get_merge_request", project="bob/secret", iid=1)
    assert result.is_error
    assert "Merge request !1 in bob/secret not found or you have no access" in text_of(result)
    assert "Secret plan" not in text_of(result)


async def test_get_rejects_an_invalid_iid(mcp, text_of):
    result = await mcp.call("get_merge_request", project="acme/app", iid=0)
    assert result.is_error and "iid" in text_of(result)
    result = await mcp.call("get_merge_request", project="acme/app")
    assert result.is_error and "iid" in text_of(result)


# --- across projects -------------------------------------------------------------------------------
async def test_group_mrs_span_its_projects_as_each_user_sees_them(mcp, mcp_as, text_of):
    page = (await mcp.call("list_group_merge_requests", group="acme")).structured_content
    assert [mr["reference"] for mr in page["items"]] == [
        "acme/app!3",
        "acme/app!6",
        "acme/app!1",
        "acme/app!4",
        "acme/website!1",
    ]
    bugs = await mcp.call("list_group_merge_requests", group="10", state="all", labels=["bug"])
    assert [mr["reference"] for mr in bugs.structured_content["items"]] == ["acme/app!6", "acme/app!2"]
    charlie = (await mcp_as("charlie").call("list_group_merge_requests", group="acme")).structured_content
    assert [mr["reference"] for mr in charlie["items"]] == ["acme/website!1"]  # acme/app is private
    missing = await mcp.call("list_group_merge_requests", group="nope")
    assert missing.is_error and "Group nope not found or you have no access" in text_of(missing)


async def test_my_mrs_by_assignment_review_or_authorship(mcp, mcp_as, sim, text_of):
    async def refs(client, **arguments):
        page = (await client.call("list_my_merge_requests", **arguments)).structured_content
        return [mr["reference"] for mr in page["items"]]

    assert await refs(mcp) == ["acme/app!3", "acme/app!6"]
    assert "scope=assigned_to_me" in sim.requests()[-1]["query"]
    assert await refs(mcp, scope="reviews_for_me") == ["acme/app!1", "acme/app!4"]
    assert await refs(mcp, scope="created_by_me") == ["acme/app!3", "acme/app!6", "acme/website!1"]
    assert await refs(mcp_as("bob"), scope="reviews_for_me", state="all") == ["acme/app!6", "acme/app!2"]
    bad = await mcp.call("list_my_merge_requests", scope="everything")
    assert bad.is_error and "scope" in text_of(bad)


# --- what belongs to a merge request ---------------------------------------------------------------
async def test_approvals_state(mcp, text_of):
    site = (await mcp.call("get_merge_request_approvals", project="acme/website", iid=1)).structured_content
    assert site == {
        "iid": 1,
        "approved": False,
        "approvals_required": 1,
        "approvals_left": 1,
        "user_has_approved": False,
        "user_can_approve": True,
        "approved_by": [],
    }
    missing = await mcp.call("get_merge_request_approvals", project="acme/app", iid=99)
    assert missing.is_error and "Merge request !99 in acme/app not found" in text_of(missing)


async def test_mr_commits(mcp, text_of):
    login = (await mcp.call("list_merge_request_commits", project="acme/app", iid=1)).structured_content
    assert [c["title"] for c in login["items"]] == ["Mention login in README", "Add login form"]
    assert set(login["items"][0]) == {"id", "short_id", "title", "author_name", "authored_date", "web_url"}
    merged = (await mcp.call("list_merge_request_commits", project="acme/app", iid=2)).structured_content
    assert [c["title"] for c in merged["items"]] == ["Fix crash on empty config"]
    hidden = await mcp.call("list_merge_request_commits", project="bob/secret", iid=1)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)


async def test_mr_pipelines_newest_first(mcp, text_of):
    page = (await mcp.call("list_merge_request_pipelines", project="acme/app", iid=1)).structured_content
    assert [(p["id"], p["status"]) for p in page["items"]] == [(10011, "success"), (505, "canceled"), (502, "failed")]
    assert page["items"][0]["ref"] == "refs/merge-requests/1/head"
    missing = await mcp.call("list_merge_request_pipelines", project="acme/app", iid=42)
    assert missing.is_error and "Merge request !42 in acme/app not found" in text_of(missing)


async def test_issues_an_mr_closes(mcp, text_of):
    page = (await mcp.call("get_merge_request_closes_issues", project="acme/app", iid=2)).structured_content
    assert [(i["iid"], i["state"]) for i in page["items"]] == [(3, "opened")]
    assert (await mcp.call("get_merge_request_closes_issues", project="101", iid=1)).structured_content["items"] == []
    hidden = await mcp.call("get_merge_request_closes_issues", project="bob/secret", iid=1)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)


async def test_mr_participants(mcp, text_of):
    page = (await mcp.call("list_merge_request_participants", project="acme/app", iid=6)).structured_content
    assert page["items"] == [
        {"id": 1, "username": "alice", "name": "Alice Liddell"},
        {"id": 2, "username": "bob", "name": "Bob Builder"},
    ]
    missing = await mcp.call("list_merge_request_participants", project="acme/app", iid=77)
    assert missing.is_error and "Merge request !77 in acme/app not found" in text_of(missing)
