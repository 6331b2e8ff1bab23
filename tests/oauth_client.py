"""The MCP side of OAuth tests: the official SDK client with its OAuth provider, and a scripted
browser that signs a cast member in at the simulated GitLab and answers our consent page."""

from __future__ import annotations

import asyncio
import html
import re
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider, TokenStorage
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

OAUTH_ENV = {
    "OAUTH_ENABLED": "true",
    "OAUTH_SESSION_SECRET": "test-secret-0123456789-abcdefghijklmnop",
    "GITLAB_OAUTH_CLIENT_ID": "gitlab-mcp-public",
    "GITLAB_TOKEN": "",
    "OAUTH_DEVICE_POLL_INTERVAL": "1",
    "OAUTH_REGISTRATIONS_PER_HOUR": "1000",
}
CLIENT_REDIRECT = "http://127.0.0.1:59999/callback"  # never listened on: the browser stops there


class MemoryStorage(TokenStorage):
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Browser:
    """Follows redirects like a browser, signed in at GitLab as `username`, and clicks through."""

    def __init__(
        self,
        username: str,
        *,
        leg: str = "authorization_code",
        allow: bool = True,
        sim_url: str = "",
        verify: ssl.SSLContext | bool = True,
        stop_at: str = CLIENT_REDIRECT,
    ) -> None:
        # Like a real browser, form POSTs carry their Origin (Django's CSRF check needs it over HTTPS).
        self.http = httpx.Client(
            follow_redirects=False, timeout=30, verify=verify, event_hooks={"request": [_with_origin]}
        )
        self.http.cookies.set("gitlab_sim_user", username)
        self.username, self.leg, self.allow, self.sim_url = username, leg, allow, sim_url
        self.stop_at = stop_at  # the client's redirect URI (a prefix): handed to the client, never fetched
        self.pages: list[str] = []
        self.polls: list[dict[str, Any]] = []
        self.redirected: list[dict[str, str]] = []  # the query of each answer on the client's redirect URI

    def authorize(self, url: str) -> dict[str, str]:
        """Walk from the client's /authorize URL to the client's redirect URI; its query params."""
        response = self.http.get(url)
        for _ in range(20):
            location = response.headers.get("location")
            if location:
                target = urljoin(str(response.url), location)
                if target.startswith(self.stop_at):
                    self.redirected.append({k: v[0] for k, v in parse_qs(urlsplit(target).query).items()})
                    return self.redirected[-1]
                response = self.http.get(target)
                continue
            self.pages.append(response.text)
            if response.status_code != 200:
                raise AssertionError(f"{response.status_code} at {response.url}: {response.text[:300]}")
            fields = form_fields(response.text)
            if 'id="user-code"' in response.text:
                response = self._enter_device_code(response)
            # By the buttons' names: a bare "leg" can turn up in the random tokens a consent page carries.
            elif 'name="leg"' in response.text and "next" in fields:
                response = self.http.post(str(response.url), data={**fields, "leg": self.leg})
            elif 'name="allow"' in response.text and "client_id" in fields:
                choice = {"allow": "Authorize"} if self.allow else {"cancel": "cancel"}
                response = self.http.post(urljoin(str(response.url), "/authorize"), data={**fields, **choice})
            else:
                raise AssertionError(f"unexpected page at {response.url}: {response.text[:300]}")
        raise AssertionError("too many redirects")

    def _enter_device_code(self, page: httpx.Response) -> httpx.Response:
        """Do what the user does at GitLab (approve the code), then what the page's script does."""
        user_code = re.search(r'id="user-code">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
        approval = {"user_code": user_code, "username": self.username, "deny": not self.allow}
        httpx.post(f"{self.sim_url}/_sim/oauth/device", json=approval).raise_for_status()
        poll_url = urljoin(str(page.url), re.search(r'const pollUrl = "([^"]+)"', page.text).group(1))  # type: ignore[union-attr]
        for _ in range(60):
            status = self.http.get(poll_url).json()
            self.polls.append(status)
            if status["status"] == "complete":
                return self.http.get(urljoin(str(page.url), status["next"]))
            if status["status"] == "failed" and status.get("next"):  # the page's script follows it
                return httpx.Response(302, headers={"location": status["next"]}, request=page.request)
            if status["status"] == "failed":
                raise DeviceSignInFailed(status["error"])
            time.sleep(0.25)
        raise AssertionError("device sign-in never completed")


def _with_origin(request: httpx.Request) -> None:
    if request.method == "POST":
        request.headers["origin"] = f"{request.url.scheme}://{request.url.netloc.decode()}"


class DeviceSignInFailed(Exception):
    pass


def form_fields(page: str) -> dict[str, str]:
    """The hidden inputs (and csrf token) of the first form on a page."""
    fields = {}
    for tag in re.findall(r"<input[^>]+>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


@asynccontextmanager
async def oauth_mcp(
    server_url: str,
    browser: Browser,
    *,
    storage: MemoryStorage | None = None,
    confidential: bool = False,
    providers: list[OAuthClientProvider] | None = None,
    verify: ssl.SSLContext | bool = True,
    path: str = "/mcp",
    mode: str = "auto",
) -> AsyncIterator[Client]:
    """An MCP SDK client that signs in through OAuth (discovery, registration, PKCE) as the browser's user,
    at `path` ("/mcp", or "/" as Claude.ai connectors use it), in protocol `mode` ("legacy": initialize)."""
    storage = storage or MemoryStorage()
    pending: dict[str, str] = {}

    async def redirect_handler(url: str) -> None:
        pending["url"] = url

    async def callback_handler() -> AuthorizationCodeResult:
        params = await asyncio.to_thread(browser.authorize, pending.pop("url"))
        if "code" not in params:
            raise RuntimeError(f"authorization failed: {params}")
        return AuthorizationCodeResult(code=params["code"], state=params.get("state"), iss=params.get("iss"))

    metadata = OAuthClientMetadata(
        client_name="Test client",
        redirect_uris=[CLIENT_REDIRECT],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="client_secret_post" if confidential else "none",
    )
    provider = OAuthClientProvider(
        server_url=f"{server_url}{path}",
        client_metadata=metadata,
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    if providers is not None:
        providers.append(provider)
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30, verify=verify) as http,
        Client(streamable_http_client(f"{server_url}{path}", http_client=http), mode=mode) as client,
    ):
        yield client


def bearer_call(server_url: str, access_token: str, *, verify: ssl.SSLContext | bool = True) -> httpx.Response:
    """One `tools/call get_current_user` on /mcp with this bearer token, outside the SDK, to see the
    server's raw answer (200 with a result, or 401 with its challenge)."""
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_current_user", "arguments": {}}}
    headers = {
        "authorization": f"Bearer {access_token}",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-06-18",
    }
    return httpx.post(f"{server_url}/mcp", json=call, headers=headers, timeout=30, verify=verify)


def mcp_status(server: Any, access_token: str) -> int:
    return bearer_call(server.url, access_token).status_code


def structured(result: Any) -> Any:
    assert not result.is_error, result.content
    return result.structured_content
