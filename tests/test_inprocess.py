"""The tool tests' server runs in the test's process (tests/inprocess.py): a breakpoint in a tool fires.

Shown by a function the tools call, replaced for one test: the replacement sees the tool's result in
this process, on this thread, as the user the client acts as.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from mcp_bridge import toolkit


async def test_a_tools_code_runs_in_the_tests_process(mcp, mcp_as, monkeypatch):
    seen: list[tuple[int, int, Any]] = []
    shape = toolkit.as_tool_result

    def spy(result: dict[str, Any]) -> Any:
        seen.append((os.getpid(), threading.get_ident(), result.get("username")))
        return shape(result)

    monkeypatch.setattr(toolkit, "as_tool_result", spy)
    assert not (await mcp.call("get_current_user")).is_error
    assert not (await mcp_as("bob").call("get_current_user")).is_error
    here = (os.getpid(), threading.get_ident())
    assert seen == [(*here, "alice"), (*here, "bob")]


async def test_the_tools_gitlab_is_the_in_process_simulator(mcp, sim):
    await mcp.call("get_current_user")
    assert [(r["method"], r["path"]) for r in sim.requests()] == [("GET", "/api/v4/user")]
