"""The labels and milestones area's seed."""

from __future__ import annotations

from tests.gitlab_sim.areas.labels_milestones.labels import Row
from tests.gitlab_sim.world import SIM_URL, World

# --- seed --------------------------------------------------------------------------------------
# (id, project id or None, group id or None, name, color, description, priority)
LABELS = (
    (801, 101, None, "bug", "#d9534f", "Something is broken", 1),
    (802, 101, None, "critical", "#ff0000", "Needs a fix now", 0),
    (803, 101, None, "documentation", "#f0ad4e", "Docs and guides", None),
    (804, 101, None, "feature", "#5cb85c", "New functionality", None),
    (805, 101, None, "frontend", "#428bca", None, None),
    (806, 101, None, "backend", "#8e44ad", None, None),
    (807, 101, None, "refactor", "#eee", None, None),
    (808, 101, None, "chore", "#cccccc", None, None),
    (811, 102, None, "content", "#69d100", "Copy and images", None),
    (812, 102, None, "bug", "#d9534f", None, None),
    (821, 104, None, "secret-plan", "#000000", "Nobody but bob", None),
    (831, None, 10, "priority::high", "#dc143c", "Acme-wide: do this first", None),
    (832, None, 10, "team::platform", "#1f75cb", "Acme-wide: the platform team", None),
)


def seed(world: World) -> None:
    for lid, pid, gid, name, color, description, priority in LABELS:
        label = {"id": lid, "name": name, "color": color, "description": description, "archived": False}
        owner = {"project_id": pid, "priority": priority} if pid else {"group_id": gid}
        world.table("labels").append(label | owner)
    milestones = world.table("milestones")
    milestones.append(_milestone(203, 1, {"project_id": 102}, "Launch", "2030-01-15", "acme/website"))
    milestones.append(_milestone(301, 1, {"group_id": 10}, "Q3 planning", "2030-09-30", "groups/acme"))


def _milestone(mid: int, iid: int, owner: Row, title: str, due: str, path: str) -> Row:
    when = "2024-03-02T09:00:00.000Z"
    return {
        "id": mid,
        "iid": iid,
        **owner,
        "title": title,
        "description": f"{title} milestone",
        "state": "active",
        "created_at": when,
        "updated_at": when,
        "due_date": due,
        "start_date": "2024-03-01",
        "expired": False,
        "web_url": f"{SIM_URL}/{path}/-/milestones/{iid}",
    }
