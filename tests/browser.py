"""A real browser for end-to-end tests: Debian's chromium driven by Playwright's sync API.

Playwright objects belong to the thread that made them, and its sync API cannot run while an
asyncio loop runs in that thread (between calls it even marks its own loop as running there). So
chromium lives in one dedicated thread for the whole test session, and a test hands it a script:
`await chromium.run(script, ...)` runs `script(context, ...)` there in a fresh browser context
(cookies and storage of its own) while the test's own loop stays free.

Screenshots go to test-artifacts/ (gitignored); with UPDATE_SCREENSHOTS=1 the README's images also go
to docs/screenshots/, which is how they are made. A failing script leaves a screenshot of each open page.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import Browser, Locator, Page, Playwright, ViewportSize, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.harness import ROOT, server_rows
from tests.oauth_client import Browser as ScriptedBrowser
from tests.oauth_client import MemoryStorage, oauth_mcp, structured

CHROMIUM = "/usr/bin/chromium"  # Debian's package; `playwright install` is never used
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1600, "height": 900}  # the admin lists fit without scrolling
TIMEOUT_MS = 15_000  # per wait: a page that never comes fails the test in seconds, not minutes
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"

T = TypeVar("T")


class Chromium:
    """One headless chromium, in one thread, for the test session."""

    def __init__(self) -> None:
        for stale in ARTIFACTS.glob("failed-*.png"):  # failures of an earlier run would mislead
            stale.unlink()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self._playwright: Playwright | None = None
        self._browser: Browser = self._thread.submit(self._launch).result()

    def _launch(self) -> Browser:
        self._playwright = sync_playwright().start()
        expect.set_options(timeout=TIMEOUT_MS)
        return self._playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)

    async def run(self, script: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`script(context, *args, **kwargs)` in a fresh browser context, in the browser's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, lambda: self._in_context(script, args, kwargs))

    def _in_context(self, script: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        context = self._browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        try:
            return script(context, *args, **kwargs)
        except BaseException:
            for number, page in enumerate(context.pages):
                save_failure(page, f"failed-{script.__name__}-{number}.png")
            raise
        finally:
            context.close()

    def close(self) -> None:
        self._thread.submit(self._stop).result()
        self._thread.shutdown()

    def _stop(self) -> None:
        self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()


def screenshot(page: Page | Locator, name: str, *, readme: bool = False) -> Path:
    """The visible part of the page (VIEWPORT, PNG), or one element of it, as test-artifacts/<name>;
    an image the README shows is also written to docs/screenshots/<name> when UPDATE_SCREENSHOTS=1."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=path, animations="disabled", caret="hide")
    if readme and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / name)
    return path


def save_failure(page: Page, name: str) -> None:
    # A closed or hung page must not hide the test's own failure.
    with contextlib.suppress(PlaywrightError, OSError):
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / name, timeout=5_000)


def without_secrets(page: Page, secrets: list[str]) -> None:
    """Fail when the page's HTML holds any of `secrets` (tokens must never reach a page)."""
    html = page.content()
    leaked = [secret[:6] + "…" for secret in secrets if secret and secret in html]
    assert not leaked, f"{page.url} shows tokens: {leaked}"


class McpSession:
    """What an MCP SDK client holds after signing in as a cast member: its tokens, and the id of the
    session (GitLab connection) the server made for it."""

    def __init__(self, username: str, storage: MemoryStorage, connection_id: int) -> None:
        assert storage.tokens is not None
        self.username = username
        self.access_token = storage.tokens.access_token
        self.refresh_token = storage.tokens.refresh_token or ""
        self.connection_id = connection_id

    def secrets(self) -> list[str]:
        return [self.access_token, self.refresh_token]


async def mcp_session(server: Any, username: str) -> McpSession:
    """The MCP SDK client signs in through OAuth as `username` and calls a tool."""
    storage = MemoryStorage()
    async with oauth_mcp(server.url, ScriptedBrowser(username), storage=storage) as client:
        assert structured(await client.call_tool("get_current_user", {}))["username"] == username
    assert storage.tokens is not None
    checksum = hashlib.sha256(storage.tokens.access_token.encode()).hexdigest()
    sql = f"SELECT connection_id FROM oauth_gateway_accesstoken WHERE token_checksum = '{checksum}'"
    [(connection_id,)] = server_rows(server.env["DATABASE_URL"], sql)
    return McpSession(username, storage, int(connection_id))
