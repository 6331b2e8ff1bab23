"""The HTTP/1.1 reader and writer of the GitLab transport (mcp_bridge/http11.py): well-formed answers
however the network splits them, and a ProtocolError (the connection dropped) for anything else."""

from __future__ import annotations

import asyncio
import gzip
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_bridge.http11 import Closed, ProtocolError, Reader, request_head


def read(pieces: list[bytes], method: str = "GET", *, closes: bool = True):
    """Read one response from `pieces` as they arrive; then the server closes (if `closes`)."""
    buffer = bytearray()
    queue = list(pieces)
    state = {"eof": False}

    async def more() -> None:
        if queue:
            buffer.extend(queue.pop(0))
        elif closes and not state["eof"]:
            state["eof"] = True
        else:
            raise Closed("closed")

    async def main():
        response = await Reader(buffer, more).response(method)
        return response, bytes(buffer)

    return asyncio.run(main())


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'5;ext=1\r\n{"a":\r\n3\r\n 1}\r\n0\r\nX-Trailer: yes\r\n\r\n'
)
SIZED = b'HTTP/1.1 201 Created\r\nContent-Length: 7\r\nX-Total:  12 \r\n\r\n{"b":2}'


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12), which=st.sampled_from([CHUNKED, SIZED]))
def test_an_answer_reads_the_same_however_it_is_split(cuts: list[int], which: bytes) -> None:
    response, rest = read(split(which, cuts))
    if which is CHUNKED:
        assert (response.status, response.content) == (200, b'{"a": 1}')
    else:
        assert (response.status, response.reason, response.content) == (201, b"Created", b'{"b":2}')
        assert (b"x-total", b"12") in response.headers  # names lower-cased, values trimmed
    assert response.keep_alive and rest == b""


def test_bodies_framed_by_close_by_status_and_by_method() -> None:
    until_close, _ = read([b"HTTP/1.1 200 OK\r\n\r\nall of ", b"it"])
    assert until_close.content == b"all of it" and not until_close.keep_alive
    no_content, _ = read([b"HTTP/1.1 204 No Content\r\n\r\n"], closes=False)
    assert no_content.content == b"" and no_content.keep_alive
    head, _ = read([b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"], "HEAD", closes=False)
    assert head.content == b"" and head.keep_alive
    continued, _ = read([b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
    assert (continued.status, continued.content) == (200, b"ok")
    packed = gzip.compress(b"x" * 100)
    raw, _ = read(
        [b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(packed), packed)]
    )
    assert raw.content == packed  # decoding is httpx's business, as with any transport


def test_when_a_connection_may_be_reused() -> None:
    close, _ = read([b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"])
    old, _ = read([b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"])
    old_kept, _ = read([b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"])
    extra, rest = read([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSURPRISE"])
    assert (close.keep_alive, old.keep_alive, old_kept.keep_alive, extra.keep_alive) == (False, False, True, False)
    assert extra.content == b"ok" and rest == b"SURPRISE"


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n folded: header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nabcde\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70_000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # then the server closes
        b"HTTP/1.1 200 O",  # closed mid-head
    ],
)
def test_malformed_or_cut_answers_are_protocol_errors(answer: bytes) -> None:
    with pytest.raises(ProtocolError):
        read([answer])


def test_request_heads_and_refused_headers() -> None:
    head = request_head("GET", b"/api/v4/projects/a%2Fb?x=1", [(b"Host", b"gitlab"), (b"PRIVATE-TOKEN", b"t")], b"")
    assert head == b"GET /api/v4/projects/a%2Fb?x=1 HTTP/1.1\r\nHost: gitlab\r\nPRIVATE-TOKEN: t\r\n\r\n"
    chunked = request_head("POST", b"/x", [(b"Host", b"g"), (b"Transfer-Encoding", b"chunked")], b"abc")
    assert chunked.endswith(b"\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    for name, value in [(b"PRIVATE-TOKEN", b"t\r\nX-Evil: 1"), (b"X\nY", b"v"), (b"A", b"nul\0"), (b"", b"v")]:
        with pytest.raises(ProtocolError, match="refused"):
            request_head("GET", b"/", [(name, value)], b"")
