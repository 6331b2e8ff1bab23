"""What the MCP server adds to one GitLab call (a benchmark, not a test).

Starts the GitLab simulator and Daphne (static-token mode, SQLite) on loopback ports, then makes N
`tools/call` of `get_current_user` through the server, and N `GET /api/v4/user` straight to the
simulator, at concurrency 1 and 16. Prints req/s, p50/p99 latency for both, the latency the server
adds per call, the server's CPU ms per call and its peak RSS.

    .venv/bin/python -m bench.mcp_overhead [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.gitlab_sim.seed import TOKENS
from tests.harness import migrate, run_server, run_sim, server_env

CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_current_user", "arguments": {}}}
MCP_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2025-06-18",
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run(calls: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            await one()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return calls / (time.perf_counter() - started), latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


async def measure(server_url: str, sim_url: str, pid: int, calls: int) -> None:
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:

        async def via_mcp() -> None:
            response = await http.post(f"{server_url}/mcp", json=CALL, headers=MCP_HEADERS)
            assert response.status_code == 200 and '"isError":true' not in response.text, response.text

        async def direct() -> None:
            response = await http.get(f"{sim_url}/api/v4/user", headers={"PRIVATE-TOKEN": TOKENS["alice"]})
            assert response.status_code == 200

        await run(200, 4, via_mcp)  # warm up: session manager, pools, caches
        await run(200, 4, direct)
        print(f"{'conc':>4} {'path':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'added p50':>10} {'CPU ms/call':>12}")
        for concurrency in (1, 16):
            direct_rps, direct_lat = await run(calls, concurrency, direct)
            cpu_before = cpu_seconds(pid)
            mcp_rps, mcp_lat = await run(calls, concurrency, via_mcp)
            cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / calls
            added = pct(mcp_lat, 50) - pct(direct_lat, 50)
            print(
                f"{concurrency:>4} {'direct':<8} {direct_rps:>8.0f} {pct(direct_lat, 50):>8.2f}"
                f" {pct(direct_lat, 99):>8.2f}"
            )
            print(
                f"{concurrency:>4} {'mcp':<8} {mcp_rps:>8.0f} {pct(mcp_lat, 50):>8.2f} {pct(mcp_lat, 99):>8.2f}"
                f" {added:>10.2f} {cpu_ms:>12.2f}"
            )
    print(f"server peak RSS: {peak_rss_mb(pid):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    with run_sim() as sim, tempfile.TemporaryDirectory() as tmp:
        env = server_env(f"sqlite:///{tmp}/bench.sqlite3", sim, LOG_LEVEL="WARNING")
        migrate(env)
        with run_server(env) as server:
            asyncio.run(measure(server.url, sim.url, server.process.pid, args.calls))


if __name__ == "__main__":
    main()
