"""Simulated GitLab API: labels and milestones of projects and groups (doc/api/labels.md,
doc/api/group_labels.md, doc/api/milestones.md, doc/api/group_milestones.md).

Rows: world.table("labels") holds {id, name, color, description, priority, archived} plus `project_id`
or `group_id`; the entity (text colour, counts, is_project_label) is built per request. Issues and
merge requests carry label *names*, so renaming or deleting a label rewrites them, as GitLab's label
ids do. Milestones: world.table("milestones") (201 v1.0 closed and 202 v1.1 active in acme/app, seeded
by the issues area, which embeds the same row objects in its issues); this area adds 203 in
acme/website and group milestone 301 in acme. Group visibility comes from the variables area.

Roles (project_policy.rb): reading needs guest (or a public project); admin_label and admin_milestone
need reporter. Errors as lib/api/helpers/label_helpers.rb and lib/api/milestone_responses.rb give them.
"""

from __future__ import annotations

from tests.gitlab_sim.areas.labels_milestones.labels import (
    create_label,
    delete_label,
    get_label,
    list_group_labels,
    list_labels,
    update_label,
)
from tests.gitlab_sim.areas.labels_milestones.milestones import (
    create_milestone,
    get_milestone,
    list_group_milestones,
    list_milestone_issues,
    list_milestone_merge_requests,
    list_milestones,
    update_milestone,
)
from tests.gitlab_sim.areas.labels_milestones.seeded import seed
from tests.gitlab_sim.http import Router

__all__ = ["register", "seed"]


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/labels")(list_labels)
    router.route("POST", "/projects/:id/labels")(create_label)
    router.route("GET", "/projects/:id/labels/:label_id")(get_label)
    router.route("PUT", "/projects/:id/labels/:label_id")(update_label)
    router.route("DELETE", "/projects/:id/labels/:label_id")(delete_label)
    router.route("GET", "/groups/:id/labels")(list_group_labels)
    router.route("GET", "/projects/:id/milestones")(list_milestones)
    router.route("POST", "/projects/:id/milestones")(create_milestone)
    router.route("GET", "/projects/:id/milestones/:milestone_id")(get_milestone)
    router.route("PUT", "/projects/:id/milestones/:milestone_id")(update_milestone)
    router.route("GET", "/projects/:id/milestones/:milestone_id/issues")(list_milestone_issues)
    router.route("GET", "/projects/:id/milestones/:milestone_id/merge_requests")(list_milestone_merge_requests)
    router.route("GET", "/groups/:id/milestones")(list_group_milestones)
