"""`python -m config.serving HOST PORT`: Daphne serving config.asgi, with a graceful stop
(config.daphne.server has how). `manage.py serve` and the tests start the server this way
(config.startup.daphne_argv).
"""

from __future__ import annotations

import logging
import sys

from config.daphne.server import serve  # first: Daphne installs Twisted's asyncio reactor

log = logging.getLogger("gitlab_mcp.server")


def main(host: str, port: int) -> None:
    from django.conf import settings

    from config import asgi, health  # config.asgi sets Django up and runs the configuration checks

    listened = serve(
        asgi.application,
        host,
        port,
        shutdown_timeout=settings.SHUTDOWN_TIMEOUT,
        on_drain=health.start_draining,
        on_shutdown=asgi.mcp_app_of(asgi.application).stop,
    )
    if not listened:
        sys.exit(1)
    log.info("stopped")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
