"""How much of the model's context the tool catalog costs (a benchmark, not a test).

For each toolset, the default set and everything: tools, operations, the bytes of the `tools/list`
result as JSON (compact, as served) and approximate tokens (bytes / 4). Targets (issue 5): all
toolsets together cover at least 200 operations; the default set costs at most 12,000 tokens.

    .venv/bin/python -m bench.tool_catalog
"""

from __future__ import annotations

import asyncio
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("GITLAB_TOKEN", "bench")
django.setup()

from mcp_bridge.server import build_server, enabled_tools  # noqa: E402
from mcp_bridge.toolsets import DEFAULT_TOOLS, TOOLSETS  # noqa: E402

TOKEN_TARGET, OPERATION_TARGET = 12_000, 200


def cost(toolsets: list[str]) -> tuple[int, int]:
    """Tools and `tools/list` result bytes for these toolsets. One tool is one GitLab operation."""
    server = build_server(enabled_tools(read_only=False, denied_regex="", toolsets=toolsets))
    tools = asyncio.run(server.list_tools())
    result = {"tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]}
    return len(tools), len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode())


def main() -> None:
    print(f"{'toolset':<20} {'tools':>5} {'operations':>10} {'bytes':>8} {'~tokens':>8}")
    for name in TOOLSETS:
        tools, size = cost([name])
        print(f"{name:<20} {tools:>5} {tools:>10} {size:>8} {size // 4:>8}")
    default_tools, default_size = cost(["default"])
    all_tools, all_size = cost(["all"])
    print(f"{'default set':<20} {default_tools:>5} {default_tools:>10} {default_size:>8} {default_size // 4:>8}")
    print(f"{'all':<20} {all_tools:>5} {all_tools:>10} {all_size:>8} {all_size // 4:>8}")
    print(f"default set: {len(DEFAULT_TOOLS)} tools chosen across toolsets (mcp_bridge/toolsets.py DEFAULT_TOOLS)")
    ok_tokens = default_size // 4 <= TOKEN_TARGET
    ok_operations = all_tools >= OPERATION_TARGET
    print(f"default set ≤ {TOKEN_TARGET:,} tokens: {'yes' if ok_tokens else 'NO'}")
    print(f"all toolsets ≥ {OPERATION_TARGET} operations: {'yes' if ok_operations else 'NO'}")


if __name__ == "__main__":
    main()
