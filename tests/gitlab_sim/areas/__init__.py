"""The simulator's API areas. Each module has `register(router)` and `seed(world)`."""

from __future__ import annotations

from tests.gitlab_sim.areas import issues, merge_requests, pipelines, projects, repository, users

ALL = (users, projects, issues, merge_requests, pipelines, repository)
