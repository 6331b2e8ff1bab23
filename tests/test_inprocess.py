"""The tool tests' server runs in the test's process (tests/inprocess.py): a breakpoint in a tool fires.

Shown by a function the tools call, replaced for one test: the replacement sees the tool's result in
this process, on this thread, as the user the client acts as.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from mcp_bridge import registry


async def test_a_tools_code_runs_in_the_tests_process(mcp, mcp_as, monkeypatch):
    seen: list[tuple[int, int, Any]] = []
    shape = registry.as_tool_result

    def spy(result: dict[str, Any]) -> Any:
        seen.append((os.getpid(), threading.get_ident(), result.get("username")))
        return shape(result)

    monkeypatch.setattr(registry, "as_tool_result", spy)
    assert not (await mcp.call("get_current_user")).is_error
    assert not (await mcp_as("bob").call("get_current_user")).is_error
    here = (os.getpid(), threading.get_ident())
    assert seen == [(*here, "alice"), (*here, "bob")]


async def test_the_tools_gitlab_is_the_in_process_simulator(mcp, sim):
    await mcp.call("get_current_user")
    assert [(r["method"], r["path"]) for r in sim.requests()] == [("GET", "/api/v4/user")]


async def test_overlapping_sessions_share_the_settings_and_leave_none_behind(mcp, mcp_with, text_of):
    from django.conf import settings

    def in_force() -> tuple[Any, Any]:
        return settings.GITLAB_TOOLSETS, settings.GITLAB_READ_ONLY_MODE

    before = in_force()
    results = await asyncio.gather(*(mcp.call("get_current_user") for _ in range(3)))
    assert [r.structured_content["username"] for r in results] == ["alice"] * 3
    assert in_force() == before
    refused = await mcp_with(GITLAB_READ_ONLY_MODE=True).call("create_issue", project="acme/app", title="x")
    assert refused.is_error and "create_issue" in text_of(refused)
    assert in_force() == before
