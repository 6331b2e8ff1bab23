"""Diff positions: checking and placing a comment on a merge request's diff (doc/api/discussions.md)."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from starlette.responses import Response

from tests.gitlab_sim.areas.discussions.lookups import MR
from tests.gitlab_sim.http import Call, missing_param, param_error
from tests.gitlab_sim.world import World

SHA_KEYS = ("base_sha", "start_sha", "head_sha")


LINE_CODE = re.compile(r"^[0-9a-f]{40}_\d*_\d*$")  # sha1(path)_old_new


HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


# --- diff positions ------------------------------------------------------------------------------
def empty_position() -> dict[str, Any]:
    keys = (*SHA_KEYS, "old_path", "new_path", "old_line", "new_line", "line_range")
    return {**dict.fromkeys(keys), "position_type": "text"}


def position_arg(call: Call) -> dict[str, Any] | Response | None:
    """`position` as a JSON object or as position[key] form fields, checked like Grape does."""
    raw = call.body.get("position")
    if raw is None:
        prefix = "position["
        pairs = {**dict(call.query), **call.body}
        raw = {k[len(prefix) : -1]: v for k, v in pairs.items() if k.startswith(prefix) and k.endswith("]")} or None
    if raw is None:
        return None
    if not isinstance(raw, dict):
        return param_error("position is invalid")
    for key in (*SHA_KEYS, "position_type"):
        if not raw.get(key):
            return missing_param(f"position[{key}]")
    if raw["position_type"] not in ("text", "image", "file"):
        return param_error("position[position_type] does not have a valid value")
    for key in ("old_line", "new_line"):
        if raw.get(key) is not None and not str(raw[key]).isdigit():
            return param_error(f"position[{key}] is invalid")
    position = empty_position() | {k: raw.get(k) for k in (*SHA_KEYS, "position_type", "old_path", "new_path")}
    for key in ("old_line", "new_line"):
        position[key] = int(raw[key]) if raw.get(key) is not None else None
    line_range = raw.get("line_range")
    if line_range is not None:
        # position[line_range][start|end]: line_code, type (new/old/null), old_line, new_line (doc/api/discussions.md)
        for end in ("start", "end"):
            bound = line_range.get(end) if isinstance(line_range, dict) else None
            if not isinstance(bound, dict) or not LINE_CODE.match(str(bound.get("line_code") or "")):
                return param_error(f"position[line_range][{end}][line_code] is invalid")
            if bound.get("type") not in ("new", "old", None):
                return param_error(f"position[line_range][{end}][type] does not have a valid value")
        position["line_range"] = {
            end: {k: line_range[end].get(k) for k in ("line_code", "type", "old_line", "new_line")}
            for end in ("start", "end")
        }
    return position


def placed(world: World, mr: MR, position: dict[str, Any]) -> dict[str, Any] | None:
    """The position if it names a line of the MR's diff at its current diff_refs, else None (GitLab then
    cannot compute a line_code). Added lines take new_line only, removed lines old_line only, and
    unchanged lines both."""
    from tests.gitlab_sim.areas.merge_request_review import versions

    # The current diff_refs, or those of an earlier diff version (a comment on an older push).
    known = [mr["diff_refs"]] + [
        {"base_sha": v["base_commit_sha"], "start_sha": v["start_commit_sha"], "head_sha": v["head_commit_sha"]}
        for v in versions(world, mr)
    ]
    if not any(all(position.get(k) == refs[k] for k in SHA_KEYS) for refs in known):
        return None
    old_path, new_path = position.get("old_path"), position.get("new_path")
    rows = [r for r in world.table("mr_diffs") if (r["project_id"], r["iid"]) == (mr["project_id"], mr["iid"])]
    file = next((r for r in rows if new_path and r["new_path"] == new_path), None)
    file = file or next((r for r in rows if old_path and r["old_path"] == old_path), None)
    lines = diff_lines(file["diff"]) if file is not None else set()
    if file is None or (position["old_line"], position["new_line"]) not in lines:
        return None
    if position.get("line_range"):
        # The range must start on a line of the same diff, at or above the commented (end) line.
        start, end = position["line_range"]["start"], position["line_range"]["end"]
        if (start.get("old_line"), start.get("new_line")) not in lines:
            return None
        if (end.get("old_line"), end.get("new_line")) != (position["old_line"], position["new_line"]):
            return None
    path_hash = hashlib.sha1(file["new_path"].encode(), usedforsecurity=False).hexdigest()
    old, new = position["old_line"], position["new_line"]
    return position | {
        "old_path": file["old_path"],
        "new_path": file["new_path"],
        "_line_code": f"{path_hash}_{old}_{new}",
    }


def diff_lines(diff: str) -> set[tuple[int | None, int | None]]:
    """(old_line, new_line) of every line of a unified diff: (n, None) removed, (None, n) added, (n, m) kept."""
    lines: set[tuple[int | None, int | None]] = set()
    old = new = 0
    for line in diff.splitlines():
        header = HUNK.match(line)
        if header:
            old, new = int(header.group(1)), int(header.group(2))
        elif line.startswith("-"):
            lines.add((old, None))
            old += 1
        elif line.startswith("+"):
            lines.add((None, new))
            new += 1
        elif line.startswith(" "):
            lines.add((old, new))
            old, new = old + 1, new + 1
    return lines
