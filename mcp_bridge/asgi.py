"""The MCP endpoint as an ASGI app: stateless streamable HTTP with JSON responses (an SSE stream
for a request asking for progress, whose notifications come before its result).

Daphne (and Channels) send no ASGI lifespan events, yet the SDK's session manager must be running
before it can answer: it is started here on the first request, in a task of its own, and stopped
when the server shuts down (stop(), which config.serving calls under Daphne; the lifespan event elsewhere).

A plain POST of one tools/call, tools/list or ping takes the lean path (mcp_bridge.server.FastPath);
everything else the SDK's transport. Either way the audit rows are committed (mcp_bridge.audit_writer)
before the answer's last byte leaves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping
from typing import Any

from django.conf import settings
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from config import startup
from mcp_bridge.admission import (
    admit,
    origin_allowed,
    preflight,
    request_origin,
    transport_security,
    unauthorized,
    with_cors,
)
from mcp_bridge.audit_writer import AuditWriter
from mcp_bridge.auth import Caller, Unauthorized, authenticate, checks
from mcp_bridge.context import CallRecord, current_caller, current_calls, current_credentials
from mcp_bridge.gitlab import Credentials
from mcp_bridge.server import FastPath, accepts_event_stream, build_server

log = logging.getLogger(__name__)
Scope = dict[str, Any]


class MCPApp:
    """ASGI app serving MCP; one per process, built once (tools, schemas, settings)."""

    def __init__(self) -> None:
        self.server = build_server()
        security = transport_security()
        self.origins = security.allowed_origins  # the guard's, which CORS names too (mcp_bridge.admission)
        self.manager = StreamableHTTPSessionManager(
            app=self.server._lowlevel_server,
            json_response=True,
            stateless=True,
            security_settings=security,
        )
        # A request asking for progress is answered as an SSE stream, which has room for its
        # notifications/progress before the result (wait_for_pipeline); everything else as JSON.
        self.streaming = StreamableHTTPSessionManager(
            app=self.server._lowlevel_server,
            json_response=False,
            stateless=True,
            security_settings=security,
        )
        self.fast = FastPath(self.server._lowlevel_server, security, self.manager.max_request_body_size)
        self.audit = AuditWriter()
        # Static-token mode: the GitLab user GITLAB_TOKEN acts as, for the audit rows, as the start-up
        # check found it (None when it could not tell, or the server was not started by `serve`).
        self.acting_as = None if settings.OAUTH_ENABLED else startup.acting_as()
        self._ready: asyncio.Event | None = None
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        origin = request_origin(scope)
        if scope["method"] == "OPTIONS":
            await preflight(scope, send, self.origins)
            return
        if origin is not None and origin_allowed(origin, self.origins):
            send = with_cors(send, origin)
        if self._ready is None or not self._ready.is_set():
            await self.start()
        if not await admit(scope, send):  # Host in every mode, MCP_AUTH_TOKEN in static mode
            return
        caller = None
        note = scope.get("gitlab_mcp.note")  # the access-log line's fields (config.asgi)
        if settings.OAUTH_ENABLED:
            caller = await self._authenticate(scope, send)
            if caller is None:
                return
            if origin is not None:
                # A valid bearer token passes the Origin check (DNS-rebinding guard): a rebinding page
                # cannot attach one. Requests without one were answered 401 above.
                scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"origin"]}
            current_caller.set(caller)
            current_credentials.set(Credentials(caller.gitlab_token, oauth=True))
            if note is not None:
                note |= {"user": caller.username, "client": caller.client_id}
        calls: list[CallRecord] = []
        current_calls.set(calls)
        finished = False

        async def finish() -> None:
            nonlocal finished
            if not finished:
                finished = True
                if calls:
                    acting_as = None if caller else self.acting_as
                    await self.audit.write(calls, caller=caller, ip=_peer(scope), acting_as=acting_as)

        async def send_after_audit(message: MutableMapping[str, Any]) -> None:
            # The audit rows are committed before the answer's last byte leaves: a call the client
            # saw answered is in the audit log even if this process is killed right after.
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                await finish()
            await send(message)

        try:
            request, progress = None, False
            if self.fast.takes(scope):
                request, receive, progress = await self.fast.read(scope, receive, serve=settings.MCP_FAST_PATH)
            elif scope["method"] == "POST" and accepts_event_stream(scope):
                _, receive, progress = await self.fast.read(scope, receive, serve=False)  # the SDK's, replayed
            streams = progress and accepts_event_stream(scope)
            if note is not None:
                note["mcp"] = "lean" if request is not None else "sdk-sse" if streams else "sdk"
            if request is not None:
                # The SDK's own lifespan state, which its transport hands the handlers too.
                await self.fast.serve(request, self.manager._lifespan_state, send_after_audit)
            else:
                manager = self.streaming if streams else self.manager
                await manager.handle_request(scope, receive, send_after_audit)
        finally:
            if note is not None and calls:
                note["tools"] = [call.tool for call in calls]
            await finish()

    async def _authenticate(self, scope: Scope, send: Any) -> Caller | None:
        """RFC 6750 bearer check; on failure answers 401 with the RFC 9728 challenge and returns None."""
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await unauthorized(send, None, scope["path"])
            return None
        try:
            return await authenticate(token.strip())
        except Unauthorized as exc:
            await unauthorized(send, str(exc), scope["path"])
            return None

    async def start(self) -> None:
        if self._ready is None:
            self._ready = asyncio.Event()
            self._runner = asyncio.get_running_loop().create_task(self._run())
        await self._ready.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._runner is not None:
            await self._runner
        await asyncio.to_thread(self.audit.stop)
        await asyncio.to_thread(checks.stop)

    async def _run(self) -> None:
        async with self.manager.run(), self.streaming.run():
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


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None
