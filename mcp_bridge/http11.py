"""HTTP/1.1 messages as the GitLab transport (mcp_bridge.transport) writes and reads them (RFC 9112).

Only what a client of an API needs: a request head with its body, and a response read whole
(Content-Length, chunked, or until the connection closes), strictly: anything malformed is a
ProtocolError and the connection is dropped. h11 did this before at a fifth of a tool call's CPU,
most of it in per-header regular expressions; here a header is split once and checked for the bytes
that would break framing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MAX_HEAD = 64 * 1024  # status line and headers of one response
MAX_LINE = 4 * 1024  # a chunk-size line or a trailer field
FORBIDDEN_IN_HEADERS = (b"\r", b"\n", b"\0")
NO_BODY_STATUSES = frozenset({204, 304})


class ProtocolError(Exception):
    """The response (or a request header) does not follow HTTP/1.1: the connection cannot be trusted."""


class Closed(ProtocolError):
    """The server closed the connection before the response was complete."""


@dataclass(slots=True)
class Response:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]  # names lower-cased
    content: bytes
    keep_alive: bool


def request_head(method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    """The request line, headers and body. A header holding CR, LF or NUL is refused: it would let a
    value (a token from the database, a path) write headers or a request of its own."""
    lines = [b"%s %s HTTP/1.1" % (method.encode("ascii"), target)]
    chunked = False
    for name, value in headers:
        if any(bad in name or bad in value for bad in FORBIDDEN_IN_HEADERS) or b":" in name or not name:
            raise ProtocolError(f"refused to send header {name[:40]!r}: it holds a control character")
        if name.lower() == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
        lines.append(name + b": " + value)
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    if chunked:  # httpx framed a body of unknown length so; it is in hand now, sent as one chunk
        return head + (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
    return head + body


class Reader:
    """Reads one response at a time from a connection's receive buffer. `more()` waits for more bytes
    to arrive in `buffer` and raises Closed when the server has closed the connection instead."""

    def __init__(self, buffer: bytearray, more: Callable[[], Awaitable[None]]) -> None:
        self.buffer = buffer
        self.more = more

    async def response(self, method: str) -> Response:
        while True:
            status, reason, version, headers = await self._head()
            if status >= 200:
                break  # 1xx (informational): the final response follows
        fields: dict[bytes, list[bytes]] = {}
        for name, value in headers:
            fields.setdefault(name, []).append(value)
        connection_tokens = {t.strip().lower() for v in fields.get(b"connection", []) for t in v.split(b",")}
        keep_alive = b"close" not in connection_tokens and (
            version == b"HTTP/1.1" or b"keep-alive" in connection_tokens
        )
        if method == "HEAD" or status in NO_BODY_STATUSES:
            content = b""
        elif b"transfer-encoding" in fields:
            codings = [c.strip().lower() for v in fields[b"transfer-encoding"] for c in v.split(b",")]
            if codings[-1] != b"chunked":
                raise ProtocolError("a response whose body ends only when the connection does")
            content = await self._chunked()
        elif b"content-length" in fields:
            content = await self._exactly(_content_length(fields[b"content-length"]))
        else:  # read until the server closes (RFC 9112 §6.3, case 8)
            content = await self._until_closed()
            keep_alive = False
        if self.buffer:  # bytes beyond the response: nothing else can follow on this connection
            keep_alive = False
        return Response(status, reason, headers, content, keep_alive)

    async def _head(self) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        start = 0
        while (end := self.buffer.find(b"\r\n\r\n", start)) < 0:
            if len(self.buffer) > MAX_HEAD:
                raise ProtocolError("the response's headers are too large")
            start = max(0, len(self.buffer) - 3)
            await self.more()
        if end > MAX_HEAD:
            raise ProtocolError("the response's headers are too large")
        lines = bytes(self.buffer[:end]).split(b"\r\n")
        del self.buffer[: end + 4]
        version, _, rest = lines[0].partition(b" ")
        code, _, reason = rest.partition(b" ")
        if version not in (b"HTTP/1.1", b"HTTP/1.0") or len(code) != 3 or not code.isdigit():
            raise ProtocolError(f"not an HTTP/1.1 status line: {lines[0][:60]!r}")
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip() or b"\0" in line:
                raise ProtocolError(f"a malformed header line: {line[:60]!r}")
            headers.append((name.lower(), value.strip(b" \t")))
        return int(code), reason, version, headers

    async def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self.more()
        content = bytes(self.buffer[:size])
        del self.buffer[:size]
        return content

    async def _line(self) -> bytes:
        while (end := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > MAX_LINE:
                raise ProtocolError("a chunk-size or trailer line is too long")
            await self.more()
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 2]
        return line

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_text = (await self._line()).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError(f"a malformed chunk size: {size_text[:20]!r}") from None
            if size < 0 or not size_text.isalnum():
                raise ProtocolError(f"a malformed chunk size: {size_text[:20]!r}")
            if size == 0:
                while await self._line():  # trailer fields, until the empty line
                    pass
                return b"".join(parts)
            parts.append(await self._exactly(size))
            if await self._exactly(2) != b"\r\n":
                raise ProtocolError("a chunk does not end where its size says")

    async def _until_closed(self) -> bytes:
        while True:
            try:
                await self.more()
            except Closed:
                break
        content = bytes(self.buffer)
        self.buffer.clear()
        return content


def _content_length(values: list[bytes]) -> int:
    # Several equal values (or a list of them) are allowed; different ones are an attack (RFC 9112 §6.3).
    lengths = {part.strip() for value in values for part in value.split(b",")}
    if len(lengths) != 1 or not (length := lengths.pop()).isdigit():
        raise ProtocolError("a missing, malformed or conflicting Content-Length")
    return int(length)
