"""GitLab URL paths and query strings: ids and paths as one safe path segment, lists and booleans
as GitLab reads them in a query."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

from mcp_bridge.errors import UnsafePathSegment


def path_id(value: str | int) -> str:
    """A project/group id or a full path, URL-encoded as GitLab wants it in a path segment.

    Raises UnsafePathSegment for a value that is empty or would climb out of its segment."""
    text = str(value).strip()
    if not text or climbs(text):
        raise UnsafePathSegment(str(value))
    return quote(text, safe="")


def path_of(value: str) -> str:
    """A path of several segments (a file inside an artifacts archive), each URL-encoded, slashes kept.

    Raises UnsafePathSegment when it is empty or any part is '.' or '..'."""
    text = value.strip().strip("/")
    if not text or climbs(text) or "" in text.split("/"):
        raise UnsafePathSegment(value)
    return quote(text, safe="/")


def climbs(text: str) -> bool:
    """Whether `text`, percent-decoded until it no longer changes, is or holds a '.' or '..' part
    between slashes (or backslashes, which some servers read as slashes)."""
    while (decoded := unquote(text)) != text:
        text = decoded
    return any(part in (".", "..") for part in re.split(r"[/\\]", text))


def encode_params(params: dict[str, Any] | None) -> list[tuple[str, str | int | float | bool | None]]:
    """Query parameters the GitLab way: lists as `key[]=a&key[]=b`, booleans as true/false."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((f"{key}[]", _scalar(v)) for v in value)
        else:
            pairs.append((key, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
