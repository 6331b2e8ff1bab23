"""The MCP endpoint as an ASGI app: stateless streamable HTTP with JSON responses.

Daphne (and Channels) send no ASGI lifespan events, yet the SDK's session manager must be running
before it can answer: it is started here on the first request, in a task of its own, and stopped
when the server shuts down (Twisted's shutdown trigger under Daphne, the lifespan event elsewhere).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from mcp_bridge.server import build_server

log = logging.getLogger(__name__)
Scope = dict[str, Any]


def transport_security() -> TransportSecuritySettings:
    """Host and Origin checks (DNS-rebinding guard) built from the configured hosts."""
    public = urlsplit(settings.PUBLIC_URL)
    hosts = {public.netloc}
    origins = {f"{public.scheme}://{public.netloc}"}
    for host in settings.ALLOWED_HOSTS:
        hosts |= {host, f"{host}:*"}
        origins |= {f"http://{host}", f"http://{host}:*", f"https://{host}", f"https://{host}:*"}
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=sorted(hosts), allowed_origins=sorted(origins)
    )


class MCPApp:
    """ASGI app serving MCP; one per process, built once (tools, schemas, settings)."""

    def __init__(self) -> None:
        self.server = build_server()
        self.manager = StreamableHTTPSessionManager(
            app=self.server._lowlevel_server,
            json_response=True,
            stateless=True,
            security_settings=transport_security(),
        )
        self._ready: asyncio.Event | None = None
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self._ready is None or not self._ready.is_set():
            await self.start()
        try:
            await self.manager.handle_request(scope, receive, send)
        finally:
            # /mcp bypasses Django's request signals: do their connection hygiene here. Once per
            # call is enough, since CONN_HEALTH_CHECKS re-checks a connection before its next use.
            await sync_to_async(close_old_connections)()

    async def start(self) -> None:
        if self._ready is None:
            self._ready = asyncio.Event()
            self._runner = asyncio.get_running_loop().create_task(self._run())
            _stop_with_twisted(self)
        await self._ready.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            await self._runner

    async def _run(self) -> None:
        async with self.manager.run():
            assert self._ready is not None
            self._ready.set()
            await self._stop.wait()
        log.info("MCP session manager stopped")

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _stop_with_twisted(app: MCPApp) -> None:
    """Under Daphne, stop the session manager before the reactor shuts down."""
    try:
        from twisted.internet import defer, reactor
    except ImportError:
        return
    if not reactor.running:  # type: ignore[attr-defined]
        return

    def before_shutdown() -> defer.Deferred[None]:
        return defer.Deferred.fromFuture(asyncio.ensure_future(app.stop()))

    reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)  # type: ignore[attr-defined,arg-type]
