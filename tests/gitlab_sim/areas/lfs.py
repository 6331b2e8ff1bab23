"""Git LFS in the simulated repositories (doc/topics/git/lfs/_index.md, doc/api/repository_files.md).

A file tracked by LFS is stored in git as a small pointer text; its content lives in the project's LFS
objects. GET .../files/:file_path/raw sends the pointer, or the content when `lfs=true` and the object
was uploaded (lib/api/files.rb: otherwise the pointer). acme/website tracks *.csv and *.mp4: the csv
and the mp4 were uploaded, media/missing.mp4 was not. The mp4 sits in object storage without proxied
downloads, so GitLab answers with a redirect to it. Not a router area: repository uses it.
"""

from __future__ import annotations

import hashlib
import re

from tests.gitlab_sim.world import World

POINTER = re.compile(rb"\Aversion https://git-lfs\.github\.com/spec/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n\Z")
GITATTRIBUTES = b"*.csv filter=lfs diff=lfs merge=lfs -text\n*.mp4 filter=lfs diff=lfs merge=lfs -text\n"
PRICES = b"sku,name,price\n" + b"".join(b"A%03d,Widget %d,%d.99\n" % (n, n, n) for n in range(1, 41))
VIDEO = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 8
MISSING = b"this object was never pushed"


def pointer(content: bytes) -> bytes:
    oid = hashlib.sha256(content).hexdigest()
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(content)}\n".encode()


def website_files() -> dict[str, bytes]:
    """The LFS-tracked files of acme/website's first commit, as git stores them (pointers)."""
    return {
        ".gitattributes": GITATTRIBUTES,
        "data/prices.csv": pointer(PRICES),
        "media/intro.mp4": pointer(VIDEO),
        "media/missing.mp4": pointer(MISSING),
    }


def seed(world: World, project_id: int) -> None:
    objects = world.extra.setdefault("lfs_objects", {})
    for content in (PRICES, VIDEO):  # MISSING stays a pointer only
        objects[(project_id, hashlib.sha256(content).hexdigest())] = content


def content(world: World, project_id: int, data: bytes) -> bytes | str | None:
    """The LFS object a pointer stands for, if the project has it: its bytes, or the object storage
    URL GitLab redirects to."""
    found = POINTER.match(data)
    if found is None:
        return None
    oid = found.group(1).decode()
    if oid == hashlib.sha256(VIDEO).hexdigest():
        return f"https://objects.example.com/lfs-objects/{oid[:2]}/{oid[2:4]}/{oid[4:]}?X-Amz-Expires=600"
    return world.extra.get("lfs_objects", {}).get((project_id, oid))
