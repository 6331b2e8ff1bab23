"""Project and group twins (mcp_bridge/tools/parents.py): one implementation, two tools, each with its
own name, description, first argument and routes."""

from __future__ import annotations

import pytest

from mcp_bridge.registry import REGISTRY
from mcp_bridge.tools.parents import Parent

TWINS = [
    ("list_project_variables", "list_group_variables"),
    ("create_project_variable", "create_group_variable"),
    ("update_project_webhook", "update_group_webhook"),
    ("list_wiki_pages", "list_group_wiki_pages"),
    ("list_labels", "list_group_labels"),
    ("list_milestones", "list_group_milestones"),
]


@pytest.mark.parametrize(("project_tool", "group_tool"), TWINS)
def test_each_twin_names_its_parent_and_may_send_only_to_it(project_tool: str, group_tool: str) -> None:
    project, group = REGISTRY[project_tool], REGISTRY[group_tool]
    assert [t.replace("/projects/", "/groups/", 1) for t in project.routes.templates] == list(group.routes.templates)
    method, path = project.routes.templates[0].split(" ")
    assert project.routes.allows(method, path.replace(":id", "acme%2Fapp"))
    assert not group.routes.allows(method, path.replace(":id", "acme%2Fapp"))
    assert project.fn.__doc__ != group.fn.__doc__


def test_parent_paths_and_names() -> None:
    assert Parent.project("acme/app") == Parent("project", "/projects/acme%2Fapp", "acme/app")
    assert Parent.group("acme") == Parent("group", "/groups/acme", "group acme")


async def test_a_group_twin_sends_to_the_group_and_takes_the_group_event_kinds(mcp, sim) -> None:
    tools = {tool.name: tool for tool in await mcp.list_tools()}
    project_events = tools["create_project_webhook"].input_schema["properties"]["events"]["items"]["enum"]
    group_events = tools["create_group_webhook"].input_schema["properties"]["events"]["items"]["enum"]
    assert "subgroup" in group_events and "subgroup" not in project_events
    assert next(iter(tools["list_group_variables"].input_schema["properties"])) == "group"
    assert next(iter(tools["list_project_variables"].input_schema["properties"])) == "project"

    result = await mcp.call("list_group_labels", group="acme")
    assert not result.is_error
    assert [r["path"] for r in sim.requests()][-1].startswith("/api/v4/groups/acme/labels")
