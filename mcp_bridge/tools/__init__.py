"""The tool modules, one per GitLab area. Importing this package records every tool."""

from __future__ import annotations

from mcp_bridge.tools import (  # noqa: F401  (importing a module records its tools)
    branches,
    ci,
    commits,
    discussions,
    environments,
    graphql_query,
    groups,
    issue_discussions,
    issues,
    labels_milestones,
    merge_request_review,
    merge_requests,
    merging,
    pipelines,
    projects,
    reactions,
    releases,
    repository,
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
