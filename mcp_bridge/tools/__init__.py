"""The tool modules, one per GitLab area. Importing this package records every tool."""

from __future__ import annotations

from mcp_bridge.tools import (
    branches,
    commits,
    discussions,
    environments,
    groups,
    issues,
    labels_milestones,
    merge_requests,
    pipelines,
    projects,
    reactions,
    releases,
    repository,
    search,
    snippets,
    time_tracking,
    users,
    variables,
    webhooks,
    wiki,
)

AREAS = (
    users,
    groups,
    projects,
    repository,
    branches,
    commits,
    merge_requests,
    discussions,
    issues,
    labels_milestones,
    pipelines,
    variables,
    wiki,
    releases,
    snippets,
    search,
    environments,
    webhooks,
    reactions,
    time_tracking,
)
