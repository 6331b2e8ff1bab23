"""Work items (issues, tasks, epics, objectives, key results…) through GitLab's GraphQL API, where
they live (doc/api/graphql/reference, doc/user/work_items). The documents are in mcp_bridge/queries/;
arguments travel as GraphQL variables only, never spliced into a document.

A work item is named by its namespace (a project's or a group's full path) and iid; mutations need its
global id ("gid://gitlab/WorkItem/123"), which these tools look up.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from mcp_bridge.errors import GitLabNotFound
from mcp_bridge.gitlab import gitlab
from mcp_bridge.graphql import document, payload
from mcp_bridge.params import Body, Comment, Internal, NewBody, NewTitle, Search
from mcp_bridge.registry import READ, WRITE, tool

GRAPHQL = ("POST /graphql",)

Namespace = Annotated[
    str, Field(description="Full path of the project or group, e.g. 'group/project' or 'group'.", min_length=1)
]
WorkItemIid = Annotated[int, Field(description="The work item's number in its namespace (#12 or &12).", ge=1)]
Type = Literal["ISSUE", "TASK", "EPIC", "OBJECTIVE", "KEY_RESULT", "INCIDENT", "REQUIREMENT", "TEST_CASE", "TICKET"]
First = Annotated[int, Field(description="Items per page (1-100).", ge=1, le=100)]
After = Annotated[str | None, Field(description="next_cursor of the previous page.")]


def _flat(node: dict[str, Any]) -> dict[str, Any]:
    """A work item with its widgets flattened into plain fields."""
    item = {k: v for k, v in node.items() if k not in ("widgets", "workItemType", "author")}
    item["type"] = (node.get("workItemType") or {}).get("name")
    item["author"] = (node.get("author") or {}).get("username")
    for widget in node.get("widgets") or []:
        kind = widget.get("type")
        if kind == "DESCRIPTION":
            item["description"] = widget.get("description")
        elif kind == "ASSIGNEES":
            item["assignees"] = [u["username"] for u in _nodes(widget.get("assignees"))]
        elif kind == "LABELS":
            item["labels"] = [label["title"] for label in _nodes(widget.get("labels"))]
        elif kind == "START_AND_DUE_DATE":
            item |= {"start_date": widget.get("startDate"), "due_date": widget.get("dueDate")}
        elif kind == "HIERARCHY":
            item["parent"] = widget.get("parent")
            item["children"] = [_brief(c) for c in _nodes(widget.get("children"))]
        elif kind == "LINKED_ITEMS":
            links = _nodes(widget.get("linkedItems"))
            item["linked_items"] = [{"link_type": n.get("linkType"), **(n.get("workItem") or {})} for n in links]
    return item


def _nodes(connection: Any) -> list[dict[str, Any]]:
    return list((connection or {}).get("nodes") or [])


def _brief(node: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k != "workItemType"}
    out["type"] = (node.get("workItemType") or {}).get("name")
    return out


def _what(namespace: str, iid: int) -> str:
    return f"Work item #{iid} in {namespace}"


async def _get(namespace: str, iid: int, query: str = "work_item") -> dict[str, Any]:
    data = await gitlab().graphql(
        document(query), what=_what(namespace, iid), variables={"fullPath": namespace, "iid": str(iid)}
    )
    found = (data.get("namespace") or {}).get("workItem")
    if not found:
        # GraphQL answers null, not an error, for what does not exist or is hidden from you.
        raise GitLabNotFound(f"{_what(namespace, iid)} not found or you have no access.", 404)
    return dict(found)


@tool(READ, "work_items", routes=GRAPHQL)
async def get_work_item(namespace: Namespace, iid: WorkItemIid) -> dict[str, Any]:
    """Get one work item (issue, task, epic, objective…) of a project or group: type, title, state,
    description, people, labels, dates, parent and children, and linked items (with their ids)."""
    return _flat(await _get(namespace, iid))


@tool(READ, "work_items", routes=GRAPHQL)
async def list_work_items(
    namespace: Namespace,
    types: Annotated[list[Type] | None, Field(description="Only these types, e.g. ['EPIC'].")] = None,
    state: Literal["opened", "closed", "all"] = "opened",
    search: Search = None,
    first: First = 20,
    after: After = None,
) -> dict[str, Any]:
    """List the work items of a project or group (open ones by default), filtered by type and text.
    Returns iid, id, type, title, state, people and labels; pass next_cursor as `after` for more."""
    variables = {"fullPath": namespace, "types": types, "search": search, "first": first, "after": after}
    variables["state"] = None if state == "all" else state
    data = await gitlab().graphql(document("work_items"), what=f"Work items of {namespace}", variables=variables)
    if data.get("namespace") is None:
        raise GitLabNotFound(f"Namespace {namespace} not found or you have no access.", 404)
    found = data["namespace"].get("workItems") or {}
    page = found.get("pageInfo") or {}
    next_cursor = page.get("endCursor") if page.get("hasNextPage") else None
    return {"items": [_flat(n) for n in _nodes(found)], "next_cursor": next_cursor}


@tool(WRITE, "work_items", routes=GRAPHQL)
async def create_work_item(
    namespace: Namespace,
    type: Type,
    title: Annotated[str, Field(description="Title.", min_length=1, max_length=255)],
    description: Body = None,
    confidential: Annotated[bool, Field(description="Visible only to reporters and up.")] = False,
    parent_id: Annotated[
        str | None, Field(description="Global id of the parent work item (an epic, an issue).")
    ] = None,
) -> dict[str, Any]:
    """Create a work item (an issue, task, epic, objective…) in a project or group, optionally under a
    parent. Returns the new work item with its iid and id."""
    types = await gitlab().graphql(
        document("work_item_types"),
        what=f"Work item types of {namespace}",
        variables={"fullPath": namespace, "name": type},
    )
    found = _nodes((types.get("namespace") or {}).get("workItemTypes"))
    if not found:
        raise GitLabNotFound(f"Namespace {namespace} not found, or it has no {type} work items.", 404)
    new: dict[str, Any] = {"namespacePath": namespace, "title": title, "workItemTypeId": found[0]["id"]}
    new["confidential"] = confidential or None
    new["descriptionWidget"] = {"description": description} if description is not None else None
    new["hierarchyWidget"] = {"parentId": parent_id} if parent_id else None
    what = f"a new {type} in {namespace}"
    data = await gitlab().graphql(document("work_item_create"), what=what, variables={"input": _drop_none(new)})
    return _flat(payload(data, "workItemCreate", what=what).get("workItem") or {})


@tool(WRITE, "work_items", routes=GRAPHQL)
async def update_work_item(
    namespace: Namespace,
    iid: WorkItemIid,
    title: NewTitle = None,
    description: NewBody = None,
    state_event: Literal["close", "reopen"] | None = None,
    confidential: Annotated[bool | None, Field(description="Visible only to reporters and up.")] = None,
    parent_id: Annotated[str | None, Field(description="Global id of a new parent; '' removes the parent.")] = None,
) -> dict[str, Any]:
    """Change a work item: title, description, close/reopen, confidentiality, parent. Only the given
    fields change. Returns the updated work item."""
    change: dict[str, Any] = {"id": (await _get(namespace, iid, "work_item_id"))["id"], "title": title}
    change |= {"stateEvent": state_event.upper() if state_event else None, "confidential": confidential}
    change["descriptionWidget"] = {"description": description} if description is not None else None
    if parent_id is not None:
        change["hierarchyWidget"] = {"parentId": parent_id or None}  # null removes the parent
    what = _what(namespace, iid)
    data = await gitlab().graphql(document("work_item_update"), what=what, variables={"input": _drop_none(change)})
    return _flat(payload(data, "workItemUpdate", what=what).get("workItem") or {})


@tool(READ, "work_items", routes=GRAPHQL)
async def list_work_item_notes(
    namespace: Namespace, iid: WorkItemIid, first: First = 20, after: After = None
) -> dict[str, Any]:
    """List a work item's comment threads, oldest first (system notes left out): each thread's id and
    notes. Reply in one with create_work_item_note. Pass next_cursor as `after` for more."""
    variables = {"fullPath": namespace, "iid": str(iid), "first": first, "after": after}
    data = await gitlab().graphql(document("work_item_notes"), what=_what(namespace, iid), variables=variables)
    item = (data.get("namespace") or {}).get("workItem")
    if not item:
        raise GitLabNotFound(f"{_what(namespace, iid)} not found or you have no access.", 404)
    widget: dict[str, Any] = next((w for w in item.get("widgets") or [] if w.get("type") == "NOTES"), {})
    discussions = widget.get("discussions") or {}
    threads = []
    for thread in _nodes(discussions):
        notes = [{**n, "author": (n.get("author") or {}).get("username")} for n in _nodes(thread.get("notes"))]
        threads.append({"id": thread["id"], "notes": notes})
    page = discussions.get("pageInfo") or {}
    return {"items": threads, "next_cursor": page.get("endCursor") if page.get("hasNextPage") else None}


@tool(WRITE, "work_items", routes=GRAPHQL)
async def create_work_item_note(
    namespace: Namespace,
    iid: WorkItemIid,
    body: Comment,
    discussion_id: Annotated[str | None, Field(description="Thread to reply in (from list_work_item_notes).")] = None,
    internal: Internal = False,
) -> dict[str, Any]:
    """Comment on a work item, or reply in one of its threads. Returns the note and its thread's id."""
    note = {"noteableId": (await _get(namespace, iid, "work_item_id"))["id"], "body": body}
    note |= {"discussionId": discussion_id, "internal": internal or None}
    what = _what(namespace, iid)
    data = await gitlab().graphql(document("create_note"), what=what, variables={"input": _drop_none(note)})
    created = payload(data, "createNote", what=what).get("note") or {}
    shown = {k: v for k, v in created.items() if k not in ("author", "discussion")}
    return {
        **shown,
        "author": (created.get("author") or {}).get("username"),
        "discussion_id": (created.get("discussion") or {}).get("id"),
    }


@tool(WRITE, "work_items", routes=GRAPHQL)
async def link_work_items(
    namespace: Namespace,
    iid: WorkItemIid,
    targets: Annotated[
        list[str], Field(description="Global ids of the items to link (1-10).", min_length=1, max_length=10)
    ],
    link_type: Literal["RELATED", "BLOCKS", "BLOCKED_BY"] = "RELATED",
) -> dict[str, Any]:
    """Link a work item to others: it relates to, blocks, or is blocked by them. Returns the work item
    with its linked items."""
    variables = {
        "input": {
            "id": (await _get(namespace, iid, "work_item_id"))["id"],
            "workItemsIds": targets,
            "linkType": link_type,
        }
    }
    what = _what(namespace, iid)
    data = await gitlab().graphql(document("work_item_add_linked_items"), what=what, variables=variables)
    return _flat(payload(data, "workItemAddLinkedItems", what=what).get("workItem") or {})


@tool(WRITE, "work_items", routes=GRAPHQL)
async def unlink_work_items(
    namespace: Namespace,
    iid: WorkItemIid,
    targets: Annotated[
        list[str], Field(description="Global ids of the linked items to unlink (1-10).", min_length=1, max_length=10)
    ],
) -> dict[str, Any]:
    """Remove links between a work item and others (the items stay). Returns the work item."""
    variables = {"input": {"id": (await _get(namespace, iid, "work_item_id"))["id"], "workItemsIds": targets}}
    what = _what(namespace, iid)
    data = await gitlab().graphql(document("work_item_remove_linked_items"), what=what, variables=variables)
    return _flat(payload(data, "workItemRemoveLinkedItems", what=what).get("workItem") or {})


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
