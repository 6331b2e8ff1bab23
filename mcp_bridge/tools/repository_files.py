"""Writing files: each write is one commit on a branch, of one file or of several changes at once
(doc/api/repository_files.md, doc/api/commits.md#create-a-commit-with-multiple-files-and-actions)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import DESTRUCTIVE, WRITE, tool
from mcp_bridge.shaping import pick, slim_schema
from mcp_bridge.tools.repository import FilePath

Branch = Annotated[str, Field(description="Branch to commit to; a new one if start_branch is given.", min_length=1)]
StartBranch = Annotated[str | None, Field(description="Existing branch to start a new `branch` from.")]
CommitMessage = Annotated[str, Field(description="Commit message.", min_length=1)]
LastCommitId = Annotated[
    str | None, Field(description="last_commit_id from get_file: refuse if the file changed since.")
]
Encoding = Literal["text", "base64"]


class FileAction(BaseModel):
    """One change in a create_commit."""

    model_config = ConfigDict(json_schema_extra=slim_schema)

    action: Literal["create", "update", "delete", "move", "chmod"]
    file_path: str = Field(description="Path of the file (the new path for move).", min_length=1)
    content: str | None = Field(None, description="Whole new content (create, update; optional for move).")
    previous_path: str | None = Field(None, description="Old path (move).")
    encoding: Encoding = "text"
    last_commit_id: str | None = Field(None, description="Refuse if the file changed after this commit.")
    execute_filemode: bool | None = Field(None, description="Executable or not (chmod).")


def _file_body(branch: str, start_branch: str | None, message: str, **fields: Any) -> dict[str, Any]:
    return {"branch": branch, "start_branch": start_branch, "commit_message": message, **fields}


@tool(WRITE, "repository", routes=("POST /projects/:id/repository/files/:file_path",))
async def create_file(
    project: ProjectRef,
    file_path: FilePath,
    branch: Branch,
    content: Annotated[str, Field(description="The file's content.")],
    commit_message: CommitMessage,
    start_branch: StartBranch = None,
    encoding: Encoding = "text",
) -> dict[str, Any]:
    """Add a new file in one commit on a branch. Fails if the file exists (use update_file)."""
    where = f"File {file_path} on {branch} in {project}"
    body = _file_body(branch, start_branch, commit_message, content=content, encoding=encoding)
    data = await gitlab().post(_file_url(project, file_path), what=where, json=body)
    return pick(data, ("file_path", "branch"))


@tool(WRITE, "repository", routes=("PUT /projects/:id/repository/files/:file_path",))
async def update_file(
    project: ProjectRef,
    file_path: FilePath,
    branch: Branch,
    content: Annotated[str, Field(description="The file's whole new content.")],
    commit_message: CommitMessage,
    last_commit_id: LastCommitId = None,
    start_branch: StartBranch = None,
    encoding: Encoding = "text",
) -> dict[str, Any]:
    """Replace an existing file's content in one commit on a branch. Pass last_commit_id (from get_file)
    so that GitLab refuses if someone changed the file meanwhile."""
    where = f"File {file_path} on {branch} in {project}"
    body = _file_body(branch, start_branch, commit_message, content=content, encoding=encoding)
    data = await gitlab().put(_file_url(project, file_path), what=where, json=body | {"last_commit_id": last_commit_id})
    return pick(data, ("file_path", "branch"))


@tool(DESTRUCTIVE, "repository", routes=("DELETE /projects/:id/repository/files/:file_path",))
async def delete_file(
    project: ProjectRef,
    file_path: FilePath,
    branch: Branch,
    commit_message: CommitMessage,
    last_commit_id: LastCommitId = None,
    start_branch: StartBranch = None,
) -> dict[str, Any]:
    """Delete a file in one commit on a branch."""
    where = f"File {file_path} on {branch} in {project}"
    body = _file_body(branch, start_branch, commit_message, last_commit_id=last_commit_id)
    # The branch and commit message travel in the DELETE's body (doc/api/repository_files.md).
    await gitlab().delete(_file_url(project, file_path), what=where, json=body)
    return {"deleted": file_path, "branch": branch}


@tool(WRITE, "repository", routes=("POST /projects/:id/repository/commits",))
async def create_commit(
    project: ProjectRef,
    branch: Branch,
    commit_message: CommitMessage,
    actions: Annotated[list[FileAction], Field(description="File changes, applied in order.", min_length=1)],
    start_branch: StartBranch = None,
) -> dict[str, Any]:
    """Commit several file changes at once (create, update, delete, move, chmod) on a branch. Returns
    the new commit with its stats."""
    body: dict[str, Any] = {"branch": branch, "start_branch": start_branch, "commit_message": commit_message}
    body["actions"] = [a.model_dump(exclude_none=True) for a in actions]
    path = f"/projects/{path_id(project)}/repository/commits"
    data = await gitlab().post(path, what=f"Branch {branch} in {project}", json=body)
    return {**pick(data, ("id", "short_id", "title", "parent_ids", "stats", "web_url")), "branch": branch}


def _file_url(project: str, file_path: str) -> str:
    return f"/projects/{path_id(project)}/repository/files/{path_id(file_path)}"
