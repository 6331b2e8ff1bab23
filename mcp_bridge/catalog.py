"""The tool catalog as Markdown, for the README (`python manage.py readme_tools`)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import mcp_bridge.tools  # noqa: F401  (records every tool)
from mcp_bridge.registry import REGISTRY
from mcp_bridge.toolsets import DEFAULT_TOOLS

START, END = "<!-- tools:start -->", "<!-- tools:end -->"


def tools_markdown() -> str:
    lines = ["| toolset | tool | kind | what it does |", "|---|---|---|---|"]
    for spec in sorted(REGISTRY.values(), key=lambda s: (s.toolset, s.name)):
        kind = "read" if not spec.writes else "destructive" if spec.annotations.destructive_hint else "write"
        summary = " ".join(inspect.cleandoc(spec.fn.__doc__ or "").split())
        first_sentence = re.split(r"(?<=\.)\s", summary, maxsplit=1)[0].replace("|", "\\|")
        star = " ★" if spec.name in DEFAULT_TOOLS else ""
        lines.append(f"| {spec.toolset} | `{spec.name}`{star} | {kind} | {first_sentence} |")
    return "\n".join(lines)


def readme_with_tools(readme: str) -> str:
    """The README text with the section between the markers replaced by the current table."""
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{tools_markdown()}\n{END}{after}"


def update_readme(path: Path) -> bool:
    """Rewrite the README's tool table; True when it changed."""
    old = path.read_text()
    new = readme_with_tools(old)
    if new != old:
        path.write_text(new)
    return new != old
