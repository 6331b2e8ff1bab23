"""Parameter lists several tools share (mcp_bridge/params.py's shared_parameters): each tool shows its
own parameters, then the shared ones, in the template's order, and receives them as keywords."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from mcp_bridge.params import Page, shared_parameters

SHARING = [
    (("list_my_events", "list_user_events", "list_project_events"), ("action", "target_type", "after", "before")),
    (("create_snippet", "create_project_snippet"), ("title", "visibility", "file_name", "content", "files")),
    (("create_project_webhook", "update_group_webhook"), ("name", "description", "push_events_branch_filter")),
    (("get_commit_diff", "get_merge_request_changes"), ("paths", "exclude_paths", "start_line", "page", "per_page")),
    (("list_issue_notes", "list_merge_request_notes"), ("sort", "page", "per_page")),
    (
        ("get_file", "get_job_artifact_file", "read_upload", "get_wiki_page", "get_snippet"),
        ("start_line", "line_count"),
    ),
]


@pytest.mark.parametrize(("names", "shared"), SHARING)
async def test_tools_that_share_a_list_show_it_alike_after_their_own(
    mcp, names: tuple[str, ...], shared: tuple[str, ...]
) -> None:
    tools = {tool.name: tool for tool in await mcp.list_tools()}
    schemas = [tools[name].input_schema["properties"] for name in names]
    for properties in schemas:
        names_in_order = list(properties)
        start = names_in_order.index(shared[0])
        assert names_in_order[start : start + len(shared)] == list(shared)
        assert properties[shared[0]] == schemas[0][shared[0]]


def test_a_tool_gets_the_parameters_after_the_named_one_and_receives_them_as_keywords() -> None:
    def template(path: str, what: str, page: Page = 1, per_page: int = 20) -> None: ...

    @shared_parameters(template, after="what")
    def listed_by(owner: str, **paging: Any) -> dict[str, Any]:
        return {"owner": owner, **paging}

    assert list(inspect.signature(listed_by).parameters) == ["owner", "page", "per_page"]
    assert inspect.signature(listed_by).parameters["page"].default == 1
    assert listed_by("acme", page=2, per_page=5) == {"owner": "acme", "page": 2, "per_page": 5}


async def test_shared_arguments_reach_gitlab(mcp, sim) -> None:
    result = await mcp.call("list_issue_notes", project="acme/app", iid=1, sort="desc", per_page=5)
    assert not result.is_error
    query = sim.requests()[-1]["query"]
    assert "sort=desc" in query and "per_page=5" in query
