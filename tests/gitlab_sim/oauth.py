"""GitLab as an OAuth 2 provider (doc/api/oauth2.md, doc/integration/oauth_provider.md).

/oauth/authorize (authorization code with PKCE), /oauth/token (authorization_code, refresh_token with
rotation, device_code), /oauth/authorize_device, /oauth/revoke and /oauth/token/info.

A person signs in at /users/sign_in by picking a seeded user (signin.py), then authorizes or denies
on GitLab's authorize page; the device page at /oauth/device takes a user code and asks the same
question (pages.py draws them). Tests skip the pages: the cookie `gitlab_sim_user`
(a username) signs the browser in and authorizes at once, as GitLab does for a trusted application,
and `gitlab_sim_deny=1` makes that answer "deny". Test hooks under /_sim/oauth/: config (device
interval, token lifetime), device (approve or deny a user code), expire (age a user's access
tokens), tokens (what is live).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from tests.gitlab_sim import pages
from tests.gitlab_sim.http import read_body
from tests.gitlab_sim.signin import TEST_USER_COOKIE, here, home, sign_in, sign_in_page, sign_out, signed_in
from tests.gitlab_sim.world import Token

# The OAuth applications this GitLab knows. Redirect URIs: loopback /oauth/callback on any port,
# since each test server listens on a fresh port.
APPS = {
    "gitlab-mcp-public": {"secret": None, "name": "GitLab MCP"},
    "gitlab-mcp-confidential": {"secret": "sim-confidential-secret", "name": "GitLab MCP (confidential)"},
}
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI "
    "used in the authorization request, or was issued to another client."
)


@dataclass
class OAuthState:
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)  # refresh token -> grant
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)  # device code -> state
    device_interval: int = 5
    token_ttl: int = 7200


def oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def handle(sim: Any, request: Request, path: str) -> Response:
    routes = {
        ("GET", "/oauth/authorize"): authorize,
        ("POST", "/oauth/authorize"): authorize_decision,
        ("GET", "/oauth/device"): device_page,
        ("POST", "/oauth/device"): device_enter_code,
        ("POST", "/oauth/device/confirm"): device_decision,
        ("GET", "/users/sign_in"): sign_in_page,
        ("POST", "/users/sign_in"): sign_in,
        ("GET", "/users/sign_out"): sign_out,
        ("GET", "/"): home,
        ("POST", "/oauth/token"): token,
        ("POST", "/oauth/authorize_device"): authorize_device,
        ("POST", "/oauth/revoke"): revoke,
        ("GET", "/oauth/token/info"): token_info,
    }
    handler = routes.get((request.method, path))
    if handler is None:
        return JSONResponse({"error": "not_found"}, status_code=404)
    return await handler(sim, request)


async def authorize(sim: Any, request: Request) -> Response:
    q = request.query_params
    client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
    if client_id not in APPS or not _allowed_redirect(redirect_uri):
        # GitLab shows an error page and does not redirect for an unknown client or redirect URI.
        return HTMLResponse("<h1>An error has occurred</h1><p>Client authentication failed.</p>", 400)
    if q.get("response_type") != "code":
        return _back(redirect_uri, {"error": "unsupported_response_type", "state": q.get("state")})
    user = sim.world.by_username(request.cookies.get(TEST_USER_COOKIE, ""))
    if user is not None:  # the tests' shortcut: a trusted application, no question asked
        if request.cookies.get("gitlab_sim_deny") == "1":
            return _denied(redirect_uri, q.get("state"))
        return _grant(sim, user, q)
    person = signed_in(sim, request)
    if person is None:
        return RedirectResponse(f"/users/sign_in?{urlencode({'redirect_to': here(request)})}", status_code=302)
    scopes = (q.get("scope") or "api").split()
    return pages.authorize(person, APPS[client_id]["name"], scopes, q.multi_items())


async def authorize_decision(sim: Any, request: Request) -> Response:
    """The person's answer on the authorize page (GitLab posts Authorize, and Deny, to /oauth/authorize)."""
    form = await read_body(request)
    client_id, redirect_uri = str(form.get("client_id", "")), str(form.get("redirect_uri", ""))
    if client_id not in APPS or not _allowed_redirect(redirect_uri):
        return HTMLResponse("<h1>An error has occurred</h1><p>Client authentication failed.</p>", 400)
    person = signed_in(sim, request)
    if person is None:
        return RedirectResponse("/users/sign_in", status_code=302)
    if form.get("decision") != "authorize":
        return _denied(redirect_uri, form.get("state"))
    return _grant(sim, person, form)


def _grant(sim: Any, user: dict[str, Any], q: Any) -> Response:
    client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
    code = secrets.token_hex(32)
    sim.oauth.codes[code] = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "user_id": user["id"],
        "scopes": tuple((q.get("scope") or "api").split()),
        "challenge": q.get("code_challenge"),
        "method": q.get("code_challenge_method", "plain"),
        "expires": time.time() + 600,
    }
    return _back(redirect_uri, {"code": code, "state": q.get("state")})


def _denied(redirect_uri: str, state: Any) -> Response:
    denied = {"error": "access_denied", "error_description": "The resource owner denied the request."}
    return _back(redirect_uri, {**denied, "state": state})


async def token(sim: Any, request: Request) -> Response:
    body = await read_body(request)
    client_id = str(body.get("client_id", ""))
    app = APPS.get(client_id)
    if app is None or (app["secret"] and not secrets.compare_digest(str(body.get("client_secret", "")), app["secret"])):
        return oauth_error("invalid_client", "Client authentication failed due to unknown client.", 401)
    grant = body.get("grant_type")
    if grant == "authorization_code":
        return _exchange_code(sim, client_id, body)
    if grant == "refresh_token":
        found = sim.oauth.refresh.pop(str(body.get("refresh_token", "")), None)  # single use: rotation
        if found is None or found["client_id"] != client_id:
            return oauth_error("invalid_grant", INVALID_GRANT)
        sim.world.tokens.pop(found["access_token"], None)  # GitLab revokes the old access token
        return _issue(sim, client_id, found["user_id"], found["scopes"])
    if grant == DEVICE_GRANT:
        return _poll_device(sim, client_id, str(body.get("device_code", "")))
    return oauth_error("unsupported_grant_type", "The authorization grant type is not supported.")


def _exchange_code(sim: Any, client_id: str, body: dict[str, Any]) -> Response:
    data = sim.oauth.codes.pop(str(body.get("code", "")), None)  # codes are single use
    if data is None or data["client_id"] != client_id or data["expires"] < time.time():
        return oauth_error("invalid_grant", INVALID_GRANT)
    if data["redirect_uri"] != body.get("redirect_uri"):
        return oauth_error("invalid_grant", INVALID_GRANT)
    if data["challenge"] and not _pkce_ok(data["challenge"], data["method"], str(body.get("code_verifier", ""))):
        return oauth_error("invalid_grant", INVALID_GRANT)
    return _issue(sim, client_id, data["user_id"], data["scopes"])


def _poll_device(sim: Any, client_id: str, device_code: str) -> Response:
    device = sim.oauth.devices.get(device_code)
    if device is None or device["client_id"] != client_id:
        return oauth_error("invalid_grant", INVALID_GRANT)
    now = time.time()
    if device["expires"] < now:
        return oauth_error("expired_token", "The device code has expired.")
    if device.get("last_poll") and now - device["last_poll"] < device["interval"]:
        device["interval"] += 5  # RFC 8628 §3.5: slow_down adds 5 seconds
        device["last_poll"] = now
        return oauth_error("slow_down", "The client is polling too quickly.")
    device["last_poll"] = now
    if device.get("denied"):
        return oauth_error("access_denied", "The end-user denied the authorization request.")
    if device.get("user_id") is None:
        return oauth_error("authorization_pending", "The authorization request is still pending.")
    del sim.oauth.devices[device_code]
    return _issue(sim, client_id, device["user_id"], device["scopes"])


async def authorize_device(sim: Any, request: Request) -> Response:
    body = await read_body(request)
    client_id = str(body.get("client_id", ""))
    if client_id not in APPS:
        return oauth_error("invalid_client", "Client authentication failed due to unknown client.", 401)
    device_code, user_code = secrets.token_hex(20), secrets.token_hex(4).upper()
    sim.oauth.devices[device_code] = {
        "client_id": client_id,
        "user_code": user_code,
        "scopes": tuple(str(body.get("scope") or "api").split()),
        "interval": sim.oauth.device_interval,
        "expires": time.time() + 300,
    }
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": f"{base}/oauth/device",
            "verification_uri_complete": f"{base}/oauth/device?user_code={user_code}",
            "expires_in": 300,
            "interval": sim.oauth.device_interval,
        }
    )


def _pending_device(sim: Any, user_code: str) -> Any:
    """The unexpired, undecided device request with this code; a person may type it in lower case
    or with spaces."""
    wanted = "".join(user_code.split()).upper()
    for device in sim.oauth.devices.values():
        undecided = device.get("user_id") is None and not device.get("denied")
        if device["user_code"] == wanted and device["expires"] > time.time() and undecided:
            return device  # the stored one, not a copy: the decision is written to it
    return None


async def device_page(sim: Any, request: Request) -> Response:
    """/oauth/device, GitLab's verification_uri (and, with ?user_code=, verification_uri_complete)."""
    person = signed_in(sim, request)
    if person is None:
        return RedirectResponse(f"/users/sign_in?{urlencode({'redirect_to': here(request)})}", status_code=302)
    return pages.device_code_form(person, request.query_params.get("user_code", ""))


async def device_enter_code(sim: Any, request: Request) -> Response:
    person = signed_in(sim, request)
    if person is None:
        return RedirectResponse("/users/sign_in?redirect_to=/oauth/device", status_code=302)
    user_code = str((await read_body(request)).get("user_code", ""))
    device = _pending_device(sim, user_code)
    if device is None:
        return pages.device_code_form(person, user_code, error="The code is incorrect or has expired.")
    app = APPS[device["client_id"]]
    return pages.device_confirm(person, device["user_code"], app["name"], device["scopes"])


async def device_decision(sim: Any, request: Request) -> Response:
    person = signed_in(sim, request)
    if person is None:
        return RedirectResponse("/users/sign_in?redirect_to=/oauth/device", status_code=302)
    form = await read_body(request)
    user_code = str(form.get("user_code", ""))
    device = _pending_device(sim, user_code)
    if device is None:
        return pages.device_code_form(person, user_code, error="The code is incorrect or has expired.")
    approved = form.get("decision") == "authorize"
    if approved:
        device["user_id"] = person["id"]
    else:
        device["denied"] = True
    return pages.device_done(person, approved)


async def revoke(sim: Any, request: Request) -> Response:
    body = await read_body(request)
    value = str(body.get("token", ""))
    sim.world.tokens.pop(value, None)
    grant = sim.oauth.refresh.pop(value, None)
    if grant:
        sim.world.tokens.pop(grant["access_token"], None)
    return JSONResponse({})  # RFC 7009 §2.2: 200 whether or not the token was known


async def token_info(sim: Any, request: Request) -> Response:
    auth = request.headers.get("authorization", "")
    known = sim.world.tokens.get(auth[7:].strip()) if auth.lower().startswith("bearer ") else None
    if known is None or known.expired() or known.client_id is None:
        return oauth_error("invalid_token", "The access token is invalid", 401)
    return JSONResponse(
        {
            "resource_owner_id": known.user_id,
            "scope": list(known.scopes),
            "expires_in": int(known.expires_at - time.time()) if known.expires_at else None,
            "application": {"uid": known.client_id},
            "created_at": int(time.time()),
        }
    )


def _issue(sim: Any, client_id: str, user_id: int, scopes: tuple[str, ...]) -> JSONResponse:
    access, refresh = f"gloas-{secrets.token_hex(24)}", secrets.token_hex(32)
    ttl = sim.oauth.token_ttl
    sim.world.tokens[access] = Token(user_id, scopes, expires_at=time.time() + ttl, client_id=client_id)
    sim.oauth.refresh[refresh] = {
        "client_id": client_id,
        "user_id": user_id,
        "scopes": scopes,
        "access_token": access,
    }
    return JSONResponse(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": ttl,
            "refresh_token": refresh,
            "scope": " ".join(scopes),
            "created_at": int(time.time()),
        }
    )


def _pkce_ok(challenge: str, method: str, verifier: str) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        return secrets.compare_digest(expected, challenge)
    return secrets.compare_digest(verifier, challenge)


def _allowed_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and parts.path == "/oauth/callback" and bool(parts.hostname)


def _back(redirect_uri: str, params: dict[str, Any]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return RedirectResponse(f"{redirect_uri}?{query}", status_code=302)


async def control(sim: Any, request: Request, path: str) -> Response:
    """Test hooks: /_sim/oauth/config, /device, /expire, /tokens."""
    body = await read_body(request) if request.method == "POST" else {}
    if path == "/_sim/oauth/config":
        sim.oauth.device_interval = int(body.get("device_interval", sim.oauth.device_interval))
        sim.oauth.token_ttl = int(body.get("token_ttl", sim.oauth.token_ttl))
        return JSONResponse({"ok": True})
    if path == "/_sim/oauth/device":
        device = next((d for d in sim.oauth.devices.values() if d["user_code"] == body.get("user_code")), None)
        if device is None:
            return JSONResponse({"error": "unknown user code"}, status_code=404)
        if body.get("deny"):
            device["denied"] = True
        else:
            device["user_id"] = sim.world.by_username(body["username"])["id"]
        return JSONResponse({"ok": True})
    if path == "/_sim/oauth/expire":
        user = sim.world.by_username(body["username"])
        for value in sim.world.tokens.values():
            if value.user_id == user["id"] and value.client_id:
                value.expires_at = time.time() - 1
        return JSONResponse({"ok": True})
    if path == "/_sim/oauth/tokens":
        live = [
            {"user_id": t.user_id, "client_id": t.client_id, "scopes": list(t.scopes), "expired": t.expired()}
            for t in sim.world.tokens.values()
            if t.client_id
        ]
        return JSONResponse(live)
    return JSONResponse({"error": "not_found"}, status_code=404)
