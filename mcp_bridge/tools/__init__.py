"""The tool modules, one per GitLab area. Importing this package records every tool."""

from __future__ import annotations

from mcp_bridge.tools import issues, merge_requests, pipelines, projects, repository, users

AREAS = (users, projects, repository, issues, merge_requests, pipelines)
