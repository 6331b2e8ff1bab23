"""Shaping what the model reads, to spend its context well: GitLab objects cut to the fields worth
it, pages of lists, windows of long texts, and tool schemas without what pydantic adds for nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import LineCount, StartLine

# What to keep of each item of a list: the fields worth it, or a function that shapes one item.
Shape = Iterable[str] | Callable[[dict[str, Any]], dict[str, Any]]


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


def listing(items: list[Any], meta: dict[str, int | None], shape: Shape) -> dict[str, Any]:
    if callable(shape):
        return {"items": [shape(item) for item in items], **meta}
    fields = tuple(shape)
    return {"items": [pick(item, fields) for item in items], **meta}


async def listed(
    path: str, what: str, page: int, per_page: int, shape: Shape, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One page of the GitLab list at `path`, each item shaped, with GitLab's page numbers."""
    items, meta = await gitlab().page(path, what=what, page=page, per_page=per_page, params=params)
    return listing(items, meta, shape)


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


def text_window(text: str, max_chars: int, start_line: StartLine = None, line_count: LineCount = 400) -> dict[str, Any]:
    """A window of a text a tool reads whole (a file, a wiki page, a snippet): line_window from the
    top. Its parameters after `max_chars` are those of every such tool."""
    return line_window(text, start=start_line, count=line_count, tail=False, max_chars=max_chars)


def _lines_that_fit(lines: list[str], max_chars: int, *, from_end: bool) -> int:
    """How many whole lines, from the start (or the end), fit in max_chars; at least one."""
    size = keep = 0
    for line in reversed(lines) if from_end else lines:
        size += len(line) + (1 if keep else 0)
        if size > max_chars and keep:
            break
        keep += 1
    return keep


def slim_schema(schema: dict[str, Any]) -> None:
    """Trim what pydantic generates but the model gains nothing from, to save its context:
    titles that repeat property names, `default: null`, and `anyOf [X, null]` (as `type: [X, "null"]`),
    in nested models too."""
    schema.pop("title", None)
    for definition in schema.get("$defs", {}).values():
        slim_schema(definition)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        if "default" in prop and prop["default"] is None:
            del prop["default"]
        options = prop.get("anyOf")
        if options and len(options) == 2 and {"type": "null"} in options:
            other = next(o for o in options if o != {"type": "null"})
            if isinstance(other.get("type"), str) and not {"anyOf", "oneOf", "allOf", "$ref"} & set(other):
                del prop["anyOf"]
                prop.update(other, type=[other["type"], "null"])
                if "enum" in prop:
                    prop["enum"] = [*prop["enum"], None]
        if isinstance(prop.get("items"), dict):
            slim_schema(prop["items"])
