"""Arguments that go into a GitLab URL path stay one segment, end to end: through the MCP SDK client
and the server, against the simulator, whose request log shows what reached "GitLab".

The finding: delete_label(project="alice/notes", label="..") deleted the project alice/notes
(its audit row: tests/e2e/test_tool_path_arguments_audit.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import mcp_bridge.tools  # noqa: F401  (records every tool)
from mcp_bridge.registry import REGISTRY
from tests.conftest import result_text

# Values that let a call get as far as GitLab; the others are derived from the tool's input schema.
VALID = {
    "project": "acme/app",
    "group": "acme",
    "to_project": "acme/website",
    "cron": "0 3 * * *",
    "color": "#123456",
    "url": "https://example.com/hook",
    "duration": "1h",
    "user": "bob",
}
WRITE_TOOLS = sorted(name for name, spec in REGISTRY.items() if spec.writes)
assert len(WRITE_TOOLS) > 100


def taken(log: httpx.Client) -> list[dict[str, Any]]:
    """The requests the simulator received since the last call, and a fresh log."""
    seen: list[dict[str, Any]] = log.get("/_sim/requests").json()
    log.delete("/_sim/requests").raise_for_status()
    return seen


def outside_routes(tool: str, seen: list[dict[str, Any]]) -> list[str]:
    routes = REGISTRY[tool].routes
    # REST paths are declared relative to /api/v4; GraphQL's /api/graphql as "POST /graphql".
    sent = [(r["method"], r["path"].removeprefix("/api/v4").removeprefix("/api")) for r in seen]
    return [f"{method} {path}" for method, path in sent if not routes.allows(method, path)]


def example(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A value the tool's input schema accepts for `name`."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    kind = schema.get("type")
    kind = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
    if kind == "string":
        if name in VALID:
            return VALID[name]
        if r"\d{4}" in schema.get("pattern", ""):
            return "2030-01-02"
        return f"valid-{name}".ljust(schema.get("minLength", 0), "x")
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "array":
        return [example(name, schema["items"], defs)]
    if kind == "object":
        return {k: example(k, v, defs) for k, v in schema["properties"].items() if k in schema.get("required", [])}
    return False


def string_arguments(schema: dict[str, Any]) -> list[str]:
    """The free-text arguments (no enum) of a tool: any of them could be a path argument."""
    props = schema["properties"]
    texts = [k for k, v in props.items() if "string" in str(v.get("type")) and "enum" not in v]
    return sorted(texts)


PATH_ARGUMENTS_FOUND = {  # a sample the marker values must find, or the test below proves nothing
    ("delete_label", "label"),
    ("update_label", "label"),
    ("cherry_pick_commit", "sha"),
    ("reply_to_merge_request_discussion", "discussion_id"),
    ("resolve_merge_request_discussion", "discussion_id"),
    ("move_issue", "to_project"),
    ("delete_branch", "branch"),
    ("unprotect_tag", "name"),
    ("delete_file", "file_path"),
    ("delete_project_variable", "key"),
    ("delete_wiki_page", "slug"),
    ("delete_release", "tag_name"),
}


async def test_every_write_tool_refuses_dot_dot_in_each_path_argument(mcp, sim):
    """For every write tool and each of its text arguments: a marker value shows whether the argument
    goes into the URL path; '..' in a path argument is refused, naming it, before any request; and no
    call sends anything outside the tool's declared routes."""
    found: set[tuple[str, str]] = set()
    log = sim.http  # the simulator's control hooks, over HTTP as before
    async with mcp.connect() as client:
        schemas = {t.name: t.input_schema for t in (await client.list_tools()).tools}
        for tool in WRITE_TOOLS:
            schema = schemas[tool]
            required = {
                k: example(k, schema["properties"][k], schema.get("$defs", {})) for k in schema.get("required", [])
            }
            log.post("/_sim/reset").raise_for_status()
            for argument in string_arguments(schema):
                await client.call_tool(tool, {**required, argument: f"pathprobe{argument}"})
                seen = taken(log)
                assert not outside_routes(tool, seen), f"{tool}({argument}=marker): {outside_routes(tool, seen)}"
                if any(f"pathprobe{argument}" in r["path"] for r in seen):
                    found.add((tool, argument))
                result = await client.call_tool(tool, {**required, argument: ".."})
                seen = taken(log)
                assert not outside_routes(tool, seen), f"{tool}({argument}='..'): {outside_routes(tool, seen)}"
                if (tool, argument) in found:
                    assert f"'{argument}' may not be '..'" in result_text(result), (tool, result_text(result))
                    assert result.is_error and seen == [], f"{tool}({argument}='..') still sent {seen}"
    for tool in WRITE_TOOLS:
        assert {(tool, a) for a in {"project", "group"} & set(schemas[tool].get("required", []))} <= found
    assert found >= PATH_ARGUMENTS_FOUND, PATH_ARGUMENTS_FOUND - found


async def test_get_commit_with_dot_dot_does_not_climb_to_the_project(mcp, sim, text_of):
    result = await mcp.call("get_commit", project="..", sha="..")
    assert result.is_error
    assert "Arguments 'project' and 'sha' may not be '..'" in text_of(result)
    result = await mcp.call("get_commit", project="acme/app", sha="..")
    assert "Argument 'sha' may not be '..'" in text_of(result)
    assert sim.requests() == []


@pytest.mark.parametrize("label", ["%2e%2e", "%2E%2e", ".%2e", "%2e.", "%252e%252E", ".", " .. ", "x/../..", "..\\.."])
async def test_encoded_dot_segments_are_refused(mcp, sim, text_of, label):
    result = await mcp.call("delete_label", project="alice/notes", label=label)
    assert result.is_error
    assert "Argument 'label' may not be" in text_of(result)
    assert sim.requests() == []


@pytest.mark.parametrize("artifact_path", ["a/../../x", "../../../jobs/5104", "reports/%2e%2e/junit.xml", "./x"])
async def test_an_artifact_path_may_not_climb_out_of_the_archive(mcp, sim, text_of, artifact_path):
    result = await mcp.call("get_job_artifact_file", project="acme/app", job_id=5104, artifact_path=artifact_path)
    assert result.is_error
    assert "Argument 'artifact_path' may not be" in text_of(result)
    assert sim.requests() == []


async def test_names_with_dots_work_and_only_dot_segments_are_refused(mcp, sim, text_of):
    assert not (await mcp.call("create_label", project="alice/notes", name="a..b", color="#123456")).is_error
    assert not (await mcp.call("update_label", project="alice/notes", label="a..b", description="ok")).is_error
    assert not (await mcp.call("delete_label", project="alice/notes", label="a..b")).is_error
    assert (await mcp.call("get_tag", project="acme/website", tag_name="v1.0")).structured_content["name"] == "v1.0"
    created = await mcp.call(
        "create_file",
        project="acme/app",
        file_path=".gitlab-ci.yml",
        branch="main",
        content="test:\n  script: pytest\n",
        commit_message="Add CI",
    )
    assert not created.is_error, text_of(created)
    read = await mcp.call("get_file", project="acme/app", file_path=".gitlab-ci.yml")
    assert "script: pytest" in text_of(read)
    report = await mcp.call("get_job_artifact_file", project="acme/app", job_id=5104, artifact_path="reports/junit.xml")
    assert not report.is_error
    sent = [r["path"] for r in sim.requests()]
    assert "/api/v4/projects/alice%2Fnotes/labels/a..b" in sent
    assert "/api/v4/projects/acme%2Fapp/repository/files/.gitlab-ci.yml/raw" in sent
    refused = await mcp.call("get_file", project="acme/app", file_path="../.gitlab-ci.yml")
    assert "Argument 'file_path' may not be" in text_of(refused)
