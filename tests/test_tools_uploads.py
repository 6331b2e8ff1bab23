"""Markdown uploads through the MCP SDK client (alice by default: maintainer of acme/app, bob developer).

The seed (tests/gitlab_sim/areas/uploads.py): acme/app has bob's text upload crash.log (61 lines) and a
PNG screen.png.
"""

from __future__ import annotations

import base64
from typing import Any

from mcp_bridge.tools.uploads import MAX_UPLOAD_BYTES
from tests.gitlab_sim.areas.uploads import LOG_SECRET, PNG_SECRET

APP = {"project": "acme/app"}


def ok(result: Any) -> Any:
    assert not result.is_error, result
    return result.structured_content


def uploads_sent(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == "POST" and r["path"].endswith("/uploads")]


async def test_upload_text_returns_the_markdown_and_reads_back(mcp, sim):
    sent = ok(await mcp.call("upload_file", **APP, filename="notes.txt", content="line one\nline two\n"))
    assert sent["markdown"] == f"[notes.txt]({sent['url']})" and sent["size"] == 18
    assert sent["url"].startswith("/uploads/") and sent["full_path"].startswith("/-/project/101/uploads/")
    read = ok(await mcp.call("read_upload", **APP, link=sent["markdown"]))
    assert (read["binary"], read["content"], read["total_lines"]) == (False, "line one\nline two", 2)
    assert read["content_type"].startswith("text/plain")


async def test_upload_an_image_from_base64_embeds_it(mcp):
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(100)).decode()
    sent = ok(await mcp.call("upload_file", **APP, filename="shot.png", content=png, encoding="base64"))
    assert sent["markdown"] == f"![shot]({sent['url']})" and sent["size"] == 108
    read = ok(await mcp.call("read_upload", **APP, link=f"http://gitlab.sim/acme/app{sent['url']}"))
    assert (read["binary"], read["size"], read["content_type"]) == (True, 108, "image/png")
    assert "content" not in read


async def test_an_upload_over_the_cap_is_refused_before_anything_is_sent(mcp, sim, text_of):
    sim.requests()  # nothing else matters: the log is reset per test
    big = await mcp.call("upload_file", **APP, filename="big.txt", content="x" * (MAX_UPLOAD_BYTES + 1))
    assert big.is_error and f"this server uploads at most {MAX_UPLOAD_BYTES:,}" in text_of(big)
    huge = base64.b64encode(bytes(MAX_UPLOAD_BYTES + 1)).decode()
    big64 = await mcp.call("upload_file", **APP, filename="big.bin", content=huge, encoding="base64")
    assert big64.is_error and "Nothing was sent to GitLab" in text_of(big64)
    assert uploads_sent(sim) == []


async def test_wrapped_base64_is_accepted_and_a_name_cannot_climb_into_a_path(mcp):
    wrapped = "\n".join(["aGVsbG8g", "d29ybGQ="])  # base64 as tools print it, in lines
    sent = ok(await mcp.call("upload_file", **APP, filename="../etc/hi.txt", content=wrapped, encoding="base64"))
    assert sent["size"] == 11 and sent["url"].endswith("/.._etc_hi.txt")
    assert ok(await mcp.call("read_upload", **APP, link=sent["url"]))["content"] == "hello world"


async def test_oversized_base64_is_refused_without_decoding_it(mcp, sim, text_of):
    result = await mcp.call("upload_file", **APP, filename="x.bin", content="A" * 3_000_000, encoding="base64")
    assert result.is_error and "The file is 2,250,000 bytes" in text_of(result)
    assert uploads_sent(sim) == []


async def test_bad_upload_input_is_refused_readably(mcp, sim, text_of):
    empty = await mcp.call("upload_file", **APP, filename="a.txt")
    assert empty.is_error and "'content' is required" in text_of(empty)
    garbage = await mcp.call("upload_file", **APP, filename="a.bin", content="not base64!", encoding="base64")
    assert garbage.is_error and "not valid base64" in text_of(garbage)
    assert uploads_sent(sim) == []


async def test_upload_to_a_hidden_project_says_not_found(mcp, text_of):
    hidden = await mcp.call("upload_file", project="bob/secret", filename="a.txt", content="a")
    assert hidden.is_error and "Upload to bob/secret not found or you have no access: 404 Project Not Found" in text_of(
        hidden
    )


async def test_read_a_seeded_log_in_windows(mcp):
    first = ok(await mcp.call("read_upload", **APP, link=f"/uploads/{LOG_SECRET}/crash.log", line_count=10))
    assert (first["first_line"], first["last_line"], first["total_lines"], first["truncated"]) == (1, 10, 61, True)
    last = ok(await mcp.call("read_upload", **APP, link=f"see /uploads/{LOG_SECRET}/crash.log", start_line=61))
    assert last["content"] == "Traceback: SAMLError"
    png = ok(await mcp.call("read_upload", **APP, link=f"![screen](/uploads/{PNG_SECRET}/screen.png)"))
    assert png["binary"] is True


async def test_read_upload_errors(mcp, mcp_as, text_of):
    no_link = await mcp.call("read_upload", **APP, link="screen.png")
    assert no_link.is_error and "no '/uploads/<32-hex secret>/<filename>' part" in text_of(no_link)
    missing = await mcp.call("read_upload", **APP, link=f"/uploads/{LOG_SECRET}/other.log")
    assert missing.is_error and "Upload other.log in acme/app not found" in text_of(missing)
    developer = await mcp_as("bob").call("read_upload", **APP, link=f"/uploads/{LOG_SECRET}/crash.log")
    assert developer.is_error and "403 Forbidden" in text_of(developer)


async def test_read_only_mode_keeps_read_upload_and_hides_upload_file(mcp_with, sim):
    server = mcp_with(GITLAB_READ_ONLY_MODE=True, GITLAB_TOOLSETS=["uploads"])
    async with server.connect() as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert names == {"read_upload"}
