"""The discussions area's seed: the threads and notes of acme/app's merge requests."""

from __future__ import annotations

from tests.gitlab_sim.areas.discussions.positions import empty_position
from tests.gitlab_sim.areas.discussions.rows import add_mr_note
from tests.gitlab_sim.areas.merge_requests import find_merge_request
from tests.gitlab_sim.world import World


# --- seed ----------------------------------------------------------------------------------------
def seed(world: World) -> None:
    login = find_merge_request(world, 101, 1)
    footer = find_merge_request(world, 102, 1)
    assert login is not None and footer is not None
    counts = (login["user_notes_count"], footer["user_notes_count"])  # the MR area's seed values stay
    refs = login["diff_refs"]
    on_check = empty_position() | refs | {"old_path": "app/login.py", "new_path": "app/login.py", "new_line": 4}
    on_auth = empty_position() | refs | {"old_path": "app/session.py", "new_path": "app/auth.py", "new_line": 1}
    first = add_mr_note(
        world, login, author=1, body="Should `check` raise on bad input?", type="DiffNote",
        position=on_check, at="2024-04-18T09:00:00.000Z",
    )  # fmt: skip
    add_mr_note(
        world, login, author=2, body="It returns False; I'll add a docstring.", type="DiscussionNote",
        discussion_id=first["_discussion_id"], at="2024-04-18T10:00:00.000Z",
    )  # fmt: skip
    done = add_mr_note(
        world, login, author=1, body="Rename the comment too?", type="DiffNote", position=on_auth,
        at="2024-04-18T11:00:00.000Z",
    )  # fmt: skip
    done |= {"resolved": True, "resolved_by": world.user_ref(2), "resolved_at": "2024-04-19T08:00:00.000Z"}
    add_mr_note(
        world, login, author=2, body="Ready for another look; this also helps with #1.", at="2024-04-19T09:00:00.000Z"
    )
    add_mr_note(world, login, author=2, body="requested review from @alice", system=True, at="2024-04-19T09:01:00.000Z")
    add_mr_note(
        world, footer, author=1, body="Check the year on mobile too.", type="DiscussionNote",
        at="2024-04-05T12:00:00.000Z",
    )  # fmt: skip
    world.table("draft_notes").append({
        "id": world.next_id(), "author_id": 2, "merge_request_id": login["id"], "resolve_discussion": False,
        "discussion_id": None, "note": "Nit: add a test for the empty form.", "commit_id": None, "line_code": None,
        "position": empty_position(),
    })  # fmt: skip
    login["user_notes_count"], footer["user_notes_count"] = counts
