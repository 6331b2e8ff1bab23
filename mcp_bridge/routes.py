"""The GitLab operations a tool may send, declared as GitLab's API docs write them, and their matcher.

A tool declares its routes once, `@tool(..., routes=("DELETE /projects/:id/labels/:label_id",))`;
paths are relative to /api/v4. `:name` is exactly one non-empty path segment that is not '.' or '..';
`*name` is one or more of them (a file inside an artifacts archive). The templates are compiled once,
into one regex per tool, because every request a tool sends is checked against it (gitlab.GitLab).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
SAFE_METHODS = frozenset({"GET", "HEAD"})
SEGMENT = r"(?!\.\.?(?:/|$))[^/]+"  # one segment, never a dot segment
TEMPLATE = re.compile(r"(?P<method>[A-Z]+) (?P<path>(?:/[^/?#\s]+)+)")


@dataclass(frozen=True, slots=True)
class Routes:
    """Declared templates and the one regex over "METHOD /path" that matches any of them."""

    templates: tuple[str, ...]
    pattern: re.Pattern[str] | None  # None: nothing declared, so nothing is allowed

    def allows(self, method: str, path: str) -> bool:
        """Whether `method` `path` (relative to /api/v4; a query string is ignored) is declared."""
        path = path.split("?", 1)[0]
        return self.pattern is not None and self.pattern.fullmatch(f"{method} {path}") is not None


def compile_routes(templates: Iterable[str]) -> Routes:
    """Routes from templates like "GET /projects/:id/jobs/:job_id/artifacts/*artifact_path"; raises
    ValueError for a malformed one, so that a typo fails at import, not on a user's call."""
    templates = tuple(templates)
    alternatives = [_regex(template) for template in templates]
    pattern = re.compile("|".join(f"(?:{alt})" for alt in alternatives)) if alternatives else None
    return Routes(templates, pattern)


def _regex(template: str) -> str:
    found = TEMPLATE.fullmatch(template)
    if found is None or found["method"] not in METHODS:
        raise ValueError(f"route {template!r}: expected 'METHOD /path/:param', e.g. 'GET /projects/:id'")
    parts = []
    for segment in found["path"].split("/")[1:]:
        if re.fullmatch(r":\w+", segment):
            parts.append(SEGMENT)
        elif re.fullmatch(r"\*\w+", segment):
            parts.append(f"{SEGMENT}(?:/{SEGMENT})*")
        elif segment in (".", "..") or not re.fullmatch(r"[\w.~-]+", segment):
            raise ValueError(f"route {template!r}: {segment!r} is neither a literal segment nor a :param")
        else:
            parts.append(re.escape(segment))
    return re.escape(found["method"]) + " /" + "/".join(parts)
