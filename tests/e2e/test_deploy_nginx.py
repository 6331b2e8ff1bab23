"""The team deployment of issue 6: the official MCP SDK client and a browser through real nginx over
HTTPS (deploy/nginx.conf), in front of three Daphne replicas on one database.

nginx spreads requests round-robin; which replica served what is read from each replica's access log.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from mcp.client.auth import OAuthClientProvider

from tests.harness import Sim, free_port, run_server, server_rows, wait_for
from tests.nginx import PROXY_ADDRESS, Deployment, run_deployment, run_nginx
from tests.oauth_client import CLIENT_REDIRECT, Browser, MemoryStorage, bearer_call, form_fields, oauth_mcp, structured

FORGED = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18"}
CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_current_user", "arguments": {}}}


@pytest.fixture(scope="module")
def deployment(sim_process: Sim, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with run_deployment(tmp_path_factory.mktemp("deployment"), sim_process, replicas=3) as deployment:
        yield deployment


class RecordingBrowser(Browser):
    """The scripted browser, with a record of what it saw; `on_gitlab` runs once, just before the
    browser first goes to GitLab."""

    def __init__(self, username: str, *, on_gitlab: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(username, **kwargs)
        self.on_gitlab = on_gitlab
        self.answers: list[httpx.Response] = []
        self.http.event_hooks["request"].append(self._before)
        self.http.event_hooks["response"].append(self.answers.append)

    def _before(self, request: httpx.Request) -> None:
        if self.on_gitlab and str(request.url).startswith(self.sim_url):
            hook, self.on_gitlab = self.on_gitlab, None
            hook()


def urls_in(value: Any) -> list[str]:
    """Every URL in a JSON-like value (metadata documents)."""
    if isinstance(value, dict):
        return [u for v in value.values() for u in urls_in(v)]
    if isinstance(value, list):
        return [u for v in value for u in urls_in(v)]
    return [value] if isinstance(value, str) and re.match(r"https?://", value) else []


def challenge_metadata_url(http: httpx.Client, base: str) -> str:
    """The resource_metadata URL of the 401 an unauthenticated MCP request gets (RFC 9728 §5.1)."""
    response = http.post(f"{base}/mcp", json=CALL, headers=MCP_HEADERS)
    assert response.status_code == 401, response.text
    found = re.search(r'resource_metadata="([^"]+)"', response.headers["www-authenticate"])
    assert found, response.headers["www-authenticate"]
    return found.group(1)


def signin_page(http: httpx.Client, base: str) -> httpx.Response:
    """Register a client and open its /authorize as a browser would: our sign-in page."""
    body = {"redirect_uris": [CLIENT_REDIRECT], "token_endpoint_auth_method": "none"}
    client_id = http.post(f"{base}/register", json=body).json()["client_id"]
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": CLIENT_REDIRECT}
    query |= {"code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"}
    to_signin = http.get(f"{base}/authorize", params=query)
    assert to_signin.headers["location"].startswith("/oauth/signin")  # relative: no host to forge
    return http.get(urljoin(base, to_signin.headers["location"]))


def gitlab_redirect_uri(http: httpx.Client, base: str) -> str:
    """The redirect_uri our server sends the browser to GitLab with, when a sign-in starts."""
    page = signin_page(http, base)
    # The CSRF cookie is Secure: a cookie jar keeps it from plain-http requests, so send it by hand.
    headers = {"cookie": f"csrftoken={page.cookies['csrftoken']}", "origin": base}
    to_gitlab = http.post(str(page.url), data={**form_fields(page.text), "leg": "authorization_code"}, headers=headers)
    assert to_gitlab.status_code == 302, to_gitlab.text[:300]
    return parse_qs(urlsplit(to_gitlab.headers["location"]).query)["redirect_uri"][0]


def tool_calls_audited(deployment: Deployment, *, after: int, count: int) -> list[tuple[str, str]]:
    """The audit rows (kind, ip) after id `after`, once `count` tool calls are among them (a call's
    row is written just after its answer is sent); empty until then."""
    sql = f"SELECT kind, ip FROM oauth_gateway_auditevent WHERE id > {after} ORDER BY id"
    rows = [(str(kind), str(ip)) for kind, ip in server_rows(deployment.database_url, sql)]
    return rows if sum(kind == "tool.call" for kind, _ in rows) >= count else []


async def test_the_sdk_signs_in_over_https_while_the_replica_it_started_on_dies(deployment, sim: Sim):
    nginx, since, killed = deployment.nginx, deployment.mark(), []

    def kill_the_replica_holding_the_sign_in() -> None:
        started = wait_for(lambda: deployment.served_by("POST /oauth/signin", since=since), "the sign-in's log line")
        killed.append(started[0])
        deployment.kill(started[0])  # GitLab's answer must reach another replica

    browser = RecordingBrowser(
        "alice", on_gitlab=kill_the_replica_holding_the_sign_in, sim_url=sim.url, verify=nginx.ssl_context()
    )
    storage, providers = MemoryStorage(), list[OAuthClientProvider]()
    try:
        async with oauth_mcp(
            nginx.url, browser, storage=storage, providers=providers, verify=nginx.ssl_context()
        ) as client:
            assert structured(await client.call_tool("get_current_user", {}))["username"] == "alice"
    finally:
        if killed:
            deployment.restart(killed[0])
    assert killed
    served = {
        step: deployment.served_by(step, since=since) for step in ("/oauth/callback", "POST /authorize", "POST /token")
    }
    assert all(replicas and killed[0] not in replicas for replicas in served.values()), (killed, served)

    # What the SDK discovered, and what the browser was sent to, is all PUBLIC_URL over https.
    context = providers[0].context
    assert context.oauth_metadata and context.protected_resource_metadata
    discovered = context.oauth_metadata.model_dump(mode="json")
    assert discovered["issuer"] == nginx.url and context.auth_server_url == nginx.url
    seen = urls_in(discovered) + urls_in(context.protected_resource_metadata.model_dump(mode="json"))
    with nginx.client() as http:
        seen.append(challenge_metadata_url(http, nginx.url))
    for answer in (a for a in browser.answers if str(a.url).startswith(nginx.url)):
        targets = re.findall(r'<form[^>]* action="([^"]*)"', answer.text) + answer.headers.get_list("location")
        seen += [urljoin(str(answer.url), target) for target in targets]
    to_gitlab = [u for u in seen if u.startswith(sim.url)]
    assert [parse_qs(urlsplit(u).query)["redirect_uri"] for u in to_gitlab] == [[f"{nginx.url}/oauth/callback"]]
    to_client = [u for u in seen if u.startswith(CLIENT_REDIRECT)]
    assert [parse_qs(urlsplit(u).query)["iss"] for u in to_client] == [[nginx.url]]  # RFC 9207
    ours = [u for u in seen if u not in to_gitlab + to_client]
    assert ours and all(u.startswith(f"{nginx.url}/") or u == nginx.url for u in ours), ours

    # The browser's cookies (CSRF, and the session the sign-in made) travel only over https.
    cookies = [c for answer in browser.answers for c in answer.headers.get_list("set-cookie")]
    assert {c.split("=")[0] for c in cookies} >= {"csrftoken", "sessionid"}
    assert all("; Secure" in c for c in cookies), cookies


async def test_a_device_sign_in_polled_on_several_replicas_then_tools_work(deployment, sim: Sim):
    nginx, since = deployment.nginx, deployment.mark()
    httpx.post(f"{sim.url}/_sim/oauth/config", json={"device_interval": 1}).raise_for_status()
    sim.fault("^/oauth/token$", status=400, body={"error": "authorization_pending"}, times=1)  # a second poll at least
    browser = RecordingBrowser("bob", leg="device", sim_url=sim.url, verify=nginx.ssl_context())
    async with oauth_mcp(nginx.url, browser, verify=nginx.ssl_context()) as client:
        assert structured(await client.call_tool("get_current_user", {}))["username"] == "bob"
    assert [p["status"] for p in browser.polls][-1] == "complete" and len(browser.polls) >= 2
    assert len(deployment.served_by("GET /oauth/poll", since=since)) >= 2


def test_forged_forwarding_and_host_headers_change_no_url(deployment, sim: Sim):
    nginx, replica = deployment.nginx, deployment.replicas[0]
    expected = {
        "issuer": nginx.url,
        "resource": f"{nginx.url}/mcp",
        "authorization_servers": [nginx.url],
        "resource_metadata": f"{nginx.url}/.well-known/oauth-protected-resource/mcp",
        "redirect_uri": f"{nginx.url}/oauth/callback",
    }
    as_the_proxy = httpx.HTTPTransport(local_address=PROXY_ADDRESS)  # a trusted peer passing them on
    clients = [  # each sends X-Forwarded-Host: evil.example, X-Forwarded-Proto: http (and -For)
        ("through nginx", nginx.url, nginx.client(headers=FORGED)),
        ("to a replica", replica.url, httpx.Client(headers=FORGED)),
        ("to a replica from the proxy's address", replica.url, httpx.Client(headers=FORGED, transport=as_the_proxy)),
    ]
    for name, base, http in clients:
        with http:
            server = http.get(f"{base}/.well-known/oauth-authorization-server").json()
            resource = http.get(f"{base}/.well-known/oauth-protected-resource/mcp").json()
            seen = {
                "issuer": server["issuer"],
                "resource": resource["resource"],
                "authorization_servers": resource["authorization_servers"],
                "resource_metadata": challenge_metadata_url(http, base),
                "redirect_uri": gitlab_redirect_uri(http, base),
            }
            assert seen == expected, name
            assert all(u.startswith(nginx.url) for u in urls_in(server) + urls_in(resource)), name
    assert replica.log_path is not None  # the replica did believe the proxy's X-Forwarded-For:
    assert "gitlab_mcp.access 203.0.113.9 GET /.well-known/" in replica.log_path.read_text()

    # A Host naming another site: nginx does not answer it at all, a replica refuses it.
    with nginx.client() as http, pytest.raises(httpx.RemoteProtocolError):
        http.get(f"{nginx.url}/.well-known/oauth-authorization-server", headers={"host": "evil.example"})
    with socket.create_connection(("127.0.0.1", urlsplit(nginx.url).port)) as raw, pytest.raises(ssl.SSLError):
        nginx.ssl_context().wrap_socket(raw, server_hostname="evil.example")  # no certificate for that name
    direct = httpx.get(f"{replica.url}/.well-known/oauth-authorization-server", headers={"host": "evil.example"})
    assert direct.status_code == 400


async def test_audit_rows_record_the_client_behind_the_proxy_not_a_forged_address(deployment, sim: Sim, tmp_path):
    nginx, port = deployment.nginx, free_port()
    untrusting = {k: v for k, v in deployment.env.items() if k != "TRUSTED_PROXIES"}
    with ExitStack() as stack, ThreadPoolExecutor(1) as pool:
        # A replica that does not trust the proxy, for the end; it starts while alice signs in.
        starting = pool.submit(stack.enter_context, run_server(untrusting, log_path=tmp_path / "other.log", port=port))
        last = server_rows(deployment.database_url, "SELECT COALESCE(MAX(id), 0) FROM oauth_gateway_auditevent")[0][0]
        browser = RecordingBrowser("alice", sim_url=sim.url, verify=nginx.ssl_context())
        browser.http.headers["x-forwarded-for"] = "203.0.113.9"
        storage = MemoryStorage()
        async with oauth_mcp(nginx.url, browser, storage=storage, verify=nginx.ssl_context()) as client:
            structured(await client.call_tool("get_current_user", {}))
        assert storage.tokens is not None
        forged = {**MCP_HEADERS, "authorization": f"Bearer {storage.tokens.access_token}"} | FORGED
        with nginx.client() as http:
            assert http.post(f"{nginx.url}/mcp", json=CALL, headers=forged).status_code == 200
        rows = wait_for(lambda: tool_calls_audited(deployment, after=last, count=2), "both tool calls' audit rows")
        assert {"signin.started", "signin.completed", "consent.given", "tool.call"} <= {kind for kind, _ in rows}
        assert {ip for _, ip in rows if ip != "None"} == {"127.0.0.1"}, rows  # not 203.0.113.9, not the proxy

        # Without TRUSTED_PROXIES, a replica records the proxy's address and ignores the header.
        starting.result()
        other = stack.enter_context(
            run_nginx(tmp_path / "nginx", https_port=free_port(), http_port=free_port(), upstream_ports=[port])
        )
        with other.client() as http:
            assert http.post(f"{other.url}/mcp", json=CALL, headers=forged).status_code == 200
        rows = wait_for(lambda: tool_calls_audited(deployment, after=last, count=3), "the third call's audit row")
    assert [ip for kind, ip in rows if kind == "tool.call"][2:] == [PROXY_ADDRESS]


def test_nginx_redirects_to_https_sends_hsts_limits_bodies_and_csrf_holds(deployment, sim: Sim):
    nginx = deployment.nginx
    plain = httpx.get(f"{nginx.http_url}/authorize?x=1")
    assert plain.status_code == 301 and plain.headers["location"] == "https://localhost/authorize?x=1"  # port 443
    with nginx.client() as http:
        for answer in (http.get(f"{nginx.url}/health"), http.post(f"{nginx.url}/mcp", json=CALL, headers=MCP_HEADERS)):
            assert answer.headers["strict-transport-security"] == "max-age=63072000", answer.status_code
        too_big = http.post(f"{nginx.url}/mcp", content=b"x" * (10 * 1024 * 1024 + 1), headers=MCP_HEADERS)
        assert too_big.status_code == 413

        # A form posted from another origin (or over http) is refused; from our own it passes, as the
        # consent forms of the sign-ins above do.
        page, fields = signin_page(http, nginx.url), {"leg": "authorization_code"}
        for origin, status in (
            ("https://evil.example", 403),
            (f"http://{urlsplit(nginx.url).netloc}", 403),
            (nginx.url, 302),
        ):
            answer = http.post(str(page.url), data={**form_fields(page.text), **fields}, headers={"origin": origin})
            assert answer.status_code == status, (origin, answer.text[:300])
        assert "; Secure" in page.headers["set-cookie"]


async def test_a_gitlab_refresh_racing_on_several_replicas_happens_once(deployment, sim: Sim):
    nginx, storage = deployment.nginx, MemoryStorage()
    browser = RecordingBrowser("alice", sim_url=sim.url, verify=nginx.ssl_context())
    async with oauth_mcp(nginx.url, browser, storage=storage, verify=nginx.ssl_context()) as client:
        structured(await client.call_tool("get_current_user", {}))
    assert storage.tokens is not None
    soon = (datetime.now(UTC) + timedelta(seconds=10)).strftime("%Y-%m-%d %H:%M:%S+00:00")  # inside the margin
    latest = "(SELECT MAX(id) FROM oauth_gateway_gitlabconnection)"
    server_rows(
        deployment.database_url,
        f"UPDATE oauth_gateway_gitlabconnection SET gitlab_expires = '{soon}' WHERE id = {latest}",
    )
    sim.fault("^/oauth/token$", delay=0.5, times=1)  # a slow GitLab: the other calls arrive meanwhile
    since = deployment.mark()
    calls = [
        asyncio.to_thread(bearer_call, nginx.url, storage.tokens.access_token, verify=nginx.ssl_context())
        for _ in range(12)
    ]
    answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [200] * 12
    assert all(a.json()["result"]["structuredContent"]["username"] == "alice" for a in answers)
    refreshes = [r for r in sim.requests() if r["path"] == "/oauth/token" and r["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1
    assert len(deployment.served_by("POST /mcp", since=since)) >= 2
