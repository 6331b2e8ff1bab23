"""Take the screenshots of docs/walkthrough.md again, from a real run of what it describes.

    ./scripts/screenshots [--out DIR]      (that is: .venv/bin/python -m tests.walkthrough)

It starts the GitLab simulator and this server in OAuth mode (`manage.py serve`, a fresh SQLite
database, alice named admin), then, in Debian's chromium (Playwright, never `playwright install`),
plays a person: signs in through mcp-remote run for real, as Claude Desktop starts it; signs bob in
with `manage.py device_login`; bob disconnects that session at /connections/; alice opens the admin
and exports the audit log as CSV. Every page is checked as it comes, so a page that changed shape
stops the run with the step that failed. Pages are captured at a small viewport as PNG; what the
terminal printed is written to walkthrough-terminal.txt beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright

from tests.harness import ROOT, free_port, stop, wait_http
from tests.real_clients import CALL, CLIENT_INFO, ClientFailed, Lines, StdioRPC, node_module, spawn

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 720}  # the admin fits; PNGs stay under ~100 kB
SECRET = "walkthrough-session-secret-0123456789abcdef"  # a throwaway server's


class Run:
    """One walkthrough: the processes it started, where pictures go, and what the terminal showed."""

    def __init__(self, out: Path, tmp: Path, *, any_port: bool = False) -> None:
        self.out, self.tmp, self.any_port = out, tmp, any_port
        self.terminal: list[str] = []
        self.sim_url = self.url = ""
        self.server_env: dict[str, str] = {}

    def shot(self, page: Page, name: str, *, height: int = 0) -> None:
        """The viewport, or only its top `height` pixels for a page with one line on it."""
        clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height} if height else None
        page.screenshot(path=self.out / name, animations="disabled", caret="hide", clip=clip)  # type: ignore[arg-type]
        print(f"  {name}")

    def said(self, command: str, output: str) -> None:
        self.terminal += [f"$ {command}", output.rstrip(), ""]


# The walkthrough's ./.env, as docs/walkthrough.md shows it (tests/e2e/test_walkthrough.py compares them).
ENV_FILE_LINES = {
    "OAUTH_ENABLED": "true",
    "OAUTH_SESSION_SECRET": SECRET,
    "GITLAB_OAUTH_CLIENT_ID": "gitlab-mcp-public",
    "GITLAB_API_URL": "http://127.0.0.1:8090",
    "ADMIN_GITLAB_USERS": "alice",
}


def port_or_free(preferred: int) -> int:
    """The walkthrough's port when nothing holds it, so the pictures match the text; else any."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


@contextmanager
def services(run: Run) -> Iterator[None]:
    """The simulator, and the server as `./scripts/serve` runs it (manage.py serve: checks, migrate, Daphne),
    its settings in an env file."""
    sim_port, port = (free_port(), free_port()) if run.any_port else (port_or_free(8090), port_or_free(3000))
    sim = subprocess.Popen([sys.executable, "-m", "tests.gitlab_sim", "--port", str(sim_port)], cwd=ROOT)
    run.sim_url, run.url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{port}"
    env_file = run.tmp / ".env"
    lines = {**ENV_FILE_LINES, "GITLAB_API_URL": run.sim_url, "DATABASE_URL": f"sqlite:///{run.tmp / 'db.sqlite3'}"}
    env_file.write_text("".join(f"{key}={value}\n" for key, value in lines.items()))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITLAB_", "OAUTH_", "ADMIN_", "DATABASE_"))}
    clean = {k: v for k, v in clean.items() if k not in ("HOST", "PORT", "PUBLIC_URL")}
    run.server_env = clean | {"ENV_FILE": str(env_file), "PORT": str(port), "PYTHONUNBUFFERED": "1"}
    run.server_env["OAUTH_DEVICE_POLL_INTERVAL"] = "1"  # only to keep the run short (default 5 s)
    log = open(run.tmp / "server.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve"], cwd=ROOT, env=run.server_env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_http(f"{run.sim_url}/_sim/requests", sim)  # type: ignore[arg-type]
        wait_http(f"{run.url}/health", server)  # type: ignore[arg-type]
        # The same for the simulated GitLab's device interval; the person's path needs no hook.
        httpx.post(f"{run.sim_url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
        started = (run.tmp / "server.log").read_text()
        run.said("./scripts/serve", "\n".join(line for line in started.splitlines() if "OAuth mode" in line))
        yield
    finally:
        stop(server)  # type: ignore[arg-type]
        stop(sim)  # type: ignore[arg-type]
        log.close()


def landing(run: Run, page: Page) -> None:
    page.goto(f"{run.url}/")
    expect(page.get_by_text(f"{run.url}/mcp").first).to_be_visible()
    run.shot(page, "walkthrough-landing.png")


def mcp_remote_sign_in(run: Run, page: Page) -> subprocess.Popen[str]:
    """mcp-remote as Claude Desktop starts it; the sign-in link it would open goes to our browser."""
    callback_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env |= {"HOME": str(run.tmp), "MCP_REMOTE_CONFIG_DIR": str(run.tmp / "mcp-auth"), "BROWSER": "true"}
    argv = ["node", str(node_module("mcp-remote/dist/proxy.js")), f"{run.url}/mcp", str(callback_port)]
    process = spawn(argv, env=env)
    err = Lines(process.stderr)
    while not re.match(r"https?://\S+/authorize\?", line := err.next()):
        pass
    page.goto(line.strip())
    expect(page.get_by_role("button", name="Sign in with GitLab")).to_be_visible()
    run.shot(page, "walkthrough-signin.png")
    page.get_by_role("button", name="Sign in with GitLab").click()
    expect(page.locator("h1")).to_have_text("Sign in to GitLab")
    run.shot(page, "walkthrough-gitlab-sign-in.png")
    page.get_by_role("button", name="Alice Liddell").click()
    expect(page.locator("h1")).to_have_text("Authorize GitLab MCP to use your account?")
    run.shot(page, "walkthrough-gitlab-authorize.png")
    page.get_by_role("button", name="Authorize GitLab MCP").click()
    expect(page.locator("button[name=allow]")).to_be_visible()  # this server's consent page
    run.shot(page, "walkthrough-consent.png")
    page.locator("button[name=allow]").click()
    page.wait_for_url(f"http://localhost:{callback_port}/**")
    run.shot(page, "walkthrough-mcp-remote-done.png", height=40)
    rpc = StdioRPC(process, Lines(process.stdout))
    init = rpc.call("initialize", protocolVersion="2025-11-25", capabilities={}, clientInfo=CLIENT_INFO)
    rpc.notify("notifications/initialized")
    tools = rpc.call("tools/list")["tools"]
    me = rpc.call("tools/call", **CALL)["structuredContent"]
    assert me["username"] == "alice", me
    run.said(
        f"npx -y mcp-remote {run.url}/mcp   # what Claude Desktop runs; here driven over its stdio",
        f"initialize: {init['serverInfo']['name']} (protocol {init['protocolVersion']}); tools/list: {len(tools)} "
        f"tools; get_current_user: {json.dumps({k: me[k] for k in ('username', 'name')})}",
    )
    return process


def device_login(run: Run, context: BrowserContext) -> Path:
    """bob signs in from a terminal: device_login prints a link and a code; he enters it at GitLab."""
    command = [sys.executable, str(ROOT / "manage.py"), "device_login", "--server", run.url, "--save", "tokens.json"]
    process = subprocess.Popen(command, cwd=run.tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = Lines(process.stdout)
    printed = [out.next()]
    while "enter the code" not in printed[-1]:
        printed.append(out.next())
    link = re.search(r"Open (\S+) and enter the code (\S+)", printed[-1])
    assert link is not None, printed
    page = context.new_page()
    page.goto(link.group(1))
    expect(page.locator("h1")).to_have_text("Sign in to GitLab")
    page.get_by_role("button", name="Bob Builder").click()
    field = page.get_by_label("Enter the code shown on your device")
    expect(field).to_have_value(link.group(2))
    run.shot(page, "walkthrough-device-code.png")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Authorize", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Device authorized")
    run.shot(page, "walkthrough-device-authorized.png")
    assert process.wait(timeout=60) == 0
    while True:  # what it printed after the approval, up to its exit
        try:
            printed.append(out.next(timeout=5))
        except ClientFailed:
            break
    run.said(f".venv/bin/python manage.py device_login --server {run.url} --save tokens.json", "\n".join(printed))
    return run.tmp / "tokens.json"


def bearer_status(url: str, token: str) -> int:
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {**CALL}}
    headers = {"authorization": f"Bearer {token}", "accept": "application/json, text/event-stream"}
    return httpx.post(f"{url}/mcp", json=call, headers={**headers, "mcp-protocol-version": "2025-06-18"}).status_code


def disconnect_at_connections(run: Run, context: BrowserContext, saved: Path) -> None:
    token = json.loads(saved.read_text())["access_token"]
    assert bearer_status(run.url, token) == 200
    page = context.new_page()
    page.goto(f"{run.url}/connections/")  # bob is signed in at GitLab in this browser
    if page.locator("h1").filter(has_text="Authorize").count():
        page.get_by_role("button", name="Authorize GitLab MCP").click()
    expect(page.locator("h1")).to_contain_text("bob")
    run.shot(page, "walkthrough-connections.png")
    page.get_by_role("button", name="Disconnect").first.click()
    expect(page.locator("#ended-connections")).to_be_visible()
    run.shot(page, "walkthrough-connections-disconnected.png")
    status = bearer_status(run.url, token)
    assert status == 401, status
    run.said(
        f"curl -s -o /dev/null -w '%{{http_code}}\\n' {run.url}/mcp -H \"authorization: Bearer $(jq -r .access_token "
        "tokens.json)\" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' "
        '-d \'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_current_user",'
        '"arguments":{}}}\'',
        str(status),
    )


def admin_audit_csv(run: Run, page: Page) -> None:
    """alice (ADMIN_GITLAB_USERS) signs in to /admin/ with GitLab, sees the connections, exports the audit."""
    page.goto(f"{run.url}/admin/")
    page.get_by_role("link", name=re.compile("Sign in with GitLab")).first.click()
    if page.locator("h1").filter(has_text="Authorize").count():
        page.get_by_role("button", name="Authorize GitLab MCP").click()
    page.wait_for_url(f"{run.url}/admin/**")
    run.shot(page, "walkthrough-admin.png")
    page.goto(f"{run.url}/admin/oauth_gateway/gitlabconnection/")
    run.shot(page, "walkthrough-admin-connections.png")
    page.goto(f"{run.url}/admin/oauth_gateway/auditevent/")
    run.shot(page, "walkthrough-admin-audit.png")
    with page.expect_download() as download:
        page.locator("#audit-export-csv").click()
    csv = run.tmp / "audit.csv"
    download.value.save_as(csv)
    text = csv.read_text()
    rows = text.splitlines()
    assert len(rows) > 5 and "revoke" in text, rows[:3]  # bob's disconnect is in the trail
    run.said("# Admin → Audit log → Export this view as CSV → audit.csv; its first lines:", "\n".join(rows[:6]))


def other_pages(run: Run, browser: Any, alice: BrowserContext) -> None:
    """Pages the story does not pass, so that a re-run shows every page someone may restyle: this
    server's code page, an error page, the admin's login, clients and users, the consent page on a phone."""
    body = {"redirect_uris": ["http://127.0.0.1:59999/callback"], "token_endpoint_auth_method": "none"}
    client = httpx.post(f"{run.url}/register", json={**body, "client_name": "Claude"}).json()["client_id"]
    query = {
        "response_type": "code",
        "client_id": client,
        "redirect_uri": body["redirect_uris"][0],
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        "state": "walkthrough",
    }
    authorize = f"{run.url}/authorize?{httpx.QueryParams(query)}"
    stranger = browser.new_context(viewport=VIEWPORT)
    page = stranger.new_page()
    page.goto(authorize)
    page.get_by_role("button", name="Use a code instead").click()
    expect(page.locator("#user-code")).to_be_visible()
    run.shot(page, "page-device-code.png")
    error = page.goto(f"{run.url}/oauth/signin")  # opened by hand, not from a client: an error page
    assert error is not None and error.status >= 400, error
    run.shot(page, "page-error.png")
    page.goto(f"{run.url}/admin/login/?next=/admin/")
    expect(page.get_by_role("link", name=re.compile("Sign in with GitLab")).first).to_be_visible()
    run.shot(page, "page-admin-login.png")
    stranger.close()
    phone = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(authorize)
    page.get_by_role("button", name="Sign in with GitLab").click()
    page.get_by_role("button", name="Charlie Day").click()
    page.get_by_role("button", name="Authorize GitLab MCP").click()
    expect(page.locator("button[name=allow]")).to_be_visible()
    run.shot(page, "page-consent-phone.png")
    phone.close()
    page = alice.new_page()  # signed in to the admin by admin_audit_csv
    page.goto(f"{run.url}/admin/oauth_gateway/application/")
    run.shot(page, "page-admin-clients.png")
    page.goto(f"{run.url}/admin/auth/user/")
    run.shot(page, "page-admin-users.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--any-port", action="store_true", help="Not 3000 and 8090 even when they are free")
    options = parser.parse_args()
    out = options.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="walkthrough-") as tmp, sync_playwright() as playwright:
        run = Run(out, Path(tmp), any_port=options.any_port)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        with services(run):
            alice = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
            alice.set_default_timeout(15_000)
            page = alice.new_page()
            landing(run, page)
            remote = mcp_remote_sign_in(run, page)
            try:
                bob = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
                bob.set_default_timeout(15_000)
                saved = device_login(run, bob)
                disconnect_at_connections(run, bob, saved)
                admin_audit_csv(run, alice.new_page())
                other_pages(run, browser, alice)
            finally:
                stop(remote)  # type: ignore[arg-type]
        browser.close()
        (out / "walkthrough-terminal.txt").write_text("\n".join(run.terminal))
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
