"""Simulated GitLab GraphQL endpoint, POST /api/graphql (doc/api/graphql/_index.md).

graphql-core is not installed, so this is no GraphQL executor: it reads the document just enough to know
the operation's type, name and root fields (strings and comments removed first, braces counted), then
answers the operations the server's documents send (mcp_bridge/queries/, matched by operation name)
with the shapes of doc/api/graphql/reference, and `currentUser` for any other query. Like GitLab, it
answers HTTP 200 with `errors[]` for a bad document, a missing variable or a forbidden mutation, and a
token without the `api` scope may query but not mutate (doc/integration/oauth_provider.md: read_api).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas import work_items
from tests.gitlab_sim.http import Call, Router
from tests.gitlab_sim.world import World

NO_ACCESS = (
    "The resource that you are attempting to access does not exist or you don't have permission to perform this action"
)
STRIP = re.compile(r'"""(?:\\"""|[^"]|"(?!""))*"""|"(?:\\.|[^"\\\n])*"|#[^\n]*')
Resolver = Callable[[Call, dict[str, Any]], dict[str, Any]]

# Operation name → (type, the variables it declares as required, resolver).
OPERATIONS: dict[str, tuple[str, tuple[str, ...], Resolver]] = {
    "WorkItem": ("query", ("fullPath", "iid"), work_items.work_item),
    "WorkItemId": ("query", ("fullPath", "iid"), work_items.work_item_id),
    "WorkItems": ("query", ("fullPath", "first"), work_items.list_work_items),
    "WorkItemTypes": ("query", ("fullPath", "name"), work_items.work_item_types),
    "WorkItemNotes": ("query", ("fullPath", "iid", "first"), work_items.notes),
    "WorkItemCreate": ("mutation", ("input",), work_items.create),
    "WorkItemUpdate": ("mutation", ("input",), work_items.update),
    "CreateNote": ("mutation", ("input",), work_items.create_note),
    "WorkItemAddLinkedItems": ("mutation", ("input",), work_items.add_links),
    "WorkItemRemoveLinkedItems": ("mutation", ("input",), work_items.remove_links),
}


def register(router: Router) -> None:
    router.route("POST", "/graphql", prefix="/api")(graphql)


def seed(world: World) -> None:
    work_items.seed(world)


def errors(*messages: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"errors": [{"message": m, **extra} for m in messages]})


def definitions(text: str) -> list[tuple[str, str | None, str]] | str:
    """(type, name, body) of each top-level definition, or a parse error as GitLab words it."""
    text = STRIP.sub('""', text)
    found, depth, start, head = [], 0, 0, ""
    for at, char in enumerate(text):
        if char == "{":
            if depth == 0:
                head, start = text[start:at].strip(), at
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return 'Parse error on "}" (RCURLY)'
            if depth == 0:
                words = re.findall(r"[_A-Za-z]\w*", head.split("(")[0])
                kind = words[0] if words else "query"
                name = words[1] if len(words) > 1 and kind in ("query", "mutation", "subscription") else None
                found.append((kind, name, text[start + 1 : at]))
                start = at + 1
    if depth:
        return "Unexpected end of document"
    if not found:
        return "Unexpected end of document"
    return found


def root_fields(body: str) -> list[str]:
    """The selection set's top-level field names (nested braces and arguments skipped)."""
    flat, depth = [], 0
    for char in body:
        depth += {"{": 1, "(": 1, "}": -1, ")": -1}.get(char, 0)
        flat.append(char if depth == 0 or char in "{(" else " ")
    return re.findall(r"(?:^|[\s,])([_A-Za-z]\w*)(?=\s*(?:\(|\{|$|[\s,]))", "".join(flat))


async def graphql(call: Call) -> Response:
    if call.user_id is None:
        return JSONResponse({"message": "401 Unauthorized"}, status_code=401)
    try:
        document, variables = str(call.body.get("query") or ""), call.body.get("variables") or {}
    except (AttributeError, json.JSONDecodeError):
        return JSONResponse({"message": "400 Bad request"}, status_code=400)
    if not document.strip():
        return errors("No query string was present")
    parsed = definitions(document)
    if isinstance(parsed, str):
        return errors(parsed, locations=[{"line": 1, "column": 1}])
    wanted = call.body.get("operationName")
    operations = [d for d in parsed if d[0] != "fragment"]
    chosen = [d for d in operations if d[1] == wanted] if wanted else operations
    if len(chosen) != 1:
        return errors(f'No operation named "{wanted}"' if wanted else "An operation name is required")
    kind, name, body = chosen[0]
    if kind == "mutation" and "api" not in call.scopes:
        return errors(NO_ACCESS)  # a read_api token may query, not mutate
    known = OPERATIONS.get(name or "")
    if known is None or known[0] != kind:
        return other_query(call, kind, body)
    for variable in known[1]:
        if variables.get(variable) is None:
            return errors(
                f"Variable ${variable} of type was provided invalid value",
                extensions={"value": None, "problems": [{"path": [], "explanation": "Expected value to not be null"}]},
            )
    result = known[2](call, variables)
    if "errors" in result:
        return JSONResponse(result)
    return JSONResponse({"data": result})


def other_query(call: Call, kind: str, body: str) -> Response:
    """A document the server's typed tools do not send (graphql_query): `currentUser` is answered."""
    fields = root_fields(body)
    parent = "Mutation" if kind == "mutation" else "Query"
    for field in fields:
        if field != "currentUser" or kind != "query":
            return errors(f"Field '{field}' doesn't exist on type '{parent}'")
    user = call.world.users[call.user_id or 0]
    known = {"id": f"gid://gitlab/User/{user['id']}", "username": user["username"], "name": user["name"]}
    known |= {"state": user["state"], "webUrl": user["web_url"], "avatarUrl": user["avatar_url"]}
    inner = re.search(r"currentUser\s*\{([^{}]*)\}", body)
    asked = re.findall(r"[_A-Za-z]\w*", inner.group(1)) if inner else []
    unknown = [f for f in asked if f not in known]
    if unknown or not asked:
        return errors(
            f"Field '{unknown[0]}' doesn't exist on type 'CurrentUser'" if unknown else "Field must have selections"
        )
    return JSONResponse({"data": {"currentUser": {f: known[f] for f in asked}}})
