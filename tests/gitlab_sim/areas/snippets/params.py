"""Snippet parameters: visibility, files and the updates a PUT applies (doc/api/snippets.md)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from tests.gitlab_sim.areas.snippets.rules import Snippet, can_admin
from tests.gitlab_sim.http import (
    Call,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    param_error,
)
from tests.gitlab_sim.world import now

VISIBILITIES = ("private", "internal", "public")


ACTIONS = ("create", "update", "delete", "move")


UPDATABLE = ("content", "description", "files", "file_name", "title", "visibility")


# --- parameters ----------------------------------------------------------------------------------
def file_params(call: Call) -> list[dict[str, str]] | Response:
    """create_file_params: either `files` or `content` (with `file_name`), exactly one of them."""
    files, content = call.arg("files"), call.arg("content")
    if files is not None and content is not None:
        return param_error("files, content are mutually exclusive")
    if files is None and content is None:
        return param_error("files, content are missing, exactly one parameter must be provided")
    if content is not None:
        if call.arg("file_name") is None:
            return missing_param("file_name")
        if not str(content).strip():
            return param_error("content is empty")
        return [{"path": str(call.arg("file_name")), "content": str(content)}]
    if not isinstance(files, list):
        return invalid_param("files")
    out = []
    for n, item in enumerate(files):
        for key in ("file_path", "content"):
            if not isinstance(item, dict) or key not in item:
                return missing_param(f"files[{n}][{key}]")
            if not str(item[key]).strip():
                return param_error(f"files[{n}][{key}] is empty")
        out.append({"path": str(item["file_path"]), "content": str(item["content"])})
    return out


def visibility_param(call: Call, default: str | None) -> str | Response:
    value = call.arg("visibility", default)
    if value is None:
        return missing_param("visibility")
    return value if value in VISIBILITIES else invalid_value("visibility")


def apply_updates(call: Call, snippet: Snippet) -> Response | None:
    """PUT: the Grape checks, then the file actions (Snippets::UpdateService); None when applied."""
    if not any(k in call.body or k in call.query for k in UPDATABLE):
        return param_error(f"{', '.join(UPDATABLE)} are missing, at least one parameter must be provided")
    files = call.arg("files")
    for other in ("content", "file_name"):
        if files is not None and call.arg(other) is not None:
            return param_error(f"files, {other} are mutually exclusive")
    if call.arg("visibility") is not None and call.arg("visibility") not in VISIBILITIES:
        return invalid_value("visibility")
    for key in ("title", "content"):
        if call.arg(key) is not None and not str(call.arg(key)).strip():
            return param_error(f"{key} is empty")
    if not can_admin(call.world, call.user_id, snippet):
        return forbidden()
    if (call.arg("content") is not None or call.arg("file_name") is not None) and len(snippet["_files"]) > 1:
        message = "To update Snippets with multiple files, you must use the `files` parameter"
        return error(400, {"error": message})
    new_files = [dict(f) for f in snippet["_files"]]
    if files is not None:
        problem = file_actions(new_files, files)
        if problem:
            return problem
    elif snippet["_files"]:
        first = new_files[0]
        first["path"] = str(call.arg("file_name", first["path"]))
        first["content"] = str(call.arg("content", first["content"]))
    snippet["_files"] = new_files
    for key in ("title", "description", "visibility"):
        if call.arg(key) is not None:
            snippet[key] = call.arg(key)
    snippet["updated_at"] = now()
    return None


def file_actions(files: list[dict[str, str]], actions: Any) -> Response | None:
    if not isinstance(actions, list):
        return invalid_param("files")
    for n, action in enumerate(actions):
        kind = action.get("action") if isinstance(action, dict) else None
        if kind is None:
            return missing_param(f"files[{n}][action]")
        if kind not in ACTIONS:
            return invalid_value(f"files[{n}][action]")
        path, previous = action.get("file_path"), action.get("previous_path") or action.get("file_path")
        current = next((f for f in files if f["path"] == previous), None)
        if kind == "create":
            if not path or action.get("content") is None:
                return _update_error("Snippet actions have invalid data")
            files.append({"path": path, "content": action["content"]})
        elif current is None:
            return _update_error("A file with this name doesn't exist")
        elif kind == "delete":
            files.remove(current)
        else:
            current["path"] = path or current["path"]
            current["content"] = action.get("content", current["content"])
    return None


def _update_error(message: str) -> Response:
    return error(400, {"error": f"Error updating the snippet - {message}"})
