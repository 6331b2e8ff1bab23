"""Markdown uploads: attach a file (a screenshot, a log) to a project so that an issue, a merge request
or a comment can embed it, and read a file such a text links to (doc/api/project_markdown_uploads.md).

The model passes the file inline, as text or base64, so the size is capped here, before anything is
sent: a refused upload costs GitLab nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import Field

from mcp_bridge.errors import GitLabRefused
from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import ProjectRef, shared_parameters
from mcp_bridge.paths import path_id
from mcp_bridge.registry import READ, WRITE, tool
from mcp_bridge.shaping import text_window
from mcp_bridge.tools.repository import decode_text

# Inline content costs the model's context, and the SDK refuses MCP requests over 4 MiB, which base64 of
# 2 MiB fits in with room to spare (GitLab's own default cap is 100 MB).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_READ_CHARS = 40_000  # per window of text, about 10k tokens
UPLOAD_FIELDS = ("id", "alt", "url", "full_path", "markdown")
# "/uploads/<32 hex>/<name>", alone or inside a URL or Markdown link (doc/api/project_markdown_uploads.md).
UPLOAD_LINK = re.compile(r"/uploads/(?P<secret>[0-9a-f]{32})/(?P<filename>[^/?#)\s]+)")


class UploadRefused(GitLabRefused):
    """Bad upload input, refused before any request."""


def _content(content: str, encoding: str) -> bytes:
    if encoding == "text":
        data = content.encode()
    else:
        if len(content) > (MAX_UPLOAD_BYTES + 2) // 3 * 4 + 4:  # refuse before decoding it
            raise _too_large(len(content) * 3 // 4)
        try:
            data = base64.b64decode("".join(content.split()), validate=True)
        except (binascii.Error, ValueError):
            raise UploadRefused("content is not valid base64. Nothing was sent.", refused="bad upload") from None
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large(len(data))
    return data


def _too_large(size: int) -> UploadRefused:
    return UploadRefused(
        f"The file is {size:,} bytes; this server uploads at most {MAX_UPLOAD_BYTES:,}. Nothing was sent to GitLab.",
        refused="upload too large",
        size=size,
    )


@tool(WRITE, "uploads", routes=("POST /projects/:id/uploads",))
async def upload_file(
    project: ProjectRef,
    filename: Annotated[str, Field(description="Name shown for the file, e.g. 'screenshot.png'.", min_length=1)],
    content: Annotated[str, Field(description="The file's content: text, or base64 of its bytes (images).")],
    encoding: Annotated[Literal["text", "base64"], Field(description="How content is given.")] = "text",
) -> dict[str, Any]:
    """Upload a file (at most 2 MB) to a project, to attach it to an issue, merge request or comment.
    Returns 'markdown' to paste into the text (images show inline) and its url."""
    data = _content(content, encoding)
    name = filename.strip().replace("/", "_").replace("\\", "_") or "file"  # one name, never a path
    result = await gitlab().upload(
        f"/projects/{path_id(project)}/uploads", what=f"Upload to {project}", filename=name, content=data
    )
    return {**{k: result[k] for k in UPLOAD_FIELDS if k in result}, "size": len(data)}


@tool(READ, "uploads", routes=("GET /projects/:id/uploads/:secret/:filename",))
@shared_parameters(text_window, after="max_chars")
async def read_upload(
    project: ProjectRef,
    link: Annotated[
        str,
        Field(
            description="The upload as the text links it: '/uploads/<secret>/<name>', a full URL or the Markdown.",
            min_length=1,
        ),
    ],
    **reading: Any,
) -> dict[str, Any]:
    """Read a file attached to an issue, merge request or comment of a project (Maintainer role; GitLab
    17.4+). Text comes as a window of lines; binary files (images) give type and size only."""
    found = UPLOAD_LINK.search(link)
    if found is None:
        raise UploadRefused(
            "link holds no '/uploads/<32-hex secret>/<filename>' part. Nothing was sent.", refused="bad upload"
        )
    secret, filename = found["secret"], unquote(found["filename"])
    response = await gitlab().raw(
        f"/projects/{path_id(project)}/uploads/{secret}/{path_id(filename)}", what=f"Upload {filename} in {project}"
    )
    raw = response.content
    about = {"filename": filename, "size": len(raw), "content_type": response.headers.get("content-type", "")}
    text = decode_text(raw)
    if text is None:
        return {**about, "binary": True, "hint": "Binary file: content not shown."}
    window = text_window(text, MAX_READ_CHARS, **reading)
    return {**about, "binary": False, **window}
