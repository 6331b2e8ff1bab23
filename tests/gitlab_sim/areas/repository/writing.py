"""Writing to the repository: create, update and delete a file, create a commit with several actions
(doc/api/repository_files.md, doc/api/commits.md#create-a-commit-with-multiple-files-and-actions)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.repository.model import (
    can_push,
    code_project,
    commit_files,
    commits_of,
    diff_stats,
    file_diffs,
    find_branch,
    public_commit,
    push_project,
    tree_at,
)
from tests.gitlab_sim.areas.repository.reading import last_commit_for
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    error,
    invalid_value,
    param_error,
)
from tests.gitlab_sim.world import World


# --- writing --------------------------------------------------------------------------------------
def _start(call: Call, project: dict[str, Any], branch: str, start_branch: str | None) -> dict[str, Any] | Response:
    """The commit a write starts from, as Commits::CreateService validates it (400s)."""
    world, pid = call.world, project["id"]
    start = start_branch or branch
    source = find_branch(world, pid, start)
    if source is None:
        return bad_request("You can only create or edit files when you are on a branch")
    if start != branch and find_branch(world, pid, branch) is not None:
        return bad_request(f"A branch called '{branch}' already exists. Switch to that branch in order to make changes")
    return commits_of(world, pid)[source["head"]]


def _content(value: str, encoding: str) -> bytes | None:
    if encoding != "base64":
        return value.encode()
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


async def _file_write(call: Call, action: str) -> Response:
    """POST/PUT/DELETE .../repository/files/:file_path: one action, one commit (lib/api/files.rb)."""
    project = push_project(call)
    if isinstance(project, Response):
        return project
    required = ["branch", "commit_message"] + (["content"] if action != "delete" else [])
    problems = [f"{name} is missing" for name in required if call.arg(name) is None]
    # branch and commit_message are `allow_blank: false`; an empty file is fine.
    problems += [f"{name} is empty" for name in required[:2] if call.arg(name) == ""]
    if problems:
        return param_error(", ".join(problems))
    encoding = call.arg("encoding", "text")
    if encoding not in ("text", "base64"):
        return invalid_value("encoding")
    branch, path = call.arg("branch"), call.params["file_path"]
    if ".." in path.split("/"):
        return param_error("file_path should be a valid file path")
    if not can_push(call.world, project, call.user_id, branch):
        return bad_request("You are not allowed to push into this branch")
    start = _start(call, project, branch, call.arg("start_branch"))
    if isinstance(start, Response):
        return start
    files = dict(tree_at(call.world, project["id"], start["id"]))
    if action == "create" and path in files:
        return bad_request("A file with this name already exists")
    if action != "create" and path not in files:
        return bad_request("A file with this name doesn't exist")
    last = call.arg("last_commit_id")
    if last and action != "create" and last != last_commit_for(call.world, project["id"], start["id"], path):
        verb = (
            "update a file that has changed" if action == "update" else "delete a file that has been previously updated"
        )
        return bad_request(f"You are attempting to {verb} since you started editing it.")
    if action == "delete":
        del files[path]
    else:
        content = _content(call.arg("content"), encoding)
        if content is None:
            return bad_request("Invalid base64 content")
        files[path] = content
    message = call.arg("commit_message")
    commit_files(
        call.world, project, branch, user_id=call.user_id or 0, message=message, files=files, parent=start["id"]
    )
    if action == "delete":
        return Response(status_code=204)
    return JSONResponse({"file_path": path, "branch": branch}, status_code=201 if action == "create" else 200)


async def create_file(call: Call) -> Response:
    return await _file_write(call, "create")


async def update_file(call: Call) -> Response:
    return await _file_write(call, "update")


async def delete_file(call: Call) -> Response:
    return await _file_write(call, "delete")


ACTIONS = ("create", "update", "move", "delete", "chmod")


def _action_error(action: Any, index: int) -> str | None:
    """validate_commit_action! of lib/api/commits.rb."""
    if not isinstance(action, dict) or not action.get("action"):
        return f"actions[{index}][action] is required"
    if not action.get("file_path"):
        return f"actions[{index}][file_path] is required"
    kind = action["action"]
    if kind not in ACTIONS:
        return f"actions[{index}][action] must be one of: create, update, move, delete, chmod"
    if action.get("encoding", "text") not in ("text", "base64"):
        return f"actions[{index}][encoding] must be text or base64"
    if kind == "update" and "content" not in action:
        return f"actions[{index}][content] is required for update action"
    if kind == "move" and not action.get("previous_path"):
        return f"actions[{index}][previous_path] is required for move action"
    if kind == "chmod" and "execute_filemode" not in action:
        return f"actions[{index}][execute_filemode] is required for chmod action"
    return None


def _apply(world: World, pid: int, start: str, files: dict[str, bytes], action: dict[str, Any]) -> str | None:
    """One action of Files::MultiService on `files`; the error message Gitaly would give, or None."""
    kind, path = action["action"], action["file_path"]
    source = action.get("previous_path") if kind == "move" else path
    if kind != "create" and source not in files:
        return "A file with this name doesn't exist"
    if kind in ("create", "move") and path in files:
        return "A file with this name already exists"
    last = action.get("last_commit_id")
    if last and kind in ("update", "move", "delete") and last != last_commit_for(world, pid, start, source):
        return f"The file has changed since you started editing it: {source}"
    if kind == "delete":
        del files[path]
    elif kind == "move":
        data = files.pop(source)
        files[path] = (
            data
            if action.get("content") is None
            else _content(action["content"], action.get("encoding", "text")) or b""
        )
    elif kind in ("create", "update"):
        content = _content(action.get("content") or "", action.get("encoding", "text"))
        if content is None:
            return "Invalid base64 content"
        files[path] = content
    # chmod: the simulator keeps no file modes (a script is executable when it starts with #!).
    return None


async def create_commit(call: Call) -> Response:
    """POST .../repository/commits: several file actions as one commit (lib/api/commits.rb)."""
    project = code_project(call)
    if isinstance(project, Response):
        return project
    branch = call.arg("branch")
    if call.user_id is None or not can_push(call.world, project, call.user_id, branch or ""):
        return error(403, "403 Forbidden - You are not allowed to push into this branch")
    for name in ("branch", "commit_message", "actions"):
        if not call.arg(name):
            return bad_request(f"400 Bad request - {name} is required")
    actions = call.arg("actions")
    if not isinstance(actions, list):
        return bad_request("400 Bad request - actions is required")
    for index, action in enumerate(actions):
        if problem := _action_error(action, index):
            return bad_request(f"400 Bad request - {problem}")
    start = _start(call, project, branch, call.arg("start_branch"))
    if isinstance(start, Response):
        return start
    before = tree_at(call.world, project["id"], start["id"])
    files = dict(before)
    for action in actions:
        if problem := _apply(call.world, project["id"], start["id"], files, action):
            return bad_request(problem)
    row = commit_files(
        call.world,
        project,
        branch,
        user_id=call.user_id,
        message=call.arg("commit_message"),
        files=files,
        parent=start["id"],
    )
    detail = {**public_commit(row), "status": None, "last_pipeline": None}
    if call.flag("stats") is not False:
        detail["stats"] = diff_stats(file_diffs(before, files))
    return JSONResponse(detail, status_code=201)
