"""What every tool module uses: the @tool decorator, shared parameter types and the caller's GitLab.

A tool is one `async def` in `mcp_bridge/tools/<area>.py`, decorated with `@tool(READ, "area")`.
The decorator records it; `mcp_bridge.server.build_server()` registers the recorded tools that the
configuration allows. GitLab errors are turned into tool errors here, once, for every tool; so is a
refusal to send, which names the argument whose value would have left its URL path segment.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from mcp_bridge.context import record_call
from mcp_bridge.errors import GitLabError, UnsafePathSegment
from mcp_bridge.gitlab import gitlab
from mcp_bridge.routes import Routes, compile_routes

__all__ = ["DESTRUCTIVE", "READ", "WRITE", "gitlab", "line_window", "listing", "pick", "tool"]

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True)
DESTRUCTIVE = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True)

# Parameter types shared by the tool modules; the descriptions are what the model reads.
ProjectRef = Annotated[str, Field(description="Project id or full path, e.g. 'group/project'.", min_length=1)]
Iid = Annotated[int, Field(description="The project-level number shown in GitLab (#12 or !12).", ge=1)]
Page = Annotated[int, Field(description="Page number, from 1.", ge=1)]
PerPage = Annotated[int, Field(description="Items per page (1-100).", ge=1, le=100)]
Ref = Annotated[str, Field(description="Branch, tag or commit SHA.", min_length=1)]

ToolFn = TypeVar("ToolFn", bound=Callable[..., Awaitable[Any]])

# Every tool belongs to one toolset; GITLAB_TOOLSETS picks which are served (DESIGN.md §3).
TOOLSETS = {
    "projects": "find, read and manage projects, their members and forks",
    "repository": "browse and read files, blame, compare refs, list commits, write files",
    "branches": "branches and tags, and their protection",
    "commits": "single commits: diffs, statuses, comments, cherry-pick, revert",
    "merge_requests": "merge requests, their diffs, discussions, approvals and merging",
    "issues": "issues, their comments and links",
    "labels_milestones": "labels and milestones",
    "pipelines": "CI/CD pipelines, jobs, logs, artifacts and schedules",
    "variables": "CI/CD variables of projects and groups (secret values never shown)",
    "wiki": "project and group wiki pages",
    "releases": "releases and their asset links",
    "snippets": "project and personal snippets",
    "search": "search across GitLab, a group or a project",
    "users": "users, your activity and to-do items",
    "groups": "groups, subgroups and their members",
    "environments": "environments and deployments",
    "webhooks": "project and group webhooks",
    "uploads": "attach files to issues and merge requests, and read attached files",
    "work_items": "work items (issues, tasks, epics, objectives), their notes and links, over GraphQL",
    "graphql": "raw GraphQL queries and mutations, for what no other tool covers",
}
# GITLAB_TOOLSETS=default: what a coding session uses every day, across toolsets, within the
# context budget (bench/tool_catalog.py: at most 12,000 tokens of tools/list).
DEFAULT_TOOLS = frozenset(
    {
        "get_current_user",
        "list_projects",
        "get_project",
        "get_repository_tree",
        "get_file",
        "list_commits",
        "compare_refs",
        "create_commit",
        "list_branches",
        "create_branch",
        "get_commit",
        "get_commit_diff",
        "list_merge_requests",
        "list_my_merge_requests",
        "get_merge_request",
        "get_merge_request_changes",
        "create_merge_request",
        "update_merge_request",
        "merge_merge_request",
        "get_merge_request_conflicts",
        "approve_merge_request",
        "list_merge_request_discussions",
        "create_merge_request_note",
        "create_merge_request_thread",
        "reply_to_merge_request_discussion",
        "resolve_merge_request_discussion",
        "list_issues",
        "list_my_issues",
        "get_issue",
        "create_issue",
        "update_issue",
        "list_issue_notes",
        "create_issue_note",
        "list_issue_discussions",
        "reply_to_issue_discussion",
        "list_pipelines",
        "get_pipeline",
        "list_pipeline_jobs",
        "get_job_log",
        "retry_job",
        "create_pipeline",
        "wait_for_pipeline",
        "lint_ci_config",
        "search_project",
        "search_gitlab",
        "list_labels",
    }
)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    fn: Callable[..., Awaitable[Any]]
    name: str
    toolset: str
    annotations: ToolAnnotations
    routes: Routes

    @property
    def writes(self) -> bool:
        return not self.annotations.read_only_hint


REGISTRY: dict[str, ToolSpec] = {}


def tool(annotations: ToolAnnotations, toolset: str, *, routes: Iterable[str] = ()) -> Callable[[ToolFn], ToolFn]:
    """Record an async function as a GitLab tool of `toolset`; its docstring is its description.

    `routes` are the GitLab operations the tool may send, as GitLab's docs write them:
    "DELETE /projects/:id/labels/:label_id" (`:name` is exactly one path segment, `*name` one or more).
    It may send no other (mcp_bridge.routes); a tool that declares none may send nothing.
    """
    allowed = compile_routes(routes)

    def decorate(fn: ToolFn) -> ToolFn:
        writes = not annotations.read_only_hint

        @functools.wraps(fn)
        async def run(*args: Any, **kwargs: Any) -> Any:
            with record_call(fn.__name__, kwargs, writes=writes, routes=allowed) as call:
                try:
                    result = await fn(*args, **kwargs)
                except UnsafePathSegment as exc:
                    message = exc.naming([k for k, v in kwargs.items() if _holds(v, exc.value)])
                    call.failed(exc)
                    raise ToolError(message) from None
                except GitLabError as exc:
                    call.failed(exc)
                    raise ToolError(str(exc)) from None
            return as_tool_result(result)

        if fn.__name__ in REGISTRY:
            raise ValueError(f"tool {fn.__name__} is defined twice")
        if toolset not in TOOLSETS:
            raise ValueError(f"tool {fn.__name__}: unknown toolset {toolset!r}")
        REGISTRY[fn.__name__] = ToolSpec(run, fn.__name__, toolset, annotations, allowed)
        return fn

    return decorate


def _holds(argument: Any, value: str) -> bool:
    """Whether a tool argument is the value refused in a URL path (path_id strips spaces first)."""
    return isinstance(argument, str) and argument.strip() == value.strip()


def as_tool_result(result: dict[str, Any]) -> CallToolResult:
    """Structured content plus the same JSON, compact, as text for clients that read only text
    (the SDK's default text is indented, which costs the model's context about a third more)."""
    text = json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result)


# --- shaping results ---------------------------------------------------------------------------
def pick(obj: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The fields of a GitLab object worth the model's context; nested users shrink to usernames."""
    out: dict[str, Any] = {}
    for field in fields:
        if field not in obj:
            continue
        value = obj[field]
        if isinstance(value, dict) and "username" in value:
            value = value["username"]
        elif isinstance(value, list) and value and isinstance(value[0], dict) and "username" in value[0]:
            value = [v.get("username") for v in value]
        out[field] = value
    return out


def listing(items: list[Any], meta: dict[str, int | None], fields: Iterable[str]) -> dict[str, Any]:
    fields = tuple(fields)
    return {"items": [pick(item, fields) for item in items], **meta}


def line_window(
    text: str, *, start: int | None, count: int, tail: bool, max_chars: int | None = None
) -> dict[str, Any]:
    """A window of lines from a long text (a log, a file, a diff), with where it sits in the whole.

    `start` is 1-based; without it the window is the last `count` lines when `tail`, else the first.
    `max_chars` shrinks the window to whole lines that fit (at least one line, cut if it must be).
    """
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # a final newline ends the last line; it does not start another
    total = len(lines)
    from_end = tail and start is None
    if start is None:
        first = max(1, total - count + 1) if tail else 1
    else:
        first = min(max(1, start), max(1, total))
    last = min(total, first + count - 1)
    content = "\n".join(lines[first - 1 : last])
    line_cut = False
    if max_chars is not None and len(content) > max_chars:
        keep = _lines_that_fit(lines[first - 1 : last], max_chars, from_end=from_end)
        first, last = (last - keep + 1, last) if from_end else (first, first + keep - 1)
        content = "\n".join(lines[first - 1 : last])
        line_cut = len(content) > max_chars
        content = content[-max_chars:] if from_end else content[:max_chars]
    window: dict[str, Any] = {
        "content": content,
        "first_line": first if total else 0,
        "last_line": last,
        "total_lines": total,
        "truncated": first > 1 or last < total or line_cut,
    }
    hints = [f"Line {first} is cut at {max_chars} characters."] if line_cut else []
    if first > 1 or last < total:
        hints.append(f"Showing lines {first}-{last} of {total}; pass start_line to read other lines.")
    if hints:
        window["hint"] = " ".join(hints)
    return window


def _lines_that_fit(lines: list[str], max_chars: int, *, from_end: bool) -> int:
    """How many whole lines, from the start (or the end), fit in max_chars; at least one."""
    size = keep = 0
    for line in reversed(lines) if from_end else lines:
        size += len(line) + (1 if keep else 0)
        if size > max_chars and keep:
            break
        keep += 1
    return keep
