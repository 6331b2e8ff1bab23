"""Tools of the labels_milestones area, through the MCP SDK client (acting as alice unless said).

Seed (tests/gitlab_sim/areas/labels_milestones/, issues/): acme/app has eight labels plus the acme
group's priority::high and team::platform; issues carry bug on #1, #3, #6, #8…, documentation on the
closed #5, #10…; milestones 201 "v1.0" (closed, issues #1-#10, MR !1) and 202 "v1.1" (active); the acme
group (public) has milestone 301; bob's group labs is private. charlie is in no project of acme;
acme/website is public (alice owns it).
"""

from __future__ import annotations


def names(result):
    return [item["name"] for item in result.structured_content["items"]]


def by_name(result, name):
    return next(item for item in result.structured_content["items"] if item["name"] == name)


async def test_list_labels_with_counts_and_group_labels(mcp):
    result = await mcp.call("list_labels", project="acme/app")
    assert not result.is_error
    assert names(result) == [
        "backend", "bug", "chore", "critical", "documentation", "feature", "frontend", "priority::high", "refactor",
        "team::platform",
    ]  # fmt: skip
    bug = by_name(result, "bug")
    assert bug["color"] == "#d9534f" and bug["priority"] == 1 and bug["is_project_label"] is True
    assert (bug["open_issues_count"], bug["closed_issues_count"], bug["open_merge_requests_count"]) == (10, 0, 1)
    docs = by_name(result, "documentation")
    assert (docs["open_issues_count"], docs["closed_issues_count"]) == (0, 5)
    assert by_name(result, "priority::high")["is_project_label"] is False
    assert result.structured_content["total"] == 10
    found = await mcp.call("list_labels", project="acme/app", search="crit")
    assert names(found) == ["critical"]


async def test_label_search_matches_name_or_description_and_counts_can_be_skipped(mcp, sim):
    found = await mcp.call("list_labels", project="acme/app", search="BROKEN", with_counts=False)
    assert names(found) == ["bug"]
    assert "open_issues_count" not in by_name(found, "bug")  # GitLab sends no counts unless asked
    assert "with_counts=false" in sim.requests()[-1]["query"]
    platform = await mcp.call("list_group_labels", group="acme", search="platform team", with_counts=False)
    assert names(platform) == ["team::platform"]


async def test_list_labels_of_a_hidden_project_is_not_found(mcp, text_of):
    result = await mcp.call("list_labels", project="bob/secret")
    assert result.is_error
    assert "Labels of bob/secret not found or you have no access" in text_of(result)


async def test_create_label(mcp):
    result = await mcp.call("create_label", project="acme/app", name="needs-design", color="#5843AD", description="UX")
    assert not result.is_error
    label = result.structured_content
    assert label["name"] == "needs-design" and label["color"] == "#5843AD" and label["description"] == "UX"
    assert label["open_issues_count"] == 0 and label["is_project_label"] is True
    named = await mcp.call("create_label", project="acme/app", name="urgent", color="crimson")
    assert named.structured_content["color"] == "#DC143C"  # CSS colour names are stored as hex
    assert "needs-design" in names(await mcp.call("list_labels", project="acme/app"))


async def test_create_label_refuses_duplicates_bad_colours_and_guests(mcp, mcp_as, text_of):
    taken = await mcp.call("create_label", project="acme/app", name="bug", color="#000000")
    assert taken.is_error and "HTTP 409" in text_of(taken) and "Label already exists" in text_of(taken)
    group_label = await mcp.call("create_label", project="acme/app", name="priority::high", color="#000000")
    assert group_label.is_error and "Label already exists" in text_of(group_label)
    colour = await mcp.call("create_label", project="acme/app", name="fresh", color="#12345")
    assert colour.is_error and "color must be a valid color code" in text_of(colour)
    guest = await mcp_as("charlie").call("create_label", project="acme/website", name="mine", color="#FFAABB")
    assert guest.is_error and "You do not have permission" in text_of(guest)


async def test_update_label_renames_it_on_issues_too(mcp):
    result = await mcp.call("update_label", project="acme/app", label="bug", new_name="defect", color="#FF0000")
    assert not result.is_error
    assert result.structured_content["name"] == "defect" and result.structured_content["color"] == "#FF0000"
    assert result.structured_content["open_issues_count"] == 10
    issue = (await mcp.call("get_issue", project="acme/app", iid=3)).structured_content
    assert issue["labels"] == ["critical", "defect"]
    by_id = await mcp.call("update_label", project="acme/app", label="803", description="Guides")
    assert by_id.structured_content["name"] == "documentation" and by_id.structured_content["description"] == "Guides"


async def test_update_label_errors(mcp, text_of):
    group_label = await mcp.call("update_label", project="acme/app", label="priority::high", color="#000000")
    assert group_label.is_error
    assert "Label priority::high in acme/app not found or you have no access: 404 Label Not Found" in text_of(
        group_label
    )
    nothing = await mcp.call("update_label", project="acme/app", label="bug")
    assert nothing.is_error and "at least one parameter must be provided" in text_of(nothing)
    clash = await mcp.call("update_label", project="acme/app", label="bug", new_name="critical")
    assert clash.is_error and "title has already been taken" in text_of(clash)


async def test_delete_label_removes_it_from_issues(mcp, mcp_as):
    result = await mcp_as("bob").call("delete_label", project="acme/app", label="critical")
    assert not result.is_error
    assert result.structured_content == {"deleted": True, "label": "critical"}
    assert "critical" not in names(await mcp.call("list_labels", project="acme/app"))
    issue = (await mcp.call("get_issue", project="acme/app", iid=3)).structured_content
    assert issue["labels"] == ["bug"]


async def test_delete_label_missing_or_forbidden(mcp, mcp_as, text_of):
    missing = await mcp.call("delete_label", project="acme/app", label="nope")
    assert missing.is_error and "Label nope in acme/app not found" in text_of(missing)
    guest = await mcp_as("charlie").call("delete_label", project="acme/website", label="content")
    assert guest.is_error and "You do not have permission" in text_of(guest)
    assert "content" in names(await mcp.call("list_labels", project="acme/website"))


async def test_list_group_labels(mcp, mcp_as, text_of):
    result = await mcp.call("list_group_labels", group="acme")
    assert not result.is_error
    assert names(result) == ["priority::high", "team::platform"]
    assert by_name(result, "priority::high")["color"] == "#dc143c"
    assert names(await mcp_as("charlie").call("list_group_labels", group="acme")) == names(result)  # a public group
    hidden = await mcp.call("list_group_labels", group="labs")
    assert hidden.is_error and "Labels of group labs not found or you have no access" in text_of(hidden)


async def test_list_milestones_by_state_and_search(mcp):
    active = await mcp.call("list_milestones", project="acme/app")
    assert not active.is_error
    assert [m["title"] for m in active.structured_content["items"]] == ["v1.1"]
    every = (await mcp.call("list_milestones", project="acme/app", state="all")).structured_content["items"]
    assert [(m["id"], m["iid"], m["state"]) for m in every] == [(201, 1, "closed"), (202, 2, "active")]
    assert every[0]["due_date"] == "2024-05-01"
    found = await mcp.call("list_milestones", project="acme/app", state="all", search="1.0")
    assert [m["id"] for m in found.structured_content["items"]] == [201]


async def test_list_milestones_of_a_hidden_project_is_not_found(mcp, text_of):
    result = await mcp.call("list_milestones", project="bob/secret")
    assert result.is_error and "Milestones of bob/secret not found" in text_of(result)


async def test_get_milestone(mcp, text_of):
    result = await mcp.call("get_milestone", project="acme/app", milestone_id=202)
    assert not result.is_error
    assert result.structured_content["title"] == "v1.1"
    assert result.structured_content["web_url"] == "http://gitlab.sim/acme/app/-/milestones/2"
    elsewhere = await mcp.call("get_milestone", project="acme/app", milestone_id=203)  # acme/website's
    assert elsewhere.is_error
    assert "Milestone 203 in acme/app not found or you have no access: 404 Milestone Not Found" in text_of(elsewhere)


async def test_create_milestone(mcp):
    result = await mcp.call(
        "create_milestone", project="acme/app", title="v2.0", start_date="2030-01-01", due_date="2030-03-31"
    )
    assert not result.is_error
    milestone = result.structured_content
    assert milestone["iid"] == 3 and milestone["state"] == "active" and milestone["expired"] is False
    assert (milestone["start_date"], milestone["due_date"]) == ("2030-01-01", "2030-03-31")
    titles = [m["title"] for m in (await mcp.call("list_milestones", project="acme/app")).structured_content["items"]]
    assert titles == ["v1.1", "v2.0"]


async def test_create_milestone_errors(mcp, mcp_as, text_of):
    taken = await mcp.call("create_milestone", project="acme/app", title="v1.0")
    assert taken.is_error and "already being used for another group or project milestone" in text_of(taken)
    dates = await mcp.call(
        "create_milestone", project="acme/app", title="v3", start_date="2030-05-01", due_date="2030-04-01"
    )
    assert dates.is_error and "must be greater than start date" in text_of(dates)
    guest = await mcp_as("charlie").call("create_milestone", project="acme/website", title="Mine")
    assert guest.is_error and "You do not have permission" in text_of(guest)


async def test_update_milestone_closes_and_reopens(mcp):
    closed = await mcp.call("update_milestone", project="acme/app", milestone_id=202, state_event="close")
    assert not closed.is_error and closed.structured_content["state"] == "closed"
    issue = (await mcp.call("get_issue", project="acme/app", iid=11)).structured_content
    assert issue["milestone"] == {"id": 202, "title": "v1.1"}
    renamed = await mcp.call(
        "update_milestone", project="acme/app", milestone_id=202, state_event="activate", title="v1.1.0"
    )
    assert renamed.structured_content["state"] == "active" and renamed.structured_content["title"] == "v1.1.0"


async def test_update_milestone_errors(mcp, text_of):
    nothing = await mcp.call("update_milestone", project="acme/app", milestone_id=202)
    assert nothing.is_error and "at least one parameter must be provided" in text_of(nothing)
    missing = await mcp.call("update_milestone", project="acme/app", milestone_id=999, title="x")
    assert missing.is_error and "Milestone 999 in acme/app not found" in text_of(missing)


async def test_list_milestone_issues(mcp, mcp_as, text_of):
    result = await mcp.call("list_milestone_issues", project="acme/app", milestone_id=201, per_page=4)
    assert not result.is_error
    assert [i["iid"] for i in result.structured_content["items"]] == [10, 9, 8, 7]
    assert result.structured_content["total"] == 10
    assert result.structured_content["items"][0]["state"] == "closed"
    hidden = await mcp_as("charlie").call("list_milestone_issues", project="acme/app", milestone_id=201)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)


async def test_list_milestone_merge_requests(mcp, text_of):
    result = await mcp.call("list_milestone_merge_requests", project="acme/app", milestone_id=201)
    assert not result.is_error
    [mr] = result.structured_content["items"]
    assert mr["iid"] == 1 and mr["title"] == "Add a login page" and mr["author"] == "bob"
    assert (await mcp.call("list_milestone_merge_requests", project="acme/app", milestone_id=202)).structured_content[
        "items"
    ] == []
    missing = await mcp.call("list_milestone_merge_requests", project="acme/app", milestone_id=999)
    assert missing.is_error and "404 Milestone Not Found" in text_of(missing)


async def test_list_group_milestones(mcp, mcp_as, text_of):
    result = await mcp.call("list_group_milestones", group="acme")
    assert not result.is_error
    [milestone] = result.structured_content["items"]
    assert milestone["id"] == 301 and milestone["title"] == "Q3 planning" and milestone["due_date"] == "2030-09-30"
    assert (await mcp.call("list_group_milestones", group="10", state="closed")).structured_content["items"] == []
    hidden = await mcp.call("list_group_milestones", group="labs")
    assert hidden.is_error and "Milestones of group labs not found or you have no access" in text_of(hidden)
