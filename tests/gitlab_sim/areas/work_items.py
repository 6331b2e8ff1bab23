"""Simulated work items for the GraphQL area (doc/api/graphql/reference: WorkItem, Namespace.workItem(s),
workItemCreate, workItemUpdate, createNote, workItemAddLinkedItems, workItemRemoveLinkedItems).

A project's work items are its rows in world.table("issues") (issue_type "issue", "task"…), as in GitLab, where they
share the issues table: a task created here shows in the REST issue list too. A group's work items (epics) are
world.table("group_work_items"). world.table("work_item_parents") holds {child_id, parent_id}; links are the issues
area's world.table("issue_links"); notes its world.table("notes"). Seed: the public group acme (alice maintainer) has
epic &1 "Q3 launch", parent of acme/app#1.
"""

from __future__ import annotations

import base64
from typing import Any

from tests.gitlab_sim.areas.groups import can_read_group, find_group, group_level
from tests.gitlab_sim.areas.issue_discussions import add_thread_note, as_thread_note, discussion_id
from tests.gitlab_sim.areas.issues import add_issue, add_link, add_note, can_see
from tests.gitlab_sim.http import Call
from tests.gitlab_sim.world import GUEST, REPORTER, SIM_URL, World, now

Row = dict[str, Any]
NO_ACCESS = (
    "The resource that you are attempting to access does not exist or you don't have permission to perform this action"
)
# IssueType enum → (WorkItems::Type id, name); projects hold all but epics, groups epics (Premium).
TYPES = {
    name: (number, name.replace("_", " ").title())
    for number, name in enumerate(
        ("ISSUE", "INCIDENT", "TEST_CASE", "REQUIREMENT", "TASK", "OBJECTIVE", "KEY_RESULT", "EPIC", "TICKET"), 1
    )
}
# WorkItems::HierarchyRestriction: which parent types each child type allows.
PARENTS = {"TASK": {"ISSUE", "INCIDENT"}, "ISSUE": {"EPIC"}, "EPIC": {"EPIC"}, "OBJECTIVE": {"OBJECTIVE"}}
PARENTS["KEY_RESULT"] = {"OBJECTIVE"}
LINK_TYPES = {"RELATED": "relates_to", "BLOCKS": "blocks", "BLOCKED_BY": "is_blocked_by"}


def problem(message: str = NO_ACCESS) -> dict[str, Any]:
    return {"errors": [{"message": message}]}


# --- lookups -------------------------------------------------------------------------------------
def namespace(call: Call, path: str) -> tuple[str, Row] | None:
    """("project" | "group", the row) for a full path the caller can read, else None (GraphQL's null)."""
    world = call.world
    project = world.find_project(path) if not path.isdigit() else None
    if project is not None:
        return ("project", project) if world.can_read(call.user_id, project) else None
    group = find_group(world, path)
    if group is not None and can_read_group(world, call.user_id, group):
        return "group", group
    return None


def kind(row: Row) -> str:
    return str(row.get("issue_type", "issue")).upper()


def all_items(world: World) -> list[Row]:
    return world.table("issues") + world.table("group_work_items")


def by_gid(call: Call, gid: Any) -> Row | None:
    wanted = str(gid).removeprefix("gid://gitlab/WorkItem/")
    row = next((r for r in all_items(call.world) if str(r["id"]) == wanted), None)
    return row if row is not None and readable(call, row) else None


def readable(call: Call, row: Row) -> bool:
    world = call.world
    if row.get("project_id") is not None:
        project = world.projects[row["project_id"]]
        return world.can_read(call.user_id, project) and can_see(world, call.user_id, row)
    return can_read_group(world, call.user_id, world.groups[row["_group_id"]])


def may_edit(call: Call, row: Row) -> bool:
    """update_work_item: the author, or a reporter and up (IssuePolicy, GroupPolicy for epics)."""
    if row["author"]["id"] == call.user_id:
        return True
    if row.get("project_id") is not None:
        return call.world.access_level(call.user_id, row["project_id"]) >= REPORTER
    return group_level(call.world, call.user_id, call.world.groups[row["_group_id"]]) >= REPORTER


def in_namespace(call: Call, path: str, iid: Any) -> Row | None:
    found = namespace(call, path)
    if found is None:
        return None
    what, ns = found
    key = "project_id" if what == "project" else "_group_id"
    row = next((r for r in all_items(call.world) if r.get(key) == ns["id"] and str(r["iid"]) == str(iid)), None)
    return row if row is not None and readable(call, row) else None


# --- shapes --------------------------------------------------------------------------------------
def brief(row: Row) -> dict[str, Any]:
    state = "OPEN" if row["state"] == "opened" else "CLOSED"
    return {"id": f"gid://gitlab/WorkItem/{row['id']}", "iid": str(row["iid"]), "title": row["title"], "state": state}


def node(call: Call, row: Row) -> dict[str, Any]:
    """The WorkItem object with the fields and widgets mcp_bridge/queries/WorkItemFields selects."""
    world = call.world
    parents = world.table("work_item_parents")
    parent_id = next((p["parent_id"] for p in parents if p["child_id"] == row["id"]), None)
    parent = next((r for r in all_items(world) if r["id"] == parent_id), None)
    children = [
        r for r in all_items(world) for p in parents if p["parent_id"] == row["id"] and p["child_id"] == r["id"]
    ]
    widgets: list[dict[str, Any]] = [
        {"type": "DESCRIPTION", "description": row.get("description")},
        {"type": "ASSIGNEES", "assignees": {"nodes": [{"username": a["username"]} for a in row["assignees"]]}},
        {"type": "LABELS", "labels": {"nodes": [{"title": label} for label in row["labels"]]}},
        {"type": "START_AND_DUE_DATE", "startDate": None, "dueDate": row.get("due_date")},
        {
            "type": "HIERARCHY",
            "parent": {k: v for k, v in brief(parent).items() if k != "state"}
            if parent and readable(call, parent)
            else None,
            "children": {
                "nodes": [
                    brief(c) | {"workItemType": {"name": TYPES[kind(c)][1]}} for c in children if readable(call, c)
                ]
            },
        },
        {"type": "LINKED_ITEMS", "linkedItems": {"nodes": linked(call, row)}},
        {"type": "NOTES"},
    ]
    return brief(row) | {
        "confidential": row["confidential"],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "closedAt": row.get("closed_at"),
        "webUrl": row["web_url"],
        "workItemType": {"name": TYPES[kind(row)][1]},
        "author": {"username": row["author"]["username"]},
        "widgets": widgets,
    }


def linked(call: Call, row: Row) -> list[dict[str, Any]]:
    inverse = {"relates_to": "relates_to", "blocks": "is_blocked_by"}
    out = []
    for link in sorted(call.world.table("issue_links"), key=lambda k: k["id"]):
        if row["id"] not in (link["source_id"], link["target_id"]):
            continue
        mine = link["source_id"] == row["id"]
        other = by_gid(call, link["target_id"] if mine else link["source_id"])
        if other is not None:
            out.append(
                {"linkType": link["link_type"] if mine else inverse[link["link_type"]], "workItem": brief(other)}
            )
    return out


# --- queries -------------------------------------------------------------------------------------
def work_item(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    if namespace(call, str(variables["fullPath"])) is None:
        return {"namespace": None}
    row = in_namespace(call, str(variables["fullPath"]), variables["iid"])
    return {"namespace": {"workItem": node(call, row) if row else None}}


def work_item_id(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    """WorkItemId selects the id only."""
    found = work_item(call, variables)
    item = (found["namespace"] or {}).get("workItem")
    return found if not item else {"namespace": {"workItem": {"id": item["id"]}}}


def list_work_items(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    found = namespace(call, str(variables["fullPath"]))
    if found is None:
        return {"namespace": None}
    what, ns = found
    key = "project_id" if what == "project" else "_group_id"
    rows = [r for r in all_items(call.world) if r.get(key) == ns["id"] and readable(call, r)]
    if variables.get("types"):
        rows = [r for r in rows if kind(r) in variables["types"]]
    if variables.get("state") in ("opened", "closed"):
        rows = [r for r in rows if r["state"] == variables["state"]]
    if variables.get("search"):
        term = str(variables["search"]).lower()
        rows = [r for r in rows if term in r["title"].lower() or term in (r.get("description") or "").lower()]
    rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)  # CREATED_DESC, the default sort
    start = int(base64.b64decode(variables["after"]).decode().split(":")[1]) if variables.get("after") else 0
    first = max(1, min(100, int(variables["first"])))
    chunk, more = rows[start : start + first], start + first < len(rows)
    cursor = base64.b64encode(f"offset:{start + len(chunk)}".encode()).decode() if chunk else None
    page = {"hasNextPage": more, "endCursor": cursor}
    return {"namespace": {"workItems": {"nodes": [node(call, r) for r in chunk], "pageInfo": page}}}


def work_item_types(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    found = namespace(call, str(variables["fullPath"]))
    if found is None:
        return {"namespace": None}
    allowed = {"EPIC"} if found[0] == "group" else set(TYPES) - {"EPIC"}
    name = str(variables["name"])
    nodes = (
        [{"id": f"gid://gitlab/WorkItems::Type/{TYPES[name][0]}", "name": TYPES[name][1]}] if name in allowed else []
    )
    return {"namespace": {"workItemTypes": {"nodes": nodes}}}


def notes(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    row = in_namespace(call, str(variables["fullPath"]), variables["iid"])
    if row is None:
        return {"namespace": None if namespace(call, str(variables["fullPath"])) is None else {"workItem": None}}
    rows = [n for n in call.world.table("notes") if n["noteable_id"] == row["id"] and not n["system"]]
    if row.get("project_id") is not None and call.world.access_level(call.user_id, row["project_id"]) < REPORTER:
        rows = [n for n in rows if not n["internal"]]
    threads: dict[str, list[Row]] = {}
    for note in sorted(rows, key=lambda n: (n["created_at"], n["id"])):
        threads.setdefault(discussion_id(note), []).append(note)
    items = [
        {"id": f"gid://gitlab/Discussion/{tid}", "notes": {"nodes": [note_node(n) for n in thread]}}
        for tid, thread in threads.items()
    ]
    start = int(base64.b64decode(variables["after"]).decode().split(":")[1]) if variables.get("after") else 0
    first = max(1, min(100, int(variables["first"])))
    chunk = items[start : start + first]
    page = {
        "hasNextPage": start + first < len(items),
        "endCursor": base64.b64encode(f"offset:{start + len(chunk)}".encode()).decode(),
    }
    widget = {"type": "NOTES", "discussions": {"nodes": chunk, "pageInfo": page}}
    return {"namespace": {"workItem": {"id": f"gid://gitlab/WorkItem/{row['id']}", "widgets": [widget]}}}


def note_node(note: Row) -> dict[str, Any]:
    return {
        "id": f"gid://gitlab/Note/{note['id']}",
        "body": note["body"],
        "internal": note["internal"],
        "createdAt": note["created_at"],
        "author": {"username": note["author"]["username"]},
    }


# --- mutations -----------------------------------------------------------------------------------
def create(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    data = variables["input"]
    found = namespace(call, str(data.get("namespacePath") or ""))
    type_id = str(data.get("workItemTypeId", "")).removeprefix("gid://gitlab/WorkItems::Type/")
    type_name = next((name for name, (tid, _) in TYPES.items() if str(tid) == type_id), None)
    if found is None or type_name is None:
        return problem()
    what, ns = found
    # As the REST area: any reader may open an issue where issues are on; epics need a group reporter.
    if what == "project" and (ns.get("archived") or not ns.get("issues_enabled", True)):
        return problem()
    if what == "group" and group_level(call.world, call.user_id, ns) < REPORTER:
        return problem()
    title = str(data.get("title") or "").strip()
    if not title or len(title) > 255:
        reason = "Title can't be blank" if not title else "Title is too long (maximum is 255 characters)"
        return {"workItemCreate": {"workItem": None, "errors": [reason]}}
    parent = by_gid(call, (data.get("hierarchyWidget") or {}).get("parentId")) if data.get("hierarchyWidget") else None
    if data.get("hierarchyWidget") and (parent is None or kind(parent) not in PARENTS.get(type_name, set())):
        reason = f"{TYPES[type_name][1]} cannot be added: is not allowed to add this type of parent"
        return {"workItemCreate": {"workItem": None, "errors": [reason]}}
    description = (data.get("descriptionWidget") or {}).get("description")
    fields = {"description": description, "confidential": bool(data.get("confidential"))}
    fields |= {"issue_type": type_name.lower(), "type": type_name}
    if what == "project":
        row = add_issue(call.world, ns, author=call.user_id or 0, title=title, **fields)
    else:
        row = add_group_item(call.world, ns, author=call.user_id or 0, title=title, **fields)
    if parent is not None:
        call.world.table("work_item_parents").append({"child_id": row["id"], "parent_id": parent["id"]})
    return {"workItemCreate": {"workItem": node(call, row), "errors": []}}


def update(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    data = variables["input"]
    row = by_gid(call, data.get("id"))
    if row is None or not may_edit(call, row):
        return problem()
    if "title" in data and not str(data["title"] or "").strip():
        return {"workItemUpdate": {"workItem": None, "errors": ["Title can't be blank"]}}
    if "hierarchyWidget" in data:
        wanted = (data["hierarchyWidget"] or {}).get("parentId")
        parent = by_gid(call, wanted) if wanted else None
        if wanted and (parent is None or kind(parent) not in PARENTS.get(kind(row), set())):
            reason = f"{TYPES[kind(row)][1]} cannot be added: is not allowed to add this type of parent"
            return {"workItemUpdate": {"workItem": None, "errors": [reason]}}
        links = call.world.table("work_item_parents")
        links[:] = [p for p in links if p["child_id"] != row["id"]]
        if parent is not None:
            links.append({"child_id": row["id"], "parent_id": parent["id"]})
    if data.get("title"):
        row["title"] = str(data["title"]).strip()
    if "descriptionWidget" in data:
        row["description"] = (data["descriptionWidget"] or {}).get("description")
    if data.get("confidential") is not None:
        row["confidential"] = bool(data["confidential"])
    event = data.get("stateEvent")
    if event == "CLOSE" and row["state"] == "opened":
        row |= {"state": "closed", "closed_at": now(), "closed_by": call.world.user_ref(call.user_id or 0)}
    elif event == "REOPEN" and row["state"] == "closed":
        row |= {"state": "opened", "closed_at": None, "closed_by": None}
    row["updated_at"] = now()
    return {"workItemUpdate": {"workItem": node(call, row), "errors": []}}


def create_note(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    data = variables["input"]
    row = by_gid(call, data.get("noteableId"))
    if row is None:
        return problem()
    member = row.get("project_id") is None or call.world.access_level(call.user_id, row["project_id"]) >= GUEST
    if row.get("discussion_locked") and not member:
        return problem()  # a locked discussion takes comments from members only
    body = str(data.get("body") or "")
    if not body.strip():
        return {"createNote": {"note": None, "errors": ["Note can't be blank"]}}
    level_ok = row.get("project_id") is None or call.world.access_level(call.user_id, row["project_id"]) >= REPORTER
    internal = bool(data.get("internal")) and level_ok
    wanted = str(data.get("discussionId") or "").removeprefix("gid://gitlab/Discussion/")
    if wanted:
        thread = [n for n in call.world.table("notes") if n["noteable_id"] == row["id"] and discussion_id(n) == wanted]
        if not thread:
            return problem()
        if thread[0]["type"] is None:
            thread[0] |= as_thread_note(thread[0], wanted)
        note = add_thread_note(call.world, row, author=call.user_id or 0, body=body, thread=wanted)
    else:
        note = add_note(call.world, row, author=call.user_id or 0, body=body, internal=internal)
    shown = note_node(note) | {"discussion": {"id": f"gid://gitlab/Discussion/{discussion_id(note)}"}}
    return {"createNote": {"note": shown, "errors": []}}


def add_links(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    data = variables["input"]
    row = by_gid(call, data.get("id"))
    if row is None or not may_edit(call, row):
        return problem()
    ids = list(data.get("workItemsIds") or [])
    if len(ids) > 10:
        return {
            "workItemAddLinkedItems": {
                "workItem": None,
                "message": None,
                "errors": ["No more than 10 work items can be linked at the same time."],
            }
        }
    targets = [by_gid(call, gid) for gid in ids]
    if not ids or any(t is None or t["id"] == row["id"] for t in targets):
        reason = "No matching work item found. Make sure that you are adding a valid work item ID."
        return {"workItemAddLinkedItems": {"workItem": None, "message": None, "errors": [reason]}}
    kind_of = LINK_TYPES.get(str(data.get("linkType") or "RELATED"), "relates_to")
    for target in targets:
        assert target is not None
        add_link(call.world, row, target, kind_of)
    message = f"Successfully linked ID(s): {', '.join(str(t['id']) for t in targets if t)}."
    return {"workItemAddLinkedItems": {"workItem": node(call, row), "message": message, "errors": []}}


def remove_links(call: Call, variables: dict[str, Any]) -> dict[str, Any]:
    data = variables["input"]
    row = by_gid(call, data.get("id"))
    if row is None or not may_edit(call, row):
        return problem()
    wanted = {str(g).removeprefix("gid://gitlab/WorkItem/") for g in data.get("workItemsIds") or []}
    links = call.world.table("issue_links")
    gone = [k for k in links if {str(k["source_id"]), str(k["target_id"])} in ({str(row["id"]), w} for w in wanted)]
    if not gone:
        return {
            "workItemRemoveLinkedItems": {"workItem": None, "message": None, "errors": ["No work item IDs provided."]}
        }
    links[:] = [k for k in links if k not in gone]
    message = f"Successfully unlinked IDs: {', '.join(sorted(wanted))}."
    return {"workItemRemoveLinkedItems": {"workItem": node(call, row), "message": message, "errors": []}}


# --- rows ----------------------------------------------------------------------------------------
def add_group_item(world: World, group: Row, *, author: int, title: str, **fields: Any) -> Row:
    rows = world.table("group_work_items")
    iid = 1 + max((r["iid"] for r in rows if r["_group_id"] == group["id"]), default=0)
    when = now()
    row = {
        "id": world.next_id(), "iid": iid, "_group_id": group["id"], "project_id": None, "title": title,
        "description": None, "state": "opened", "confidential": False, "author": world.user_ref(author),
        "assignees": [], "labels": [], "due_date": None, "created_at": when, "updated_at": when, "closed_at": None,
        "discussion_locked": False, "user_notes_count": 0,
        "web_url": f"{SIM_URL}/groups/{group['full_path']}/-/work_items/{iid}", **fields,
    }  # fmt: skip
    rows.append(row)
    return row


def seed(world: World) -> None:
    acme = world.groups[10]
    epic = add_group_item(world, acme, author=1, title="Q3 launch", issue_type="epic", type="EPIC")
    epic |= {"description": "Everything that ships in Q3.", "created_at": "2024-03-01T09:00:00.000Z"}
    login = next(i for i in world.table("issues") if i["project_id"] == 101 and i["iid"] == 1)
    world.table("work_item_parents").append({"child_id": login["id"], "parent_id": epic["id"]})
