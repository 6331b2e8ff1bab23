"""docs/ARCHITECTURE.md matches the code: every module, package and file it names exists, and the
layout keeps the limits the document promises."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
SOURCES = ("config", "mcp_bridge", "oauth_gateway")
NAMED = re.compile(r"`((?:config|mcp_bridge|oauth_gateway|tests|bench|docs|deploy|scripts)/[\w./<>-]*)`")


def named_paths() -> list[str]:
    return sorted(set(NAMED.findall(DOC.read_text())))


def test_every_path_the_document_names_exists() -> None:
    paths = named_paths()
    assert len(paths) > 40  # the walks name modules, not just packages
    missing = [p for p in paths if "<" not in p and not (ROOT / p).exists()]
    assert missing == []
    # A pattern such as tests/test_tools_<area>.py has at least one match.
    for pattern in (p for p in paths if "<" in p):
        assert list(ROOT.glob(re.sub(r"<[^>]+>", "*", pattern))), pattern


def test_the_walks_name_modules_in_order() -> None:
    text = DOC.read_text()
    for walk in ("Walk 1: a tool call", "Walk 2: a sign-in", "Walk 3: a revocation"):
        section = text.split(f"## {walk}", 1)[1].split("\n## ", 1)[0]
        steps = re.findall(r"^\d+\. `([^`]+)`", section, flags=re.M)
        assert steps, walk
        assert all((ROOT / step).is_file() for step in steps), steps


def test_no_module_refers_to_documents_outside_the_repository() -> None:
    citing = [
        str(path.relative_to(ROOT))
        for package in (*SOURCES, "tests", "bench")
        for path in (ROOT / package).rglob("*.py")
        if "DESIGN" + ".md" in path.read_text()
    ]
    assert citing == []


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in (*SOURCES, "tests/gitlab_sim", "bench")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and (n := len(path.read_text().splitlines())) > 400
    }
    assert long == {}


def test_only_config_daphne_reaches_into_daphne_or_twisted() -> None:
    reaching = [
        str(path.relative_to(ROOT))
        for package in SOURCES
        for path in (ROOT / package).rglob("*.py")
        if "daphne" not in path.relative_to(ROOT).parts[:2]
        and re.search(r"^\s*(from|import) (twisted|daphne)\b", path.read_text(), flags=re.M)
    ]
    assert reaching == []


def test_no_test_file_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in (ROOT / "tests").rglob("test_*.py")
        if "node_modules" not in path.parts and (n := len(path.read_text().splitlines())) > 300
    }
    assert long == {}
