"""Which tools a server shows: read-only mode, the deny regex, and well-formed tool definitions."""

from __future__ import annotations

import jsonschema
import pytest

from mcp_bridge.registry import REGISTRY
from mcp_bridge.server import chosen_toolsets, enabled_tools
from mcp_bridge.toolsets import DEFAULT_TOOLS, TOOLSETS


async def test_read_only_mode_hides_every_write_tool(mcp_with, sim, text_of):
    client = mcp_with(GITLAB_READ_ONLY_MODE=True)
    tools = await client.list_tools()
    names = {t.name for t in tools}
    assert {"list_issues", "get_project"} <= names
    assert "create_issue" not in names and "create_issue_note" not in names
    assert all(t.annotations.read_only_hint for t in tools)
    result = await client.call("create_issue", project="acme/app", title="nope")
    assert result.is_error
    assert "create_issue" in text_of(result)


async def test_the_deny_regex_hides_matching_tools(mcp_with, sim):
    server = mcp_with(GITLAB_DENIED_TOOLS_REGEX="^(create_|get_job_log$)")
    names = {t.name for t in await server.list_tools()}
    assert not {n for n in names if n.startswith("create_")}
    assert "get_job_log" not in names
    assert "list_pipeline_jobs" in names


async def test_gitlab_toolsets_picks_what_is_served(mcp_with, sim):
    server = mcp_with(GITLAB_TOOLSETS=["pipelines", "users"])
    tools = await server.list_tools()
    assert {REGISTRY[t.name].toolset for t in tools} == {"pipelines", "users"}


async def test_the_default_set_is_served_without_configuration(mcp_with, sim):
    server = mcp_with(GITLAB_TOOLSETS=["default"])  # unset (config.settings' default)
    served = {t.name for t in await server.list_tools()}
    assert served == set(DEFAULT_TOOLS)


def test_toolsets_resolve_default_all_and_names():
    everything = {s.name for s in REGISTRY.values()}
    assert {s.name for s in enabled_tools(read_only=False, denied_regex="", toolsets=["default"])} == DEFAULT_TOOLS
    assert {s.name for s in enabled_tools(read_only=False, denied_regex="", toolsets=["all"])} == everything
    default_and_wiki = {s.name for s in enabled_tools(read_only=False, denied_regex="", toolsets=["default", "wiki"])}
    assert default_and_wiki == DEFAULT_TOOLS | {s.name for s in REGISTRY.values() if s.toolset == "wiki"}
    assert chosen_toolsets(["all"]) == set(TOOLSETS)


def test_the_default_set_names_real_tools():
    assert set(DEFAULT_TOOLS) <= set(REGISTRY)


def test_every_toolset_has_tools():
    assert {spec.toolset for spec in REGISTRY.values()} == set(TOOLSETS)


def test_enabled_tools_filters_by_policy():
    everything = {s.name for s in enabled_tools(read_only=False, denied_regex="")}
    assert everything == set(REGISTRY)
    read_only = {s.name for s in enabled_tools(read_only=True, denied_regex="")}
    assert read_only == {s.name for s in REGISTRY.values() if not s.writes}
    assert enabled_tools(read_only=False, denied_regex=".*") == []


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_tool_is_well_formed(name):
    spec = REGISTRY[name]
    assert spec.fn.__doc__ and len(spec.fn.__doc__.split()) >= 8, "a description written for the model"
    assert spec.annotations.read_only_hint is not None
    assert spec.annotations.destructive_hint is not None
    assert spec.annotations.open_world_hint is True


async def test_every_input_schema_is_strict_json_schema(mcp, sim):
    for tool in await mcp.list_tools():
        schema = tool.input_schema
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert not {"oneOf", "anyOf", "allOf", "not"} & set(schema), f"{tool.name}: top-level combinator"
        for prop, definition in schema.get("properties", {}).items():
            # An enum documents itself; anything else needs words for the model.
            assert definition.get("description") or definition.get("enum"), f"{tool.name}.{prop} undocumented"


def test_the_readme_tool_table_is_current():
    from django.conf import settings

    from mcp_bridge.catalog import readme_with_tools

    readme = (settings.BASE_DIR / "README.md").read_text()
    assert readme_with_tools(readme) == readme, "README tool table is stale: run python manage.py readme_tools"


async def test_a_write_gitlab_refuses_for_scope_says_which_scope_is_missing(mcp_as, text_of):
    result = await mcp_as("alice_read").call("create_issue", project="acme/app", title="needs api")
    assert result.is_error
    assert "lacks the 'api' scope" in text_of(result)


def test_every_tool_is_called_by_some_test():
    from pathlib import Path

    texts = "\n".join(p.read_text() for p in Path(__file__).parent.rglob("test_*.py"))
    untested = [name for name in REGISTRY if f'"{name}"' not in texts]
    assert not untested, f"tools no test calls: {untested}"
