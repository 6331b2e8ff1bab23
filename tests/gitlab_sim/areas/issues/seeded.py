"""The issues area's seed: 25 issues in acme/app, 3 in acme/website, 1 in bob/secret, notes and links."""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.areas.issues.links import add_link
from tests.gitlab_sim.areas.issues.rows import Issue, add_issue, add_note
from tests.gitlab_sim.world import SIM_URL, World

# --- seed --------------------------------------------------------------------------------------
APP_TITLES = (
    "Login fails with SSO",
    "Add dark mode",
    "Crash when uploading an avatar",
    "Export reports as CSV",
    "Search ignores accents",
    "Slow dashboard on large accounts",
    "Security: session fixation on logout",
    "Document the REST API",
    "Password reset email never arrives",
    "Remember the last opened project",
    "Broken pagination on the users page",
    "Dates shown in the wrong timezone",
    "Memory leak in the background worker",
    "Upgrade to Django 5",
    "Keyboard shortcuts for the editor",
    "Notifications are sent twice",
    "Add an audit log",
    "Typo in the settings page",
    "Mobile layout overflows",
    "Rate limit the public API",
    "Webhook retries never stop",
    "Allow SVG avatars",
    "Improve onboarding checklist",
    "Flaky test in the billing suite",
    "Archive old projects automatically",
)


LABEL_SETS = (("documentation",), ("bug",), ("feature",), ("bug", "critical"), ())  # by iid % 5


ASSIGNEE_SETS = ((1, 2), (1,), (2,), ())  # by iid % 4


def seed(world: World) -> None:
    milestones = world.table("milestones")
    milestones.append(_milestone(201, 1, "v1.0", "2024-05-01", "closed"))
    milestones.append(_milestone(202, 2, "v1.1", "2024-08-01", "active"))
    _seed_app(world, world.projects[101])
    website = world.projects[102]
    add_issue(world, website, author=1, title="Typo on the homepage", labels=["content"])
    add_issue(world, website, author=1, title="New pricing before the launch", confidential=True)
    locked = add_issue(world, website, author=1, title="Broken link in the footer", labels=["bug"])
    locked["discussion_locked"] = True
    add_note(world, locked, author=1, body="Locked: fixed in the next deploy.")
    hidden = add_issue(world, world.projects[104], author=2, title="Secret launch plan", assignees=[2])
    add_note(world, hidden, author=2, body="Do not share.")
    world.projects[103]["issues_enabled"] = False  # alice/notes: creating an issue there is a 403
    app = [i for i in world.table("issues") if i["project_id"] == 101]
    add_link(world, app[0], app[1], "relates_to")
    add_link(world, app[0], app[2], "is_blocked_by")
    add_link(world, app[0], hidden, "relates_to")


def _seed_app(world: World, app: dict[str, Any]) -> None:
    """acme/app: authors alternate alice/bob, every 5th is closed, milestones on #1-#15."""
    for n, title in enumerate(APP_TITLES, start=1):
        updated = f"2024-05-{(n * 11) % 29 + 1:02d}T12:00:00.000Z"  # an order unlike created_at's
        fields: dict[str, Any] = {"updated_at": updated, "confidential": n in (7, 14), "upvotes": n % 7}
        fields |= {"description": f"Reported by a customer of the Acme app (ticket {1000 + n}).", "due_date": None}
        if n % 3 == 0:
            fields["due_date"] = f"2024-06-{n:02d}"
        if n % 5 == 0:
            fields |= {"state": "closed", "closed_at": updated, "closed_by": world.user_ref(1)}
        issue = add_issue(
            world,
            app,
            author=1 if n % 2 else 2,
            title=title,
            labels=LABEL_SETS[n % 5],
            assignees=ASSIGNEE_SETS[n % 4],
            milestone_id=201 if n <= 10 else 202 if n <= 15 else None,
            created_at=f"2024-04-{n:02d}T10:00:00.000Z",
            **fields,
        )
        if n == 1:
            issue["description"] = "SAML sign-in loops back to the login page."
            _seed_conversation(world, issue)


def _seed_conversation(world: World, issue: Issue) -> None:
    add_note(world, issue, author=2, body="I can reproduce this on staging.", at="2024-04-01T11:00:00.000Z")
    add_note(world, issue, author=1, body="added ~bug label", system=True, at="2024-04-01T11:05:00.000Z")
    add_note(world, issue, author=1, body="Root cause: the SAML certificate expired.", at="2024-04-01T12:00:00.000Z")
    add_note(world, issue, author=1, body="Customer is Initech.", internal=True, at="2024-04-01T12:30:00.000Z")


def _milestone(mid: int, iid: int, title: str, due: str, state: str) -> dict[str, Any]:
    """The milestone object GitLab embeds in issues (doc/api/milestones.md); both belong to acme/app."""
    return {
        "id": mid,
        "iid": iid,
        "project_id": 101,
        "title": title,
        "description": "",
        "state": state,
        "created_at": "2024-03-01T09:00:00.000Z",
        "updated_at": "2024-03-01T09:00:00.000Z",
        "due_date": due,
        "start_date": None,
        "expired": state == "closed",
        "web_url": f"{SIM_URL}/acme/app/-/milestones/{iid}",
    }
