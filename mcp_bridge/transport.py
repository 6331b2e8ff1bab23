"""An HTTP/1.1 keep-alive transport for httpx on plain asyncio: how the server talks to GitLab.

httpx's default transport (httpcore on anyio) cost about half of a tool call's CPU here: its pool
probes every idle socket before each request (`getpeername`, `poll`), and anyio asks for the current
task many times per request (a `getpid` system call each on CPython 3.11). An asyncio Protocol hears
from the event loop itself when GitLab closes a connection, so a pooled connection needs no probe.
mcp_bridge.http11 writes and reads the messages; httpx keeps doing the rest (URLs, headers, content
decoding, the Response).

Bodies are read whole, as httpx does for every request that is not streamed (none of ours is).
A proxy configured in the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) is not this transport's
business: `for_environment()` then leaves the calls to httpx's own, which honours it.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

import httpx

from mcp_bridge import http11

# A connection idle longer than this is closed rather than reused (httpcore's default too): servers
# close idle keep-alive connections after a while, and a request sent as they do is lost.
KEEPALIVE_EXPIRY = 5.0
# Requests that may be sent again when a reused connection turns out to have been closed by the
# server before it answered anything (RFC 9110 §9.2.2: idempotent methods).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def for_environment(**options: Any) -> httpx.AsyncBaseTransport | None:
    """This transport, or None (httpx's default) when the environment names a proxy."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return None
    return KeepAliveTransport(**options)


class _Stale(Exception):
    """A reused connection was closed by the server before it answered: nothing was received."""


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; the pool hands it to one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False  # by us, or the connection is lost
        self.eof = False  # the server will send nothing more
        self.busy = False
        self.received = False  # any byte of the current exchange's answer
        self.idle_since = 0.0
        self.buffer = bytearray()
        self.reader = http11.Reader(self.buffer, self._more)
        self._read_timeout: float | None = None
        self._waiter: asyncio.Future[None] | None = None

    # asyncio.Protocol: called by the event loop.
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self.busy:  # a server speaking out of turn (a 408 before closing): not reusable
            self.close()
            return
        self.received = True
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = self.eof = True
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def reusable(self, now: float) -> bool:
        return not self.closed and not self.eof and now - self.idle_since < KEEPALIVE_EXPIRY

    async def exchange(
        self, request: httpx.Request, body: bytes, read_timeout: float | None, reused: bool
    ) -> http11.Response:
        """Send the request and read the whole response."""
        assert self.transport is not None
        if self.closed or self.eof:
            raise _Stale()
        try:
            message = http11.request_head(request.method, request.url.raw_path, request.headers.raw, body)
        except http11.ProtocolError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from None
        self.received = False
        self.buffer.clear()
        self._read_timeout = read_timeout
        self.transport.write(message)
        try:
            return await self.reader.response(request.method)
        except http11.Closed:
            # A kept-alive connection the server had given up on, if it sent nothing back.
            if reused and not self.received:
                raise _Stale() from None
            raise

    async def _more(self) -> None:
        """Wait for more of the answer (http11.Reader's `more`)."""
        if self.eof:
            raise http11.Closed("GitLab closed the connection without a complete answer.")
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        seconds = self._read_timeout
        timer = None if seconds is None else loop.call_later(seconds, _time_out, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def finish(self, response: http11.Response, now: float) -> bool:
        """After a complete exchange: ready for the next one (True), or closed."""
        if self.closed or self.eof or not response.keep_alive:
            self.close()
            return False
        self.idle_since = now
        return True


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """A pool of HTTP/1.1 connections per origin, on the event loop that uses it."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        max_keepalive_connections: int = 20,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._slots = asyncio.Semaphore(max_connections)
        self._keep = max_keepalive_connections
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        self._ssl = ssl_context
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        body = await request.aread()
        if self._slots.locked():  # all connections busy: wait for one, at most the pool timeout
            await _within(self._slots.acquire(), timeouts.get("pool"), httpx.PoolTimeout, request)
        else:
            await self._slots.acquire()  # returns at once (asyncio.wait_for would start a task)
        try:
            response = await self._send(request, body, timeouts)
        finally:
            self._slots.release()
        return httpx.Response(
            response.status,
            headers=response.headers,
            stream=httpx.ByteStream(response.content),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason},
        )

    async def _send(self, request: httpx.Request, body: bytes, timeouts: dict[str, float | None]) -> http11.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        loop = asyncio.get_running_loop()
        while True:
            connection, reused = self._pooled(origin, loop.time())
            if connection is None:
                connection = await self._connect(origin, timeouts.get("connect"), request)
            connection.busy = True
            try:
                result = await connection.exchange(request, body, timeouts.get("read"), reused)
            except _Stale:
                connection.close()
                if request.method in IDEMPOTENT:
                    continue  # on another connection (a fresh one when the pool has no more)
                raise httpx.RemoteProtocolError(
                    "GitLab closed a kept-alive connection as the request was sent.", request=request
                ) from None
            except TimeoutError:
                connection.close()
                raise httpx.ReadTimeout("GitLab did not answer in time.", request=request) from None
            except http11.ProtocolError as exc:
                connection.close()
                raise httpx.RemoteProtocolError(str(exc), request=request) from None
            except BaseException:
                connection.close()  # cancelled mid-exchange (or refused to send): its state is unknown
                raise
            connection.busy = False
            if connection.finish(result, loop.time()):
                self._release(origin, connection)
            return result

    def _pooled(self, origin: tuple[str, str, int], now: float) -> tuple[Connection | None, bool]:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to have been closed
            if connection.reusable(now):
                return connection, True
            connection.close()
        return None, False

    def _release(self, origin: tuple[str, str, int], connection: Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if self._closed or len(idle) >= self._keep:
            connection.close()
        else:
            idle.append(connection)

    async def _connect(self, origin: tuple[str, str, int], seconds: float | None, request: httpx.Request) -> Connection:
        scheme, host, port = origin
        context = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
                self._ssl.set_alpn_protocols(["http/1.1"])
            context = self._ssl
        loop = asyncio.get_running_loop()
        connect = loop.create_connection(Connection, host, port, ssl=context, server_hostname=host if context else None)
        try:
            _, connection = await _within(connect, seconds, httpx.ConnectTimeout, request)
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from None
        return connection

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


async def _within(
    awaitable: Any, seconds: float | None, error: type[httpx.TimeoutException], request: httpx.Request
) -> Any:
    if seconds is None:
        return await awaitable
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise error("Timed out waiting for GitLab.", request=request) from None
