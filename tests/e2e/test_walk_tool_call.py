"""docs/ARCHITECTURE.md's "Walk 1: a tool call" names every module of ours a tool call runs, and no
other: one `tools/call` of get_project is traced (sys.setprofile, threading.setprofile) through the
ASGI app config/asgi.py serves, in static-token mode and in OAuth mode, and the modules of config/,
mcp_bridge/ and oauth_gateway/ whose functions ran must be exactly those the section names.

The app runs in this process; the GitLab simulator is a real process (tests/harness.py), reached
over loopback TCP, so that the GitLab transport really runs. The app and its threads (the audit
writer, the bearer checks) are started while the profiler is installed, so their work is traced too;
only the second call is recorded (the first starts the SDK's session manager and opens connections).
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from oauth_gateway.models import AccessToken
from tests.cast import MCP_TOKEN, connection_for, make_public_client, make_user
from tests.gitlab_sim.seed import TOKENS
from tests.harness import Sim

ROOT = Path(__file__).resolve().parent.parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
OURS = ("config", "mcp_bridge", "oauth_gateway")
pytestmark = pytest.mark.filterwarnings("ignore:No directory at")  # STATIC_ROOT: Django is set up, never served
MODULE = re.compile(r"`((?:config|mcp_bridge|oauth_gateway)/[\w/]+\.py)`")
OAUTH_ONLY = "**OAuth mode only:**"
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_project", "arguments": {"project": "acme/app"}},
}


def documented_walk() -> dict[str, set[str]]:
    """The modules Walk 1 names, per mode: every backticked module of ours in the section; those of
    the paragraph starting with OAUTH_ONLY in OAuth mode only."""
    section = DOC.read_text().split("## Walk 1: a tool call", 1)[1].split("\n## ", 1)[0]
    paragraphs = section.split("\n\n")
    both = {m for p in paragraphs if not p.startswith(OAUTH_ONLY) for m in MODULE.findall(p)}
    oauth = {m for p in paragraphs if p.startswith(OAUTH_ONLY) for m in MODULE.findall(p)}
    return {"static": both, "oauth": both | oauth}


def test_the_document_names_the_walk_in_a_form_this_test_reads() -> None:
    """Walk 1 states its counts, and its main line (the numbered steps) and helpers make up the
    static-mode walk."""
    section = DOC.read_text().split("## Walk 1: a tool call", 1)[1].split("\n## ", 1)[0]
    walk = documented_walk()
    steps = re.findall(r"^\d+\. `([^`]+)`", section, flags=re.M)
    helpers = next(p for p in section.split("\n\n") if p.startswith("Helpers"))
    assert steps[:2] == ["config/asgi.py", "mcp_bridge/asgi.py"]
    assert set(steps) | set(MODULE.findall(helpers)) == walk["static"]
    assert walk["oauth"] > walk["static"]
    stated = re.search(r"(\d+)\s+modules in static-token mode, (\d+) in OAuth mode", section)
    assert stated is not None, "Walk 1 states its module counts"
    assert (int(stated[1]), int(stated[2])) == (len(walk["static"]), len(walk["oauth"]))


class Recorder:
    """A profile function that notes the modules of ours whose functions are called, while on."""

    def __init__(self) -> None:
        self.on = False
        self.ran: set[str] = set()
        self.prefix = f"{ROOT}/"

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if self.on and event == "call":
            path = frame.f_code.co_filename
            if path.startswith(self.prefix) and path[len(self.prefix) :].split("/", 1)[0] in OURS:
                self.ran.add(path[len(self.prefix) :])


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    sys.setprofile(recorder)
    threading.setprofile(recorder)
    try:
        yield recorder
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


async def post(app: Any, body: dict[str, Any], bearer: str | None) -> tuple[int, dict[str, Any]]:
    """One POST /mcp through `app`, as Daphne hands it over."""
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/json"),
        (b"accept", b"application/json, text/event-stream"),
        (b"mcp-protocol-version", b"2025-06-18"),
    ]
    if bearer is not None:
        headers.append((b"authorization", f"Bearer {bearer}".encode()))
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp",
        "raw_path": b"/mcp",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    messages = [{"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


async def django_app(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("a tool call never reaches Django")


def router_class() -> Any:
    """config.asgi's HTTPRouter. Importing config.asgi builds Daphne's application, which checks
    the configuration (static mode's passes here) and freezes the collector (undone: this is pytest)."""
    with override_settings(OAUTH_ENABLED=False):
        from config.asgi import HTTPRouter
    gc.unfreeze()
    return HTTPRouter


def traced_call(recorder: Recorder, bearer: str | None) -> set[str]:
    """The modules of ours one tools/call runs, on an app (and threads) started under the profiler."""
    from mcp_bridge.asgi import MCPApp

    HTTPRouter = router_class()
    from mcp_bridge.auth import checks

    checks.stop()  # the bearer-check thread starts again under the profiler

    async def run() -> set[str]:
        mcp_app = MCPApp()
        app = HTTPRouter(mcp_app, django_app)
        try:
            status, answer = await post(app, CALL, bearer)  # starts the session manager and the threads
            assert status == 200 and answer["result"]["structuredContent"]["path_with_namespace"] == "acme/app"
            recorder.ran.clear()
            recorder.on = True
            status, answer = await post(app, CALL, bearer)
            await asyncio.sleep(0.05)  # the writer thread is back at its queue
            recorder.on = False
            assert status == 200 and not answer["result"].get("isError"), answer
        finally:
            recorder.on = False
            await mcp_app.stop()
        return set(recorder.ran)

    return asyncio.run(run())


def gitlab_settings(sim: Sim, **more: Any) -> override_settings:
    return override_settings(
        GITLAB_URL=sim.url, GITLAB_API_BASE=f"{sim.url}/api/v4", GITLAB_TOKEN=TOKENS["alice"], **more
    )


@pytest.mark.django_db(transaction=True)  # the writer's and the checks' threads see the rows
def test_a_static_mode_tool_call_runs_exactly_the_modules_walk_1_names(sim: Sim, recorder: Recorder) -> None:
    with gitlab_settings(sim, OAUTH_ENABLED=False, MCP_AUTH_TOKENS=[]):
        ran = traced_call(recorder, None)
    assert_walk(ran, documented_walk()["static"])


@pytest.mark.django_db(transaction=True)
def test_an_oauth_mode_tool_call_runs_exactly_the_modules_walk_1_names(sim: Sim, recorder: Recorder) -> None:
    connection = connection_for(make_user("alice", 1), make_public_client())
    connection.set_gitlab_tokens(TOKENS["alice"], "glrt-unused")
    connection.save()
    access = AccessToken.objects.get(connection=connection)
    access.resource = [settings.MCP_RESOURCE_URL]
    access.save()
    with gitlab_settings(sim, OAUTH_ENABLED=True):
        ran = traced_call(recorder, f"{MCP_TOKEN}-{connection.pk}")
    assert_walk(ran, documented_walk()["oauth"])


def assert_walk(ran: set[str], documented: set[str]) -> None:
    assert sorted(ran - documented) == [], "ran, but Walk 1 in docs/ARCHITECTURE.md does not name it"
    assert sorted(documented - ran) == [], "named by Walk 1 in docs/ARCHITECTURE.md, but did not run"
