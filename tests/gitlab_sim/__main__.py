"""Run the simulator by hand: python -m tests.gitlab_sim --port 8090"""

from __future__ import annotations

import argparse

import uvicorn

from tests.gitlab_sim.app import build_app


def main() -> None:
    parser = argparse.ArgumentParser(description="GitLab API simulator for gitlab-mcp tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    uvicorn.run(build_app(), host=args.host, port=args.port, log_level="warning", lifespan="off")


if __name__ == "__main__":
    main()
