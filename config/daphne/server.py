"""Daphne's Server with a graceful stop, and the Twisted reactor it runs on.

Daphne on its own answers SIGTERM by cancelling every request in flight. Here SIGTERM (or SIGINT)
first accepts the connections the kernel already queued and closes the listening socket, so a proxy
sends new requests to other replicas at once (connection refused is retried by nginx), then waits
for the requests already running to finish, for at most SHUTDOWN_TIMEOUT seconds, and only then
stops the reactor. A second signal stops at once. Before the reactor shuts down, the application's
own stop (the MCP session manager, the audit writer) runs and is waited for.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import signal
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from daphne.server import Server  # first: it installs Twisted's asyncio reactor

log = logging.getLogger("gitlab_mcp.server")
# An accepted connection that has not sent its request yet counts as busy for this long at most (a
# client that connects and says nothing must not hold the shutdown up).
REQUEST_WAIT = 2.0
# Once no request runs, connections get this long to send their last bytes and close.
FLUSH_WAIT = 5.0


class GracefulServer(Server):
    def __init__(
        self, *args: Any, shutdown_timeout: float, on_drain: Callable[[], None] = lambda: None, **kwargs: Any
    ) -> None:
        super().__init__(*args, signal_handlers=False, **kwargs)
        self.shutdown_timeout = shutdown_timeout
        self.on_drain = on_drain  # told when the first stop signal arrives
        self.draining = False
        self.listen_failed = False
        self.ports: list[Any] = []
        self.channels: weakref.WeakSet[Any] = weakref.WeakSet()  # every HTTP connection accepted
        # Connections accepted whose request has not arrived yet, with when they were accepted.
        self.waiting: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()

    def listen_error(self, failure: Any) -> None:
        """Daphne logs the failure and stops with exit status 0; say which variable to change, and fail."""
        from django.conf import settings

        self.listen_failed = True
        log.critical(
            "cannot listen on %s:%s: %s. Is another server (or another copy of this one) using the port? "
            "Stop it, or set PORT to a free port (and HOST to the address to listen on).",
            settings.HOST,
            settings.PORT,
            _in_use(failure.getErrorMessage()),
        )
        self.stop()

    def listen_success(self, port: Any) -> None:
        super().listen_success(port)
        self.ports.append(port)
        factory = self.http_factory
        if not getattr(factory, "tracked", False):
            build = factory.buildProtocol

            def build_and_track(addr: Any) -> Any:
                protocol = build(addr)
                if protocol is not None:
                    # Twisted wraps the HTTP channel (to switch to HTTP/2); requests know the inner one.
                    channel = getattr(protocol, "_channel", protocol)
                    self.channels.add(channel)
                    self.waiting[channel] = time.monotonic()
                return protocol

            factory.buildProtocol = build_and_track
            factory.tracked = True

    def protocol_connected(self, protocol: Any) -> None:
        super().protocol_connected(protocol)
        channel = getattr(protocol, "channel", None)
        if channel is not None:
            self.waiting.pop(channel, None)

    def begin_shutdown(self) -> None:
        """Runs in the reactor thread when a stop signal arrives."""
        reactor = _reactor()
        if self.draining:
            log.info("second stop signal: stopping now")
            reactor.stop()
            return
        self.draining = True
        self.on_drain()
        for port in self.ports:
            _stop_listening(port)
        log.info("stop signal: no new connections; finishing %d request(s) in flight", self.busy())
        self._stop_when_idle(time.monotonic() + self.shutdown_timeout)

    def busy(self) -> int:
        """Requests not finished (still arriving, or their application still running), and accepted
        connections whose request has not started yet (for REQUEST_WAIT seconds)."""
        running = sum(1 for details in self.connections.values() if _unfinished(details))
        now = time.monotonic()
        waiting = sum(
            1 for channel, accepted in list(self.waiting.items()) if now - accepted < REQUEST_WAIT and _open(channel)
        )
        return running + waiting

    def _stop_when_idle(self, deadline: float) -> None:
        reactor = _reactor()
        busy = self.busy()
        if busy and time.monotonic() < deadline:
            reactor.callLater(0.05, self._stop_when_idle, deadline)
            return
        if busy:
            log.warning("SHUTDOWN_TIMEOUT reached: cancelling %d request(s) still running", busy)
            reactor.stop()
            return
        self._stop_when_closed(time.monotonic() + FLUSH_WAIT)

    def _stop_when_closed(self, deadline: float) -> None:
        """A finished request's last bytes may still sit in its connection's buffer; stopping the
        reactor now would reset the connection instead of sending them. Close each connection
        gently (after its buffer is written), then stop."""
        still_open = [channel for channel in list(self.channels) if _open(channel)]
        for channel in still_open:
            channel.transport.loseConnection()
        if still_open and time.monotonic() < deadline:
            _reactor().callLater(0.05, self._stop_when_closed, deadline)
            return
        _reactor().stop()


def _stop_listening(port: Any) -> None:
    """Close a listening socket without resetting the connections queued in it: their requests a
    proxy has already sent, and will not resend (a POST is not idempotent). Twisted closes the
    socket one reactor turn after stopListening(), so what queues meanwhile is taken then too."""
    close = port.connectionLost

    def take_queued_then_close(reason: Any) -> None:
        port.doRead()
        close(reason)

    port.connectionLost = take_queued_then_close
    port.doRead()
    port.stopListening()


def _unfinished(details: dict[str, Any]) -> bool:
    """Daphne marks a request "disconnected" once answered (or its client left); until then it may
    still be receiving its body, before any application instance exists."""
    instance = details.get("application_instance")
    return "disconnected" not in details or (instance is not None and not instance.done())


def _open(channel: Any) -> bool:
    return not getattr(getattr(channel, "transport", None), "disconnected", True)


def _in_use(message: str) -> str:
    return "address already in use" if "in use" in message.lower() else message


def _reactor() -> Any:
    from twisted.internet import reactor  # the asyncio reactor Daphne installed

    return reactor


def serve(
    application: Any,
    host: str,
    port: int,
    *,
    shutdown_timeout: float,
    on_drain: Callable[[], None],
    on_shutdown: Callable[[], Awaitable[None]],
) -> bool:
    """Serve `application` until stopped. `on_drain()` is called when the first stop signal arrives,
    `on_shutdown()` awaited before the reactor shuts down. Returns False when the port could not be
    listened on."""
    from daphne.endpoints import build_endpoint_description_strings
    from twisted.internet import defer

    server = GracefulServer(
        application=application,
        endpoints=build_endpoint_description_strings(host=host, port=port),
        verbosity=0,  # Twisted's own log and Daphne's access log (with query strings) stay off
        shutdown_timeout=shutdown_timeout,
        on_drain=on_drain,
    )

    def before_shutdown() -> defer.Deferred[None]:
        return defer.Deferred.fromFuture(asyncio.ensure_future(on_shutdown()))

    def begin_shutdown() -> None:
        try:
            server.begin_shutdown()
        except Exception:  # Twisted's own log is off: make a failure here visible, then stop anyway
            log.exception("graceful stop failed; stopping now")
            _reactor().stop()

    def on_signal(signum: int, frame: Any) -> None:
        # In a fresh context: the signal may interrupt a request's task, whose context variables
        # (asgiref's "in a sync thread" marker among them) would otherwise pass to every connection
        # the shutdown accepts, and from there to their requests.
        _reactor().callFromThread(contextvars.Context().run, begin_shutdown)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Once running, so that it comes after Daphne's own (which cancels the applications still running).
    _reactor().callWhenRunning(_reactor().addSystemEventTrigger, "before", "shutdown", before_shutdown)
    server.run()
    return not server.listen_failed
