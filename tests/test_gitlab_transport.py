"""The keep-alive transport the tools' GitLab client uses (mcp_bridge/transport.py), against a real
HTTP/1.1 server on a loopback port that can misbehave the way servers do: close idle connections,
close without answering, answer slowly, chunk and compress."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from mcp_bridge import transport
from mcp_bridge.errors import GitLabUnavailable
from mcp_bridge.gitlab import Credentials, GitLabClient, ViaClient
from mcp_bridge.transport import KeepAliveTransport, for_environment


class Upstream:
    """A tiny HTTP/1.1 server. `behaviour(n, method, path)` for the n-th request (1-based) on a
    connection returns what to do: "ok", "close" (close without answering), "slow", "chunked-gzip",
    "close-after" (answer with Connection: close)."""

    def __init__(self, behaviour=lambda n, method, path: "ok") -> None:
        self.behaviour = behaviour
        self.connections = 0
        self.requests: list[tuple[int, str, str, bytes]] = []  # connection number, method, path, body

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number, served = self.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *lines = head.decode().split("\r\n")
                method, path, _ = request_line.split(" ")
                headers = dict(line.lower().split(": ", 1) for line in lines if line)
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                served += 1
                self.requests.append((number, method, path, body))
                what = self.behaviour(served, method, path)
                if what == "close":
                    writer.close()
                    return
                if what == "slow":
                    await asyncio.sleep(2)
                payload = f'{{"path": "{path}", "connection": {number}}}'.encode()
                if what == "chunked-gzip":
                    packed = gzip.compress(payload)
                    pieces = [packed[i : i + 7] for i in range(0, len(packed), 7)]
                    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
                    )
                else:
                    close = b"Connection: close\r\n" if what == "close-after" else b""
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s"
                        % (close, len(payload), payload)
                    )
                await writer.drain()
                if what == "close-after":
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@asynccontextmanager
async def serve(upstream: Upstream, ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", 0, ssl=ssl_context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    finally:
        server.close()


def client(**options) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=KeepAliveTransport(**options), timeout=httpx.Timeout(1.0))


async def test_connections_are_kept_alive_and_reused() -> None:
    upstream = Upstream()
    async with serve(upstream) as url, client() as http:
        for path in ("/a", "/b", "/c"):
            response = await http.get(f"{url}{path}?x=1")
            assert response.status_code == 200 and response.json() == {"path": f"{path}?x=1", "connection": 1}
    assert upstream.connections == 1


async def test_concurrent_requests_get_their_own_connections_and_all_are_answered() -> None:
    upstream = Upstream()
    async with serve(upstream) as url, client(max_keepalive_connections=2) as http:
        responses = await asyncio.gather(*(http.get(f"{url}/n{i}") for i in range(6)))
        assert [r.json()["path"] for r in responses] == [f"/n{i}" for i in range(6)]
        kept = upstream.connections
        await asyncio.gather(*(http.get(f"{url}/again{i}") for i in range(2)))
        assert upstream.connections == kept  # the two kept connections served the next two


async def test_a_get_is_sent_again_when_a_reused_connection_was_closed_unanswered() -> None:
    upstream = Upstream(lambda n, method, path: "close" if n == 2 else "ok")
    async with serve(upstream) as url, client() as http:
        assert (await http.get(f"{url}/first")).json()["connection"] == 1
        again = await http.get(f"{url}/second")
    assert again.json() == {"path": "/second", "connection": 2}
    assert [(c, p) for c, _, p, _ in upstream.requests] == [(1, "/first"), (1, "/second"), (2, "/second")]


async def test_a_post_is_never_sent_twice() -> None:
    upstream = Upstream(lambda n, method, path: "close" if n == 2 else "ok")
    async with serve(upstream) as url, client() as http:
        await http.get(f"{url}/first")
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(f"{url}/create", json={"title": "once"})
        assert [(m, p, b) for _, m, p, b in upstream.requests if m == "POST"] == [
            ("POST", "/create", b'{"title":"once"}')
        ]
        assert (await http.get(f"{url}/after")).status_code == 200  # the pool recovers


async def test_connection_close_and_idle_expiry_open_new_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = Upstream(lambda n, method, path: "close-after" if path == "/bye" else "ok")
    async with serve(upstream) as url, client() as http:
        await http.get(f"{url}/bye")
        await http.get(f"{url}/next")
        assert upstream.connections == 2
        monkeypatch.setattr(transport, "KEEPALIVE_EXPIRY", 0.0)
        await http.get(f"{url}/expired")
        assert upstream.connections == 3


async def test_chunked_and_gzip_bodies_are_decoded() -> None:
    async with serve(Upstream(lambda n, method, path: "chunked-gzip")) as url, client() as http:
        response = await http.get(f"{url}/packed")
    assert response.json() == {"path": "/packed", "connection": 1}


async def test_timeouts_and_refused_connections_are_httpx_errors() -> None:
    upstream = Upstream(lambda n, method, path: "slow")
    async with serve(upstream) as url:
        async with httpx.AsyncClient(transport=KeepAliveTransport(), timeout=httpx.Timeout(0.2)) as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(f"{url}/slow")
        port = int(url.rsplit(":", 1)[1])
    async with client() as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/gone")


async def test_the_pool_limit_queues_requests_and_its_timeout_is_a_pool_timeout() -> None:
    upstream = Upstream(lambda n, method, path: "slow" if path == "/slow" else "ok")
    async with (
        serve(upstream) as url,
        httpx.AsyncClient(
            transport=KeepAliveTransport(max_connections=1), timeout=httpx.Timeout(5.0, pool=0.2)
        ) as http,
    ):
        slow = asyncio.ensure_future(http.get(f"{url}/slow"))
        await asyncio.sleep(0.1)
        with pytest.raises(httpx.PoolTimeout):
            await http.get(f"{url}/waiting")
        assert (await slow).status_code == 200
        assert (await http.get(f"{url}/then")).status_code == 200


async def test_a_cancelled_request_does_not_leave_its_connection_in_the_pool() -> None:
    upstream = Upstream(lambda n, method, path: "slow" if path == "/slow" else "ok")
    async with serve(upstream) as url, client() as http:
        task = asyncio.ensure_future(http.get(f"{url}/slow"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        response = await http.get(f"{url}/next")
    assert response.json() == {"path": "/next", "connection": 2}


async def test_https_with_the_hosts_certificate_checked(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    async with serve(Upstream(), server_context) as url:
        trusting = ssl.create_default_context(cafile=str(cert))
        async with client(ssl_context=trusting) as http:
            assert (await http.get(f"{url}/tls")).json()["path"] == "/tls"
        async with client() as http:  # the system's CAs do not know this certificate
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(f"{url}/tls")


async def test_the_gitlab_client_uses_it_unless_a_proxy_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = Upstream(lambda n, method, path: "close" if n == 2 else "ok")
    async with serve(upstream) as url:
        gitlab = GitLabClient(url, max_retries=0)
        assert (await gitlab.request("GET", "/projects/1", Credentials("t"), what="project 1")).status_code == 200
        assert (await gitlab.request("GET", "/projects/2", Credentials("t"), what="project 2")).status_code == 200
        assert isinstance(gitlab.sender(), KeepAliveTransport)
        await gitlab.aclose()
        upstream.behaviour = lambda n, method, path: "close"
        with pytest.raises(GitLabUnavailable, match="Could not connect to GitLab"):
            await GitLabClient(url, max_retries=0).request("GET", "/projects/3", Credentials("t"), what="project 3")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert for_environment() is None  # httpx's own client, which honours the proxy
    proxied = GitLabClient("https://gitlab.example/api/v4")
    assert isinstance(proxied.sender(), ViaClient)
    await proxied.aclose()


def self_signed(folder: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, key_file = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, key_file


async def test_a_cookie_one_caller_was_given_is_never_sent_for_another() -> None:
    seen: list[tuple[str | None, str | None]] = []

    def gitlab(request: httpx.Request) -> httpx.Response:
        seen.append((request.headers.get("cookie"), request.headers.get("private-token")))
        return httpx.Response(200, json={}, headers={"set-cookie": "_gitlab_session=alice-session; path=/"})

    client = GitLabClient("https://gitlab.example/api/v4", transport=httpx.MockTransport(gitlab))
    await client.request("GET", "/user", Credentials("alice-token"), what="alice")
    await client.request("GET", "/user", Credentials("bob-token"), what="bob")
    assert seen == [(None, "alice-token"), (None, "bob-token")]
