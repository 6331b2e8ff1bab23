"""Raw GraphQL for what no typed tool covers (doc/api/graphql/_index.md): off by default, in its own
toolset. graphql_query is read-only, so it sends queries only; graphql_mutate sends mutations and is
hidden in read-only mode, where context.ToolScope refuses any mutation besides. The audit row of either
names the operation.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.registry import DESTRUCTIVE, READ, tool

MAX_RESULT_CHARS = 40_000  # about 10k tokens

Document = Annotated[str, Field(description="The GraphQL document; pass values as variables ($name).", min_length=1)]
Variables = Annotated[dict[str, Any] | None, Field(description="Values of the document's $variables.")]
OperationName = Annotated[str | None, Field(description="Which operation to run, if the document has several.")]


def _capped(data: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(text) <= MAX_RESULT_CHARS:
        return {"data": data}
    return {
        "data_text": text[:MAX_RESULT_CHARS],
        "truncated": True,
        "hint": f"The result is {len(text):,} characters; ask for fewer fields or a smaller `first`.",
    }


@tool(READ, "graphql", routes=("POST /graphql",))
async def graphql_query(
    query: Document, variables: Variables = None, operation_name: OperationName = None
) -> dict[str, Any]:
    """Run a read-only GraphQL query against GitLab's GraphQL API, for what no other tool covers
    (doc/api/graphql/reference). Mutations are refused. Returns `data`."""
    return _capped(
        await gitlab().graphql(query, what="the GraphQL query", variables=variables, operation_name=operation_name)
    )


@tool(DESTRUCTIVE, "graphql", routes=("POST /graphql",))
async def graphql_mutate(
    query: Document, variables: Variables = None, operation_name: OperationName = None
) -> dict[str, Any]:
    """Run a GraphQL mutation (or query) against GitLab's GraphQL API, for changes no other tool makes.
    Returns `data`; check each payload's `errors`."""
    return _capped(
        await gitlab().graphql(query, what="the GraphQL mutation", variables=variables, operation_name=operation_name)
    )
