"""The simulator's API areas. Each module has `register(router)` and `seed(world)`; seeds run in
this order, so an area may use what an earlier one seeded."""

from __future__ import annotations

from tests.gitlab_sim.areas import (
    branches,
    ci,
    commits,
    discussions,
    environments,
    groups,
    instance,
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

ALL = (
    instance,
    users,
    groups,
    projects,
    repository,
    branches,
    commits,
    issues,
    labels_milestones,
    merge_requests,
    discussions,
    pipelines,
    ci,
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
