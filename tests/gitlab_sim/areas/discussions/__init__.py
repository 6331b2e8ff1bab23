"""Simulated GitLab API: merge request notes, threads and draft notes (doc/api/notes.md,
doc/api/discussions.md, doc/api/draft_notes.md).

Rows: MR notes live in world.table("notes") with noteable_type "MergeRequest" and a private
"_discussion_id" (keys starting with "_" never leave the simulator); world.table("draft_notes") holds
draft notes in GitLab's DraftNote shape plus "_project_id"/"_iid". Seed on acme/app !1 (author bob):
an open diff thread by alice with bob's reply, a resolved diff thread, bob's comment mentioning #1,
a system note, and a draft by bob; on acme/website !1 an open thread by alice.
"""

from __future__ import annotations

from tests.gitlab_sim.areas.discussions.drafts import (
    DRAFT_FIELDS,
    create_draft,
    list_drafts,
    my_drafts,
    publish,
    publish_drafts,
)
from tests.gitlab_sim.areas.discussions.lookups import (
    discussion,
    merge_request_in_path,
    mr_notes,
    public,
    resolve_thread,
)
from tests.gitlab_sim.areas.discussions.notes import create_note, delete_note, update_note
from tests.gitlab_sim.areas.discussions.positions import empty_position, position_arg
from tests.gitlab_sim.areas.discussions.rows import add_mr_note
from tests.gitlab_sim.areas.discussions.seeded import seed
from tests.gitlab_sim.areas.discussions.threads import create_discussion, list_discussions, reply, resolve_discussion
from tests.gitlab_sim.http import Router

__all__ = [
    "DRAFT_FIELDS",
    "add_mr_note",
    "discussion",
    "empty_position",
    "merge_request_in_path",
    "mr_notes",
    "my_drafts",
    "position_arg",
    "public",
    "publish",
    "register",
    "resolve_thread",
    "seed",
]


def register(router: Router) -> None:
    base = "/projects/:id/merge_requests/:merge_request_iid"
    router.route("GET", f"{base}/discussions")(list_discussions)
    router.route("POST", f"{base}/discussions")(create_discussion)
    router.route("PUT", f"{base}/discussions/:discussion_id")(resolve_discussion)
    router.route("POST", f"{base}/discussions/:discussion_id/notes")(reply)
    router.route("POST", f"{base}/notes")(create_note)
    router.route("PUT", f"{base}/notes/:note_id")(update_note)
    router.route("DELETE", f"{base}/notes/:note_id")(delete_note)
    router.route("GET", f"{base}/draft_notes")(list_drafts)
    router.route("POST", f"{base}/draft_notes")(create_draft)
    router.route("POST", f"{base}/draft_notes/bulk_publish")(publish_drafts)
