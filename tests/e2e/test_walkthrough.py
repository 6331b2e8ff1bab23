"""docs/walkthrough.md stays true: its pictures are the ones tests/walkthrough.py takes, its ./.env is
the one that run uses, and the run itself (simulator, server, mcp-remote, device_login, chromium)
goes through from the first page to the exported audit CSV."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import ROOT
from tests.walkthrough import ENV_FILE_LINES

DOC = (ROOT / "docs" / "walkthrough.md").read_text()
SCRIPT = (ROOT / "tests" / "walkthrough.py").read_text()
TAKEN = set(re.findall(r'run\.shot\(\s*\w+,\s*"([\w.-]+\.png)"', SCRIPT))


def test_every_picture_the_walkthrough_shows_is_taken_by_the_capture_and_committed():
    shown = set(re.findall(r"\]\(screenshots/([\w.-]+\.png)\)", DOC))
    assert len(TAKEN) >= 12
    assert shown == TAKEN
    for name in shown:
        assert (ROOT / "docs" / "screenshots" / name).stat().st_size < 200_000, name  # small PNGs


def test_the_env_file_of_the_walkthrough_is_the_one_the_capture_runs_with():
    block = DOC.split("cat > .env <<EOF\n")[1].split("\nEOF")[0]
    shown = dict(line.split("=", 1) for line in block.splitlines())
    assert set(shown) == set(ENV_FILE_LINES)
    assert {k: v for k, v in shown.items() if k != "OAUTH_SESSION_SECRET"} == {
        k: v for k, v in ENV_FILE_LINES.items() if k != "OAUTH_SESSION_SECRET"
    }


@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the walkthrough runs on SQLite whatever the suite uses; once per run is enough",
)
def test_the_walkthrough_goes_through_from_a_fresh_server_to_the_audit_csv(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "tests.walkthrough", "--out", str(tmp_path), "--any-port"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
    assert {p.name for p in tmp_path.glob("*.png")} == TAKEN
    terminal = (tmp_path / "walkthrough-terminal.txt").read_text()
    assert '"username": "alice"' in terminal  # Claude Desktop's mcp-remote acts as alice
    assert "Signed in. Tokens written to tokens.json." in terminal  # the device code sign-in
    assert "\n401\n" in terminal  # the revoked connection's token is refused
    assert "connection.revoked" in terminal and '"bob"' in terminal  # and the CSV says so
