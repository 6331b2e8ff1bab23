"""Tools of the issues area, through the MCP SDK client: as alice (the default server) and as charlie,
who belongs to no project but can see the public acme/website.

The seed (tests/gitlab_sim/areas/issues/): acme/app has issues #1-#25, every 5th closed, #7 and #14
confidential; acme/website #2 is confidential and #3 locked; bob/secret is hidden from both.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.gitlab_sim.seed import TOKENS
from tests.inprocess import MCP, Sim


@pytest.fixture
def charlie(mcp_as: Any) -> MCP:
    return mcp_as("charlie")


def iids(result: Any) -> list[int]:
    assert not result.is_error, result
    return [issue["iid"] for issue in result.structured_content["items"]]


async def test_the_issue_tools_are_listed_with_their_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    for name in ("list_issues", "get_issue", "list_issue_notes"):
        assert tools[name].annotations.read_only_hint is True
    for name in ("create_issue", "create_issue_note"):
        assert tools[name].annotations.read_only_hint is False
    assert tools["create_issue"].input_schema["required"] == ["project", "title"]


# --- list_issues -------------------------------------------------------------------------------
async def test_list_issues_gives_open_issues_newest_first_with_pagination(mcp):
    result = await mcp.call("list_issues", project="acme/app", per_page=5, page=2)
    assert iids(result) == [18, 17, 16, 14, 13]
    page = result.structured_content
    assert (page["page"], page["per_page"], page["next_page"], page["total"]) == (2, 5, 3, 20)
    first = (await mcp.call("list_issues", project="101", per_page=1)).structured_content["items"][0]
    assert first == {
        "iid": 24,
        "title": "Flaky test in the billing suite",
        "state": "opened",
        "labels": [],
        "milestone": None,
        "author": "bob",
        "assignees": ["alice", "bob"],
        "confidential": False,
        "due_date": "2024-06-24",
        "user_notes_count": 0,
        "created_at": "2024-04-24T10:00:00.000Z",
        "updated_at": "2024-05-04T12:00:00.000Z",
        "web_url": "http://gitlab.sim/acme/app/-/issues/24",
    }


async def test_list_issues_filters_by_state_labels_people_milestone_and_text(mcp, sim: Sim):
    assert iids(await mcp.call("list_issues", project="acme/app", state="closed")) == [25, 20, 15, 10, 5]
    both = await mcp.call("list_issues", project="acme/app", state="all", labels=["bug", "critical"])
    assert iids(both) == [23, 18, 13, 8, 3]
    # doc/api/issues.md: labels go as one comma-separated string
    assert any("labels=bug%2Ccritical" in r["query"] for r in sim.requests())
    people = await mcp.call("list_issues", project="acme/app", assignee_username="alice", author_username="bob")
    assert iids(people) == [24, 16, 12, 8, 4]
    assert iids(await mcp.call("list_issues", project="acme/app", milestone="v1.1")) == [14, 13, 12, 11]
    assert iids(await mcp.call("list_issues", project="acme/app", search="timezone")) == [12]
    assert iids(await mcp.call("list_issues", project="acme/app", search="ticket 1007")) == [7]  # in the description


async def test_list_issues_orders_by_title_or_due_date(mcp):
    by_title = await mcp.call("list_issues", project="acme/app", order_by="title", sort="asc", per_page=3)
    assert [i["title"] for i in by_title.structured_content["items"]] == [
        "Add an audit log",
        "Add dark mode",
        "Allow SVG avatars",
    ]
    by_due = await mcp.call("list_issues", project="acme/app", order_by="due_date", sort="asc", per_page=4)
    assert iids(by_due) == [3, 6, 9, 12]


async def test_list_issues_in_a_hidden_project_says_not_found(mcp, text_of):
    result = await mcp.call("list_issues", project="bob/secret")
    assert result.is_error
    assert "Project bob/secret not found or you have no access: 404 Project Not Found" in text_of(result)


async def test_list_issues_rejects_an_unknown_state(mcp, text_of):
    result = await mcp.call("list_issues", project="acme/app", state="merged")
    assert result.is_error
    assert "state" in text_of(result)


# --- get_issue ---------------------------------------------------------------------------------
async def test_get_issue_gives_the_details(mcp):
    result = await mcp.call("get_issue", project="acme/app", iid=1)
    assert not result.is_error
    issue = result.structured_content
    assert issue["title"] == "Login fails with SSO"
    assert issue["description"] == "SAML sign-in loops back to the login page."
    assert (issue["author"], issue["assignees"], issue["labels"]) == ("alice", ["alice"], ["bug"])
    assert issue["milestone"] == {"id": 201, "title": "v1.0"}
    assert (issue["project_id"], issue["user_notes_count"], issue["discussion_locked"]) == (101, 3, False)
    assert "_links" not in issue and "time_stats" not in issue


async def test_get_issue_of_a_closed_issue_names_who_closed_it(mcp):
    issue = (await mcp.call("get_issue", project="acme/app", iid=10)).structured_content
    assert (issue["state"], issue["closed_by"], issue["closed_at"]) == ("closed", "alice", issue["updated_at"])


async def test_get_issue_that_does_not_exist_says_not_found(mcp, text_of):
    result = await mcp.call("get_issue", project="acme/app", iid=999)
    assert result.is_error
    assert "Issue #999 in acme/app not found or you have no access: 404 Not found" in text_of(result)
    hidden = await mcp.call("get_issue", project="bob/secret", iid=1)
    assert hidden.is_error
    assert "Issue #1 in bob/secret not found or you have no access" in text_of(hidden)


async def test_get_issue_needs_a_positive_iid(mcp, text_of):
    result = await mcp.call("get_issue", project="acme/app", iid=0)
    assert result.is_error
    assert "iid" in text_of(result)


# --- create_issue ------------------------------------------------------------------------------
async def test_create_issue_then_read_it_back(mcp):
    result = await mcp.call(
        "create_issue",
        project="acme/app",
        title="Checkout button is grey",
        description="Seen on **Safari**.",
        labels=["ui", "bug"],
        assignee_ids=[2],
        confidential=True,
        due_date="2024-12-24",
        milestone_id=202,
    )
    assert not result.is_error, result
    created = result.structured_content
    assert (created["iid"], created["author"], created["assignees"]) == (26, "alice", ["bob"])
    assert (created["labels"], created["milestone"]) == (["bug", "ui"], {"id": 202, "title": "v1.1"})
    assert (created["confidential"], created["due_date"], created["state"]) == (True, "2024-12-24", "opened")
    again = (await mcp.call("get_issue", project="acme/app", iid=26)).structured_content
    assert again == created
    assert (await mcp.call("list_issues", project="acme/app")).structured_content["total"] == 21
    assert (await mcp.call("get_project", project="acme/app")).structured_content["open_issues_count"] == 21


async def test_create_issue_where_you_cannot_says_why(mcp, text_of):
    hidden = await mcp.call("create_issue", project="bob/secret", title="Hello")
    assert hidden.is_error
    assert "Project bob/secret not found or you have no access" in text_of(hidden)
    disabled = await mcp.call("create_issue", project="alice/notes", title="Hello")  # issues are turned off there
    assert disabled.is_error
    assert "You do not have permission for this on Project alice/notes: 403 Forbidden" in text_of(disabled)


async def test_create_issue_validates_its_arguments(mcp, text_of):
    untitled = await mcp.call("create_issue", project="acme/app")
    assert untitled.is_error
    assert "title" in text_of(untitled)
    bad_date = await mcp.call("create_issue", project="acme/app", title="Hello", due_date="24/12/2024")
    assert bad_date.is_error
    assert "due_date" in text_of(bad_date)
    assert (await mcp.call("list_issues", project="acme/app")).structured_content["total"] == 20


# --- list_issue_notes --------------------------------------------------------------------------
async def test_list_issue_notes_oldest_first_with_system_and_internal_notes(mcp):
    result = await mcp.call("list_issue_notes", project="acme/app", iid=1)
    assert not result.is_error
    notes = result.structured_content["items"]
    assert [(n["author"], n["body"]) for n in notes] == [
        ("bob", "I can reproduce this on staging."),
        ("alice", "added ~bug label"),
        ("alice", "Root cause: the SAML certificate expired."),
        ("alice", "Customer is Initech."),
    ]
    assert [n["system"] for n in notes] == [False, True, False, False]
    assert [n["internal"] for n in notes] == [False, False, False, True]
    newest = await mcp.call("list_issue_notes", project="acme/app", iid=1, sort="desc", per_page=3)
    assert newest.structured_content["items"][0]["body"] == "Customer is Initech."
    assert (newest.structured_content["next_page"], newest.structured_content["total"]) == (2, 4)


async def test_list_issue_notes_of_a_missing_issue_says_not_found(mcp, text_of):
    result = await mcp.call("list_issue_notes", project="acme/app", iid=999)
    assert result.is_error
    assert "Issue #999 in acme/app not found or you have no access: 404 Issue Not Found" in text_of(result)
    hidden = await mcp.call("list_issue_notes", project="bob/secret", iid=1)
    assert hidden.is_error
    assert "404 Project Not Found" in text_of(hidden)


# --- create_issue_note -------------------------------------------------------------------------
async def test_create_issue_note_is_authored_by_alice(mcp):
    result = await mcp.call("create_issue_note", project="acme/app", iid=2, body="Working on it.")
    assert not result.is_error, result
    note = result.structured_content
    assert (note["author"], note["body"], note["internal"], note["system"]) == ("alice", "Working on it.", False, False)
    internal = await mcp.call("create_issue_note", project="acme/app", iid=2, body="ETA Friday.", internal=True)
    assert internal.structured_content["internal"] is True
    notes = (await mcp.call("list_issue_notes", project="acme/app", iid=2)).structured_content["items"]
    assert [(n["id"], n["body"]) for n in notes] == [(note["id"], "Working on it."), (notes[1]["id"], "ETA Friday.")]
    assert (await mcp.call("get_issue", project="acme/app", iid=2)).structured_content["user_notes_count"] == 2


async def test_create_issue_note_on_a_hidden_issue_or_without_a_body_fails(mcp, text_of):
    hidden = await mcp.call("create_issue_note", project="bob/secret", iid=1, body="Peek")
    assert hidden.is_error
    assert "Issue #1 in bob/secret not found or you have no access" in text_of(hidden)
    empty = await mcp.call("create_issue_note", project="acme/app", iid=2, body="")
    assert empty.is_error
    assert "body" in text_of(empty)
    assert (await mcp.call("get_issue", project="acme/app", iid=2)).structured_content["user_notes_count"] == 0


# --- as charlie: a signed-in user who is a member of nothing ------------------------------------
async def test_charlie_sees_public_issues_but_not_confidential_ones(charlie, text_of):
    assert iids(await charlie.call("list_issues", project="acme/website")) == [3, 1]
    confidential = await charlie.call("get_issue", project="acme/website", iid=2)
    assert confidential.is_error
    assert "Issue #2 in acme/website not found or you have no access" in text_of(confidential)
    private = await charlie.call("list_issues", project="acme/app")
    assert private.is_error


async def test_charlie_can_open_an_issue_on_a_public_project(charlie):
    result = await charlie.call("create_issue", project="acme/website", title="Contrast is too low")
    assert not result.is_error, result
    assert (result.structured_content["iid"], result.structured_content["author"]) == (4, "charlie")


async def test_charlie_cannot_comment_on_a_locked_issue(charlie, text_of):
    result = await charlie.call("create_issue_note", project="acme/website", iid=3, body="Still broken")
    assert result.is_error
    assert "You do not have permission for this on Issue #3 in acme/website: 403 Forbidden" in text_of(result)
    notes = (await charlie.call("list_issue_notes", project="acme/website", iid=3)).structured_content
    assert [n["body"] for n in notes["items"]] == ["Locked: fixed in the next deploy."]


async def test_charlies_internal_flag_is_dropped_below_reporter(charlie):
    result = await charlie.call("create_issue_note", project="acme/website", iid=1, body="+1", internal=True)
    assert not result.is_error, result
    assert (result.structured_content["author"], result.structured_content["internal"]) == ("charlie", False)


def test_the_simulator_refuses_bad_issue_requests_as_gitlab_does(sim: Sim):
    """What the tools' schemas never let through still gets GitLab's own answers (doc/api/issues.md)."""
    api, auth = f"{sim.url}/api/v4/projects/acme%2Fapp/issues", {"PRIVATE-TOKEN": TOKENS["alice"]}
    untitled = sim.http.post(api, json={"description": "x"}, headers=auth)
    assert (untitled.status_code, untitled.json()) == (400, {"error": "title is missing"})
    bad_state = sim.http.get(api, params={"state": "merged"}, headers=auth)
    assert (bad_state.status_code, bad_state.json()) == (400, {"error": "state does not have a valid value"})
    anonymous = sim.http.post(api, json={"title": "x"})
    assert anonymous.status_code == 401
    created = sim.http.post(api, json={"title": "x", "labels": "b,a", "assignee_ids": [3]}, headers=auth)
    assert created.status_code == 201
    assert (created.json()["labels"], created.json()["assignees"]) == (["a", "b"], [])  # charlie cannot see acme/app


# --- across projects: list_group_issues, list_my_issues -----------------------------------------
async def test_list_group_issues_covers_the_groups_projects(mcp, mcp_as, text_of):
    page = (await mcp.call("list_group_issues", group="acme", per_page=3)).structured_content
    assert [i["reference"] for i in page["items"]] == ["acme/website#3", "acme/website#2", "acme/website#1"]
    assert page["total"] == 23  # 20 open in acme/app, 3 in acme/website
    critical = await mcp.call("list_group_issues", group="10", state="all", labels=["critical"])
    assert iids(critical) == [23, 18, 13, 8, 3]
    assert (await mcp_as("bob").call("list_group_issues", group="acme")).structured_content["total"] == 22
    charlie = mcp_as("charlie")  # acme is public: he sees its public issues only
    assert iids(await charlie.call("list_group_issues", group="acme")) == [3, 1]
    hidden = await charlie.call("list_group_issues", group="labs")
    assert hidden.is_error and "Group labs not found or you have no access: 404 Group Not Found" in text_of(hidden)


async def test_list_my_issues_assigned_or_created_across_projects(mcp, mcp_as, text_of):
    assigned = await mcp.call("list_my_issues")
    assert iids(assigned) == [24, 21, 17, 16, 13, 12, 9, 8, 4, 1]
    assert assigned.structured_content["items"][0]["reference"] == "acme/app#24"
    created = (await mcp.call("list_my_issues", scope="created_by_me", per_page=4)).structured_content
    assert [i["reference"] for i in created["items"]] == [
        "acme/website#3",
        "acme/website#2",
        "acme/website#1",
        "acme/app#23",
    ]
    bobs = (await mcp_as("bob").call("list_my_issues", search="Secret")).structured_content["items"]
    assert [i["reference"] for i in bobs] == ["bob/secret#1"]
    refused = await mcp.call("list_my_issues", scope="all")
    assert refused.is_error and "scope" in text_of(refused)
