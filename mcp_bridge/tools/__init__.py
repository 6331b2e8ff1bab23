"""The tool modules, one per GitLab area. Importing this package records every tool."""

from __future__ import annotations

from mcp_bridge.tools import (  # noqa: F401  (importing a module records its tools)
    branches,
    commits,
    environments,
    graphql_query,
    groups,
    issue_discussions,
    issue_links,
    issues,
    labels_milestones,
    members,
    merge_requests,
    pipelines,
    projects,
    reactions,
    releases,
    repository,
    repository_files,
    search,
    snippets,
    time_tracking,
    uploads,
    users,
    variables,
    webhooks,
    wiki,
    work_items,
)
