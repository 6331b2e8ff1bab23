"""An MCP client spelled out with httpx: the authorization spec's discovery, registration, PKCE and
tokens, then JSON-RPC over POST. It gets the Inspector its bearer token, and with Claude.ai's
conventions it stands in for a Claude.ai custom connector (tests/e2e/test_client_matrix.py).

The steps (MCP authorization, 2025-06-18 and later): an unauthenticated request gets 401 with
`resource_metadata` (RFC 9728 §5.1); that document names the resource and its authorization server,
whose RFC 8414 metadata names the endpoints; the client registers (RFC 7591), sends the user to
/authorize with PKCE and `resource` (RFC 8707), and redeems the code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.oauth_client import Browser

CLAUDE_CALLBACK = "https://claude.ai/api/mcp/auth_callback"
CLAUDE_ORIGIN = "https://claude.ai"
PROTOCOL = "2025-06-18"


class SignInFailed(AssertionError):
    pass


def sign_in(url: str, browser: Browser, *, client_name: str, redirect_uri: str, origin: str = "") -> dict[str, Any]:
    """Discover, register, authorize as the browser's user and redeem the code, as a spec-following
    client pointed at `url` does; the token answer plus what it used on the way."""
    headers = {"origin": origin} if origin else {}
    with httpx.Client(timeout=30, headers=headers) as http:
        challenge = rpc_response(http, url, "", "initialize", initialize_params())
        if challenge.status_code != 401:
            raise SignInFailed(f"POST {url} without a token answered {challenge.status_code}, not 401")
        header = challenge.headers.get("www-authenticate", "")
        metadata_url = _param(header, "resource_metadata")
        resource_metadata = _json(http.get(metadata_url))
        resource = resource_metadata["resource"]
        if not _covers(resource, url):  # what the SDKs check before sending a token anywhere
            raise SignInFailed(f"protected resource {resource} (from {metadata_url}) does not match {url}")
        issuer = resource_metadata["authorization_servers"][0]
        server = _json(http.get(f"{issuer}/.well-known/oauth-authorization-server"))
        scope = _param(header, "scope") or " ".join(resource_metadata.get("scopes_supported", []))
        client = _json(
            http.post(
                server["registration_endpoint"],
                json={
                    "client_name": client_name,
                    "redirect_uris": [redirect_uri],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                    "token_endpoint_auth_method": "none",
                },
            ),
            201,
        )
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = {
            "response_type": "code",
            "client_id": client["client_id"],
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
            "scope": scope,
            "resource": resource,
        }
        answer = browser.authorize(f"{server['authorization_endpoint']}?{httpx.QueryParams(query)}")
        if answer.get("state") != state or "code" not in answer:
            raise SignInFailed(f"the redirect URI received {answer}")
        if answer.get("iss") not in (None, server["issuer"]):  # RFC 9207
            raise SignInFailed(f"iss {answer['iss']} is not the issuer {server['issuer']}")
        form = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": redirect_uri}
        form |= {"client_id": client["client_id"], "code_verifier": verifier, "resource": resource}
        token_endpoint = server["token_endpoint"]
        tokens = _json(http.post(token_endpoint, data=form))
    return {**tokens, "client_id": client["client_id"], "resource": resource, "token_endpoint": token_endpoint}


def refreshed(signed_in: dict[str, Any], origin: str = "") -> dict[str, Any]:
    """The refresh_token grant (rotation: a new refresh token comes back)."""
    form = {"grant_type": "refresh_token", "refresh_token": signed_in["refresh_token"]}
    form |= {"client_id": signed_in["client_id"], "resource": signed_in["resource"]}
    headers = {"origin": origin} if origin else {}
    return {**signed_in, **_json(httpx.post(signed_in["token_endpoint"], data=form, headers=headers, timeout=30))}


def claude_ai(url: str, username: str) -> dict[str, Any]:
    """A Claude.ai custom connector's flow against the URL a user typed: registered as "Claude" with
    Claude.ai's callback, Origin https://claude.ai on every call, JSON-RPC POSTed to that URL."""
    browser = Browser(username, stop_at=CLAUDE_CALLBACK)  # the code goes to claude.ai, never fetched here
    signed_in = sign_in(url, browser, client_name="Claude", redirect_uri=CLAUDE_CALLBACK, origin=CLAUDE_ORIGIN)
    with httpx.Client(timeout=30, headers={"origin": CLAUDE_ORIGIN}) as http:
        init = rpc(http, url, signed_in["access_token"], "initialize", initialize_params())
        rpc(http, url, signed_in["access_token"], "notifications/initialized", {})
        tools = rpc(http, url, signed_in["access_token"], "tools/list", {})["tools"]
        me = rpc(http, url, signed_in["access_token"], "tools/call", {"name": "get_current_user", "arguments": {}})
        signed_in = refreshed(signed_in, CLAUDE_ORIGIN)
        again = rpc(http, url, signed_in["access_token"], "tools/call", {"name": "get_current_user", "arguments": {}})
    return {
        "protocol": init["protocolVersion"],
        "tools": len(tools),
        "me": me.get("structuredContent"),
        "meAfterRefresh": again.get("structuredContent"),
    }


def initialize_params() -> dict[str, Any]:
    return {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "claude-ai", "version": "0"}}


def rpc(http: httpx.Client, url: str, token: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """One JSON-RPC message; the result of a request ({} for a notification)."""
    response = rpc_response(http, url, token, method, params)
    if response.status_code == 202 and method.startswith("notifications/"):
        return {}
    if response.status_code != 200:
        raise SignInFailed(f"{method}: {response.status_code} {response.text[:200]}")
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        text = [line[5:] for line in text.splitlines() if line.startswith("data:")][-1]
    message = json.loads(text)
    if "error" in message:
        raise SignInFailed(f"{method}: {message['error']}")
    return dict(message["result"])


def rpc_response(http: httpx.Client, url: str, token: str, method: str, params: dict[str, Any]) -> httpx.Response:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if not method.startswith("notifications/"):
        message["id"] = 1
    headers = {"accept": "application/json, text/event-stream"}
    if token:
        headers |= {"authorization": f"Bearer {token}", "mcp-protocol-version": PROTOCOL}
    return http.post(url, json=message, headers=headers)


def _covers(resource: str, url: str) -> bool:
    """RFC 8707 `resource` covers `url`: same origin, and its path is a prefix of the URL's."""
    r, u = urlsplit(resource), urlsplit(url)
    same_origin = (r.scheme, r.netloc) == (u.scheme, u.netloc)
    return same_origin and f"{u.path.rstrip('/')}/".startswith(f"{r.path.rstrip('/')}/")


def _param(header: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', header)
    return match.group(1) if match else ""


def _json(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    if response.status_code != status:
        what = f"{response.request.method} {response.url}"
        raise SignInFailed(f"{what} answered {response.status_code}: {response.text[:300]}")
    return dict(response.json())
