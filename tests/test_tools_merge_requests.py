"""Reading tools of the merge_requests area, through the MCP SDK client (acting as alice).

The seed (tests/gitlab_sim/areas/merge_requests.py): acme/app has !1-!6 (opened: 1, 3, 4, 6; !2 merged,
!5 closed); !3 changes 45 files, !4 has a ~200 kB diff and eight more files; acme/website !1 needs an
approval; bob/secret has !1, hidden from alice. Writing tools: test_tools_merge_requests_write.py.
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


# --- get_merge_request_changes ---------------------------------------------------------------------
async def test_changes_give_each_file_with_its_flags_and_diff(mcp):
    result = await mcp.call("get_merge_request_changes", project="acme/app", iid=1)
    assert not result.is_error
    changes = result.structured_content
    files = {f["new_path"]: f for f in changes["files"]}
    assert list(files) == ["app/login.py", "app/templates/login.html", "app/auth.py", "app/old_login.py"]
    assert "+def login(form):" in files["app/login.py"]["diff"]
    assert files["app/templates/login.html"]["new_file"] is True
    assert files["app/auth.py"]["renamed_file"] is True and files["app/auth.py"]["old_path"] == "app/session.py"
    assert files["app/old_login.py"]["deleted_file"] is True
    assert set(files["app/login.py"]) == {"old_path", "new_path", "new_file", "renamed_file", "deleted_file", "diff"}
    assert changes["truncated"] is False and "hint" not in changes
    assert changes["total"] == 4 and changes["next_page"] is None


async def test_changes_page_through_many_files(mcp, sim):
    first = (await mcp.call("get_merge_request_changes", project="acme/app", iid=3)).structured_content
    assert len(first["files"]) == 20 and first["next_page"] == 2 and first["total"] == 45
    assert first["truncated"] is False and "page=2" in first["hint"]
    assert sim.requests()[-1]["path"] == "/api/v4/projects/acme%2Fapp/merge_requests/3/diffs"
    last = (await mcp.call("get_merge_request_changes", project="acme/app", iid=3, page=3)).structured_content
    assert [f["new_path"] for f in last["files"]] == [f"docs/part_{n}.md" for n in range(41, 46)]
    assert last["next_page"] is None and "hint" not in last


async def test_changes_filter_paths_within_the_page(mcp):
    api = await mcp.call("get_merge_request_changes", project="acme/app", iid=3, paths=["src/api/"], per_page=100)
    assert [f["new_path"] for f in api.structured_content["files"]] == [
        f"src/api/part_{n:02d}.py" for n in range(1, 16)
    ]
    docs = (await mcp.call("get_merge_request_changes", project="acme/app", iid=3, paths=["*.md"])).structured_content
    assert docs["files"] == [] and "Other files may match on later pages: page=2" in docs["hint"]


async def test_changes_cap_each_file_and_the_whole_call(mcp, text_of):
    result = await mcp.call("get_merge_request_changes", project="acme/app", iid=4)
    changes = result.structured_content
    files = {f["new_path"]: f for f in changes["files"]}
    assert len(files) == 9 and changes["truncated"] is True
    assert sum(len(f["diff"] or "") for f in files.values()) <= 50_000
    huge = files["fixtures/huge.json"]
    assert huge["truncated"] is True and len(huge["diff"]) <= 10_000
    assert huge["first_line"] == 1 and huge["total_lines"] == 3001 and huge["last_line"] < 3001
    assert huge["diff"].endswith("},")  # cut at a line end
    assert files["src/gen/module_1.py"]["diff"].count("\n") == 150 and "truncated" not in files["src/gen/module_1.py"]
    assert files["src/gen/module_5.py"]["truncated"] is True  # cut to what the total cap left
    assert files["src/gen/module_6.py"]["diff"] is None and files["package-lock.json"]["diff"] is None
    assert files["assets/bundle.min.js"]["too_large"] is True and files["assets/bundle.min.js"]["diff"] == ""
    hint = changes["hint"]
    assert f"fixtures/huge.json (lines 1-{huge['last_line']} of 3001)" in hint and "start_line" in hint
    assert "src/gen/module_6.py, package-lock.json" in hint and "paths" in hint
    assert "hint" in text_of(result)  # the text content carries the same result for clients without structure


async def test_changes_read_on_in_a_cut_diff_with_start_line(mcp):
    first = await mcp.call("get_merge_request_changes", project="acme/app", iid=4, paths=["fixtures/huge.json"])
    next_line = first.structured_content["files"][0]["last_line"] + 1
    more = await mcp.call(
        "get_merge_request_changes", project="acme/app", iid=4, paths=["fixtures/huge.json"], start_line=next_line
    )
    huge = more.structured_content["files"][0]
    assert huge["first_line"] == next_line and huge["diff"].startswith(f'+  {{"id": {next_line - 1},')
    end = await mcp.call("get_merge_request_changes", project="acme/app", iid=4, paths=["fixtures/"], start_line=2990)
    tail = end.structured_content["files"][0]
    assert (tail["first_line"], tail["last_line"], tail["truncated"]) == (2990, 3001, False)
    assert end.structured_content["truncated"] is False


async def test_changes_get_left_out_files_by_path_and_skip_big_ones(mcp):
    wanted = ["src/gen/module_6.py", "package-lock.json"]
    got = (await mcp.call("get_merge_request_changes", project="acme/app", iid=4, paths=wanted)).structured_content
    assert [f["new_path"] for f in got["files"]] == wanted and got["truncated"] is False
    assert got["files"][1]["generated_file"] is True and '+"v": "1.0.1"' in got["files"][1]["diff"]
    rest = await mcp.call(
        "get_merge_request_changes", project="acme/app", iid=4, exclude_paths=["fixtures/", "src/gen/module_[1-3].py"]
    )
    names = [f["new_path"] for f in rest.structured_content["files"]]
    gen = [f"src/gen/module_{n}.py" for n in (4, 5, 6)]
    assert names == [*gen, "assets/bundle.min.js", "package-lock.json"]
    assert rest.structured_content["truncated"] is False


async def test_changes_of_a_missing_or_hidden_mr_say_not_found(mcp, text_of):
    missing = await mcp.call("get_merge_request_changes", project="acme/app", iid=99)
    assert missing.is_error and "Merge request !99 in acme/app not found or you have no access" in text_of(missing)
    hidden = await mcp.call("get_merge_request_changes", project="bob/secret", iid=1)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)
    assert "plan.md" not in text_of(hidden)


async def test_changes_reject_invalid_arguments(mcp, text_of):
    result = await mcp.call("get_merge_request_changes", project="acme/app", iid=4, start_line=0)
    assert result.is_error and "start_line" in text_of(result)
    result = await mcp.call("get_merge_request_changes", project="acme/app", iid=4, per_page=101)
    assert result.is_error and "per_page" in text_of(result)


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
