"""Raw GraphQL (graphql_query, graphql_mutate) and how GraphQL requests pass read-only mode: a query is a
read, a mutation a write, whatever the HTTP method (always POST). Through the MCP SDK client; the
parser and the scope check also on their own. The audit rows of GraphQL calls:
tests/e2e/test_tools_graphql_audit.py."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_bridge.context import ToolScope, compile_routes
from mcp_bridge.errors import RouteNotAllowed
from mcp_bridge.graphql import BadDocument, Operation, operation

ME = "query Me { currentUser { username name } }"
RENAME = (
    "mutation WorkItemUpdate($input: WorkItemUpdateInput!) "
    "{ workItemUpdate(input: $input) { workItem { title } errors } }"
)


def graphql_sent(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["path"] == "/api/graphql"]


async def test_a_query_returns_data(mcp, sim):
    result = await mcp.call("graphql_query", query=ME)
    assert not result.is_error, result
    assert result.structured_content == {"data": {"currentUser": {"username": "alice", "name": "Alice Liddell"}}}
    assert len(graphql_sent(sim)) == 1


async def test_variables_travel_as_variables(mcp):
    query = (
        "query WorkItemId($fullPath: ID!, $iid: String!) "
        "{ namespace(fullPath: $fullPath) { workItem(iid: $iid) { id } } }"
    )
    result = await mcp.call("graphql_query", query=query, variables={"fullPath": "acme/app", "iid": "1"})
    assert result.structured_content["data"]["namespace"]["workItem"]["id"].startswith("gid://gitlab/WorkItem/")
    missing = await mcp.call("graphql_query", query=query, variables={"fullPath": "acme/app"})
    assert missing.is_error


async def test_graphql_errors_with_http_200_become_readable_tool_errors(mcp, text_of):
    result = await mcp.call("graphql_query", query="query { nope }")
    assert result.is_error
    assert text_of(result).endswith(
        "GitLab's GraphQL API refused the GraphQL query: Field 'nope' doesn't exist on type 'Query'"
    )


async def test_a_mutation_is_refused_by_the_read_only_tool_before_anything_is_sent(mcp, sim, text_of):
    for document, name in (
        (RENAME, None),
        ("# query\nmutation Sneaky { workItemUpdate(input: {}) { errors } }", None),
        (f"{ME}\n{RENAME}", "WorkItemUpdate"),
    ):
        result = await mcp.call("graphql_query", query=document, operation_name=name)
        assert result.is_error and "graphql_query may not send the GraphQL mutation" in text_of(result)
        assert "it is a read-only tool" in text_of(result)
    assert graphql_sent(sim) == []


async def test_a_bad_document_is_refused_before_anything_is_sent(mcp, sim, text_of):
    several = await mcp.call("graphql_query", query=f"{ME}\nquery Other {{ currentUser {{ id }} }}")
    assert several.is_error and "has 2 operations; pass operation_name" in text_of(several)
    broken = await mcp.call("graphql_query", query="query { currentUser { id }")
    assert broken.is_error and "not valid GraphQL" in text_of(broken)
    assert graphql_sent(sim) == []


async def test_a_keyword_inside_a_comment_or_string_is_not_an_operation(mcp):
    result = await mcp.call("graphql_query", query="# mutation below? no\nquery Me { currentUser { username } }")
    assert result.structured_content == {"data": {"currentUser": {"username": "alice"}}}


async def test_graphql_mutate_sends_a_mutation(mcp):
    item = (await mcp.call("get_work_item", namespace="acme/app", iid=2)).structured_content
    variables = {"input": {"id": item["id"], "title": "Dark mode, at last"}}
    result = await mcp.call("graphql_mutate", query=RENAME, variables=variables)
    assert result.structured_content["data"]["workItemUpdate"]["workItem"]["title"] == "Dark mode, at last"


async def test_a_read_api_token_may_query_but_gitlab_refuses_its_mutations(mcp_as, text_of):
    reader = mcp_as("alice_read")
    assert (await reader.call("graphql_query", query=ME)).structured_content["data"]["currentUser"][
        "username"
    ] == "alice"
    refused = await reader.call("graphql_mutate", query=RENAME, variables={"input": {"id": "gid://gitlab/WorkItem/1"}})
    assert refused.is_error and "you don't have permission to perform this action" in text_of(refused)


async def test_read_only_mode_serves_queries_and_refuses_mutations(mcp_with, sim, text_of):
    server = mcp_with(GITLAB_READ_ONLY_MODE=True, GITLAB_TOOLSETS=["graphql"])
    async with server.connect() as client:
        assert {t.name for t in (await client.list_tools()).tools} == {"graphql_query"}
        query = await client.call_tool("graphql_query", {"query": ME})
        mutation = await client.call_tool("graphql_query", {"query": RENAME})
    assert not query.is_error
    assert mutation.is_error and "this server or connection is read-only" in text_of(mutation)
    assert len(graphql_sent(sim)) == 1


async def test_the_graphql_tools_are_off_by_default_and_annotated(mcp):
    from mcp_bridge.toolsets import DEFAULT_TOOLS

    assert not {"graphql_query", "graphql_mutate"} & DEFAULT_TOOLS
    tools = {t.name: t for t in await mcp.list_tools()}
    assert tools["graphql_query"].annotations.read_only_hint is True
    assert tools["graphql_mutate"].annotations.destructive_hint is True


# --- the parser and the scope check on their own ---------------------------------------------------
@pytest.mark.parametrize(
    ("document", "name", "expected"),
    [
        ("{ a }", None, Operation("query", None)),
        ("query Q($a: [Int] = [1]) @x { a }", None, Operation("query", "Q")),
        ('query { a(s: "mutation { x }") }', None, Operation("query", None)),
        ('query { a(s: """mutation { x }""") }', None, Operation("query", None)),
        ("mutation M { a } query Q { b }", "M", Operation("mutation", "M")),
        ("fragment F on X { a } query { ...F }", None, Operation("query", None)),
    ],
)
def test_the_operation_type_is_parsed_not_searched_for(document, name, expected):
    assert operation(document, name) == expected


@pytest.mark.parametrize(
    "document", ["", "query { a", "foo { a }", "subscription { a }", "mutation A { a } query B { b }", "query { a } }"]
)
def test_a_document_that_cannot_be_run_is_refused(document):
    with pytest.raises(BadDocument):
        operation(document)


def test_the_scope_lets_queries_through_and_mutations_only_from_writable_write_tools():
    routes = compile_routes(["POST /graphql"])
    query, mutation = Operation("query", "Q"), Operation("mutation", "M")
    for writes in (True, False):
        ToolScope("t", routes, writes=writes, read_only=True).check("POST", "/graphql", query)
    ToolScope("t", routes, writes=True, read_only=False).check("POST", "/graphql", mutation)
    for writes, read_only in ((True, True), (False, True), (False, False)):
        with pytest.raises(RouteNotAllowed):
            ToolScope("t", routes, writes=writes, read_only=read_only).check("POST", "/graphql", mutation)
    with pytest.raises(RouteNotAllowed):  # the route allowlist still applies
        ToolScope("t", compile_routes(["GET /user"]), writes=False, read_only=False).check("POST", "/graphql", query)
