"""`python -m config.serving HOST PORT`: Daphne serving config.asgi, with a graceful stop.

Daphne on its own answers SIGTERM by cancelling every request in flight. Here SIGTERM (or SIGINT)
first closes the listening socket, so a proxy sends new requests to other replicas at once (connection
refused is retried by nginx), then waits for the requests already running to finish, for at most
SHUTDOWN_TIMEOUT seconds, and only then stops the reactor. A second signal stops at once.
`manage.py serve` and the tests start the server this way (config.startup.daphne_argv).
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from typing import Any

from daphne.server import Server  # first: it installs Twisted's asyncio reactor

from config import lifecycle

log = logging.getLogger("gitlab_mcp.server")


class GracefulServer(Server):
    def __init__(self, *args: Any, shutdown_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, signal_handlers=False, **kwargs)
        self.shutdown_timeout = shutdown_timeout
        self.ports: list[Any] = []

    def listen_success(self, port: Any) -> None:
        super().listen_success(port)
        self.ports.append(port)

    def begin_shutdown(self) -> None:
        """Runs in the reactor thread when a stop signal arrives."""
        reactor = _reactor()
        if lifecycle.draining.is_set():
            log.info("second stop signal: stopping now")
            reactor.stop()
            return
        lifecycle.draining.set()
        for port in self.ports:
            port.stopListening()
        log.info("stop signal: no new connections; finishing %d request(s) in flight", self.busy())
        self._stop_when_idle(time.monotonic() + self.shutdown_timeout)

    def busy(self) -> int:
        """Requests whose application is still running."""
        instances = (details.get("application_instance") for details in self.connections.values())
        return sum(1 for instance in instances if instance is not None and not instance.done())

    def _stop_when_idle(self, deadline: float) -> None:
        reactor = _reactor()
        busy = self.busy()
        if busy and time.monotonic() < deadline:
            reactor.callLater(0.05, self._stop_when_idle, deadline)
            return
        if busy:
            log.warning("SHUTDOWN_TIMEOUT reached: cancelling %d request(s) still running", busy)
        reactor.stop()


def _reactor() -> Any:
    from twisted.internet import reactor  # the asyncio reactor Daphne installed

    return reactor


def main(host: str, port: int) -> None:
    from daphne.endpoints import build_endpoint_description_strings
    from django.conf import settings

    from config.asgi import application  # sets Django up and runs the configuration checks

    server = GracefulServer(
        application=application,
        endpoints=build_endpoint_description_strings(host=host, port=port),
        verbosity=0,  # Twisted's own log and Daphne's access log (with query strings) stay off
        shutdown_timeout=settings.SHUTDOWN_TIMEOUT,
    )

    def on_signal(signum: int, frame: Any) -> None:
        _reactor().callFromThread(server.begin_shutdown)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.run()
    log.info("stopped")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
