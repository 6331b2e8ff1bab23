"""get_file on Git LFS files: the content, not the pointer (acme/website tracks *.csv and *.mp4 with LFS;
data/prices.csv was uploaded, media/intro.mp4 sits in object storage, media/missing.mp4 was never pushed)."""

from __future__ import annotations

from tests.gitlab_sim.areas.lfs import MISSING, PRICES

SITE = {"project": "acme/website"}


async def test_an_lfs_file_reads_as_its_content(mcp, sim):
    result = await mcp.call("get_file", file_path="data/prices.csv", **SITE)
    assert not result.is_error, result
    file = result.structured_content
    assert file["content"].splitlines()[:2] == ["sku,name,price", "A001,Widget 1,1.99"]
    assert file["total_lines"] == 41 and file["size"] == len(PRICES) and "version https" not in file["content"]
    sent = [r for r in sim.requests() if r["path"].endswith("/raw")][-1]
    assert "lfs=true" in sent["query"]


async def test_an_lfs_file_without_its_object_is_reported_as_a_pointer(mcp):
    file = (await mcp.call("get_file", file_path="media/missing.mp4", **SITE)).structured_content
    assert file["lfs"]["size"] == len(MISSING) and len(file["lfs"]["oid"]) == 64
    assert "content" not in file and "Git LFS pointer" in file["hint"]


async def test_an_lfs_file_in_object_storage_is_described_not_dumped(mcp):
    file = (await mcp.call("get_file", file_path="media/intro.mp4", **SITE)).structured_content
    assert file["lfs"] is True and "content" not in file and "object storage" in file["hint"]


async def test_lfs_true_leaves_ordinary_files_alone(mcp):
    attributes = (await mcp.call("get_file", file_path=".gitattributes", **SITE)).structured_content
    assert attributes["content"].startswith("*.csv filter=lfs") and "lfs" not in attributes


async def test_an_lfs_file_that_is_missing_is_a_tool_error(mcp, text_of):
    result = await mcp.call("get_file", file_path="data/ghost.csv", **SITE)
    assert result.is_error and "File data/ghost.csv at the default branch in acme/website not found" in text_of(result)
