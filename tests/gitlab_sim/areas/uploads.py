"""Simulated GitLab API: Markdown uploads of a project (doc/api/project_markdown_uploads.md).

Rows: world.table("uploads") holds {id, project_id, secret, filename, _content (bytes), created_at,
uploaded_by}. Seed in acme/app: a text log "crash.log" (secret LOG_SECRET) and a PNG "screen.png"
(secret PNG_SECRET), both uploaded by bob.
"""

from __future__ import annotations

import mimetypes
import secrets
from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import Call, Router, error, forbidden, missing_param, not_found
from tests.gitlab_sim.world import MAINTAINER, World, now

LOG_SECRET = "0123456789abcdef0123456789abcdef"
PNG_SECRET = "fedcba9876543210fedcba9876543210"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)
IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".ico", ".tiff")


def register(router: Router) -> None:
    router.route("POST", "/projects/:id/uploads")(create_upload)
    router.route("GET", "/projects/:id/uploads/:secret/:filename")(download_by_secret)


def shown(upload: dict[str, Any]) -> dict[str, Any]:
    """UploadService's answer: alt is the name without extension; images embed with '!'."""
    name, secret = upload["filename"], upload["secret"]
    url = f"/uploads/{secret}/{name}"
    alt = name.rsplit(".", 1)[0] if "." in name else name
    markdown = f"![{alt}]({url})" if name.lower().endswith(IMAGE_TYPES) else f"[{name}]({url})"
    full_path = f"/-/project/{upload['project_id']}/uploads/{secret}/{name}"
    return {"id": upload["id"], "alt": alt, "url": url, "full_path": full_path, "markdown": markdown}


async def create_upload(call: Call) -> Response:
    if call.user_id is None:
        return error(401, "401 Unauthorized")
    file = call.body.get("file")
    if not isinstance(file, UploadFile):
        return missing_param("file")  # Grape: `requires :file, type: ::API::Validations::Types::WorkhorseFile`
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if project.get("archived"):
        return forbidden()
    content = await file.read()
    upload = add_upload(call.world, project["id"], file.filename or "file", content, by=call.user_id)
    return JSONResponse(shown(upload), status_code=201)


async def download_by_secret(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if call.world.access_level(call.user_id, project["id"]) < MAINTAINER:
        return forbidden()  # the docs: at least the Maintainer role
    secret, name = call.params["secret"], call.params["filename"]
    rows = call.world.table("uploads")
    upload = next(
        (u for u in rows if (u["project_id"], u["secret"], u["filename"]) == (project["id"], secret, name)), None
    )
    if upload is None:
        return not_found()
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(upload["_content"], media_type=kind)


def add_upload(
    world: World, project_id: int, filename: str, content: bytes, *, by: int, secret: str = ""
) -> dict[str, Any]:
    upload = {
        "id": world.next_id(),
        "project_id": project_id,
        "secret": secret or secrets.token_hex(16),
        "filename": filename.replace("/", "_"),
        "_content": content,
        "size": len(content),
        "created_at": now(),
        "uploaded_by": world.user_ref(by),
    }
    world.table("uploads").append(upload)
    return upload


def seed(world: World) -> None:
    log = b"".join(f"12:00:{n:02d} worker: retry {n}\n".encode() for n in range(1, 61)) + b"Traceback: SAMLError\n"
    add_upload(world, 101, "crash.log", log, by=2, secret=LOG_SECRET)
    add_upload(world, 101, "screen.png", PNG, by=2, secret=PNG_SECRET)
