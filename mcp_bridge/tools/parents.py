"""The project or group a tool works on, where GitLab has the same API for both (labels,
milestones, variables, webhooks, wikis): the twin tools, list_labels and list_group_labels say, keep
their own names, arguments and descriptions, and share one implementation that takes a Parent."""

from __future__ import annotations

from dataclasses import dataclass

from mcp_bridge.paths import path_id


@dataclass(frozen=True, slots=True)
class Parent:
    """Where the parent's API lives, and how error messages name it."""

    path: str  # "/projects/acme%2Fapp", "/groups/acme"
    name: str  # "acme/app", "group acme"

    @classmethod
    def project(cls, project: str) -> Parent:
        return cls(f"/projects/{path_id(project)}", project)

    @classmethod
    def group(cls, group: str) -> Parent:
        return cls(f"/groups/{path_id(group)}", f"group {group}")
