"""The tool modules, one per GitLab area. Importing this package records every tool."""

from __future__ import annotations

from mcp_bridge.tools import projects, users

AREAS = (projects, users)
