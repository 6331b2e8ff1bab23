"""The audit rows of GraphQL calls through a real server: they name the operation, and a work item
call its namespace. The GraphQL tools themselves: tests/test_tools_graphql.py."""

from __future__ import annotations

import json

from tests.harness import server_rows

ME = "query Me { currentUser { username name } }"
RENAME = (
    "mutation WorkItemUpdate($input: WorkItemUpdateInput!) "
    "{ workItemUpdate(input: $input) { workItem { title } errors } }"
)


async def test_the_audit_row_names_the_operation(server, mcp):
    await mcp.call("graphql_query", query=ME)
    await mcp.call("graphql_query", query=RENAME)
    sql = "SELECT tool, outcome, detail FROM oauth_gateway_auditevent WHERE tool = 'graphql_query' ORDER BY id"
    (tool, outcome, detail), (_, refused, why) = server_rows(server.env["DATABASE_URL"], sql)[-2:]
    detail, why = (json.loads(d) if isinstance(d, str) else d for d in (detail, why))  # SQLite text, PG jsonb
    assert (tool, outcome, detail) == ("graphql_query", "ok", {"graphql": "query Me"})
    assert refused == "denied" and why["graphql"] == "mutation WorkItemUpdate"
    assert why["refused"] == "mutation from a read tool"


async def test_a_work_item_call_is_audited_with_its_namespace_and_operation(server, mcp):
    await mcp.call("get_work_item", namespace="acme", iid=1)
    sql = "SELECT project, detail FROM oauth_gateway_auditevent WHERE tool = 'get_work_item' ORDER BY id"
    project, detail = server_rows(server.env["DATABASE_URL"], sql)[-1]
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert (project, detail) == ("acme", {"graphql": "query WorkItem"})
