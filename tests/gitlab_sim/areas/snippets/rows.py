"""Snippet rows, and the snippets area's seed."""

from __future__ import annotations

from typing import Any

from tests.gitlab_sim.areas.snippets.rules import Snippet
from tests.gitlab_sim.world import World, now


# --- rows ----------------------------------------------------------------------------------------
def add_snippet(
    world: World,
    author: int,
    project: dict[str, Any] | None,
    title: str,
    visibility: str,
    files: list[dict[str, str]],
    description: str | None = None,
    *,
    sid: int | None = None,
    at: str | None = None,
) -> Snippet:
    when = at or now()
    snippet = {
        "id": sid or world.next_id(),
        "title": title,
        "description": description,
        "visibility": visibility,
        "author": world.user_ref(author),
        "created_at": when,
        "updated_at": when,
        "project_id": project["id"] if project else None,
        "imported": False,
        "imported_from": "none",
        "_files": [dict(f) for f in files],
        "_project_path": project["path_with_namespace"] if project else None,
    }
    if project is None:
        snippet["expires_at"] = None  # Entities::PersonalSnippet
    world.table("snippets").append(snippet)
    return snippet


def fixtures_csv() -> str:
    """A long snippet: a header and 599 rows "n,item-n,n*3"."""
    return "id,name,qty\n" + "".join(f"{n},item-{n},{n * 3}\n" for n in range(1, 600))


def seed(world: World) -> None:
    world.projects[103]["snippets_enabled"] = False  # a field of GET /projects/:id; missing means true
    app, site, secret = world.projects[101], world.projects[102], world.projects[104]
    day = "2024-03-{:02d}T10:00:00.000Z".format
    checklist = "# Deploy checklist\n\n1. Tag the release\n2. Run scripts/deploy.sh\n3. Watch the dashboard\n"
    deploy = [{"path": "deploy.md", "content": checklist}]
    add_snippet(
        world, 1, app, "Deploy checklist", "private", deploy, "Steps for a production deploy.", sid=301, at=day(1)
    )
    fixtures = [{"path": "fixtures.csv", "content": fixtures_csv()}]
    add_snippet(world, 2, app, "Test fixtures", "internal", fixtures, sid=302, at=day(2))
    nginx = [
        {"path": "nginx.conf", "content": "server {\n    listen 80;\n    server_name app.acme.example;\n}\n"},
        {"path": "README.md", "content": "Copy nginx.conf to /etc/nginx/sites-enabled/.\n"},
    ]
    add_snippet(world, 1, app, "Nginx config", "private", nginx, sid=303, at=day(3))
    embed = [{"path": "embed.html", "content": '<script src="https://acme.example/widget.js"></script>\n'}]
    add_snippet(world, 1, site, "Embed code", "public", embed, "Paste into any page.", sid=304, at=day(4))
    keys = [{"path": "analytics.txt", "content": "Analytics account: acme-web\n"}]
    add_snippet(world, 1, site, "Analytics notes", "private", keys, sid=305, at=day(5))
    codes = [{"path": "codes.txt", "content": "0000\n"}]
    add_snippet(world, 2, secret, "Launch codes", "private", codes, sid=306, at=day(6))
    for sid, author, title, visibility, path, content in (
        (311, 1, "Git aliases", "private", ".gitconfig", "[alias]\n    st = status\n    co = checkout\n"),
        (312, 1, "Useful SQL", "public", "queries.sql", "SELECT count(*) FROM users;\n"),
        (313, 2, "Scratch", "private", "scratch.txt", "bob's private notes\n"),
        (314, 2, "Shell tip", "public", "tip.sh", "set -euo pipefail\n"),
        (315, 3, "Team lunch", "internal", "lunch.md", "Fridays at noon.\n"),
    ):
        files = [{"path": path, "content": content}]
        add_snippet(world, author, None, title, visibility, files, sid=sid, at=day(sid - 300))
