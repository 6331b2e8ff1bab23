"""The simulated GitLab's pages for a person at a browser: sign in (a user picker, since the seeded
users have no passwords), authorize an application, and enter a device code. Plain HTML in GitLab's
layout and wording, with no external assets, so that `python -m tests.gitlab_sim` can be tried in
any browser without developer tools.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from starlette.responses import HTMLResponse

# What GitLab says each scope allows (doc/integration/oauth_provider.md#view-all-authorized-applications).
SCOPES = {
    "api": "Grants complete read/write access to the API, including all groups and projects.",
    "read_api": "Grants read access to the API, including all groups and projects.",
    "read_user": "Grants read-only access to your profile.",
    "read_repository": "Grants read-only access to repositories on private projects.",
    "write_repository": "Grants read-write access to repositories on private projects.",
    "openid": "Grants permission to authenticate with GitLab using OpenID Connect.",
    "profile": "Grants read-only access to the user's profile data using OpenID Connect.",
    "email": "Grants read-only access to the user's primary email address using OpenID Connect.",
}

# The tanuki, drawn inline (no external assets).
LOGO = (
    '<svg class="logo" viewBox="0 0 36 36" width="36" height="36" aria-hidden="true">'
    '<path fill="#e24329" d="M18 33 24.6 12.8H11.4z"/>'
    '<path fill="#fc6d26" d="M18 33 11.4 12.8H2.2z"/>'
    '<path fill="#fca326" d="M2.2 12.8.2 19a1.4 1.4 0 0 0 .5 1.5L18 33z"/>'
    '<path fill="#e24329" d="M2.2 12.8h9.2L7.4.6a.7.7 0 0 0-1.3 0z"/>'
    '<path fill="#fc6d26" d="M18 33 24.6 12.8h9.2z"/>'
    '<path fill="#fca326" d="m33.8 12.8 2 6.2a1.4 1.4 0 0 1-.5 1.5L18 33z"/>'
    '<path fill="#e24329" d="M33.8 12.8h-9.2L28.6.6a.7.7 0 0 1 1.3 0z"/></svg>'
)

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Noto Sans", Ubuntu, sans-serif; color: #333238;
  background: #fbfafd; }
header { display: flex; align-items: center; gap: .6rem; padding: .5rem 1rem; background: #fff;
  border-bottom: 1px solid #dcdcde; font-weight: 600; font-size: 1rem; }
header .user { margin-left: auto; font-weight: 400; font-size: .875rem; }
main { max-width: 30rem; margin: 3rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; font-weight: 600; margin: 0 0 1rem; text-align: center; }
.card { background: #fff; border: 1px solid #dcdcde; border-radius: .25rem; padding: 1.5rem; }
.card p { margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin-bottom: .4rem; }
input[type=text] { width: 100%; font: 600 1.1rem ui-monospace, monospace; letter-spacing: .1rem; padding: .5rem .75rem;
  border: 1px solid #89888d; border-radius: .25rem; margin-bottom: 1rem; }
.btn { font: inherit; padding: .5rem 1rem; border-radius: .25rem; border: 1px solid #bfbfc3; background: #fff;
  color: #333238; cursor: pointer; text-decoration: none; display: inline-block; }
.btn-confirm { background: #1f75cb; border-color: #1068bf; color: #fff; }
.btn-danger { background: #dd2b0e; border-color: #c91c00; color: #fff; }
.btn-block { display: block; width: 100%; margin-bottom: .5rem; }
.users { list-style: none; padding: 0; margin: 0 0 1rem; }
.users li { margin-bottom: .5rem; }
.users button { display: flex; align-items: center; gap: .75rem; width: 100%; text-align: left; }
.avatar { width: 2rem; height: 2rem; border-radius: 50%; background: #e1d8f9; color: #4a3b8f; display: grid;
  place-items: center; font-weight: 600; }
.muted { color: #626168; font-size: .875rem; }
.alert { padding: .75rem 1rem; border-radius: .25rem; margin-bottom: 1rem; }
.alert-danger { background: #fcf1ef; color: #8d1300; }
.alert-success { background: #ecf4ee; color: #24663b; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; }
ul.scopes { padding-left: 1.2rem; }
"""


def page(title: str, body: str, *, user: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    who = ""
    if user is not None:
        who = f'<span class="user">{escape(user["name"])} (@{escape(user["username"])}) · '
        who += '<a href="/users/sign_out">Sign out</a></span>'
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · GitLab</title><style>{STYLE}</style></head>"
        f"<body><header>{LOGO}<span>GitLab</span>{who}</header><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status)


def hidden(fields: Iterable[tuple[str, str]]) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields)


def sign_in(users: Iterable[dict[str, Any]], redirect_to: str, *, error: str = "") -> HTMLResponse:
    """GitLab's sign-in page, with a button per seeded user instead of a password form."""
    choices = "".join(
        f'<li><button class="btn" name="username" value="{escape(u["username"])}">'
        f'<span class="avatar">{escape(u["name"][:1])}</span>'
        f'<span><strong>{escape(u["name"])}</strong><br><span class="muted">@{escape(u["username"])}</span></span>'
        f"</button></li>"
        for u in users
    )
    alert = f'<div class="alert alert-danger" role="alert">{escape(error)}</div>' if error else ""
    body = (
        f'<h1>Sign in to GitLab</h1>{alert}<div class="card">'
        f'<form method="post" action="/users/sign_in">{hidden([("redirect_to", redirect_to)])}'
        f'<p>This is the GitLab simulator: choose who you are.</p><ul class="users">{choices}</ul></form>'
        f'<p class="muted">The simulator has no passwords. Tests sign in with the cookie gitlab_sim_user.</p></div>'
    )
    return page("Sign in", body, status=422 if error else 200)


def scope_list(scopes: Iterable[str]) -> str:
    items = "".join(
        f"<li><strong>{escape(s)}</strong>: {escape(SCOPES.get(s, 'Access the scope ' + s + '.'))}</li>" for s in scopes
    )
    return f'<ul class="scopes">{items}</ul>'


def authorize(
    user: dict[str, Any], app_name: str, scopes: Iterable[str], fields: Iterable[tuple[str, str]]
) -> HTMLResponse:
    """GitLab's "Authorize … to use your account?" page: Authorize or Deny."""
    name = escape(app_name)
    body = (
        f'<h1>Authorize {name} to use your account?</h1><div class="card">'
        f"<p>An application called <strong>{name}</strong> is requesting access to your GitLab account. "
        f"Make sure you trust {name} before authorizing.</p>"
        f"<p>This application will be able to:</p>{scope_list(scopes)}"
        f'<form method="post" action="/oauth/authorize" class="actions">{hidden(fields)}'
        f'<button class="btn btn-confirm" name="decision" value="authorize">Authorize {name}</button>'
        f'<button class="btn btn-danger" name="decision" value="deny">Deny</button></form></div>'
    )
    return page(f"Authorize {app_name}", body, user=user)


def device_code_form(user: dict[str, Any], user_code: str = "", *, error: str = "") -> HTMLResponse:
    """GitLab's device authorization page: enter the code your device shows."""
    alert = f'<div class="alert alert-danger" role="alert">{escape(error)}</div>' if error else ""
    body = (
        f'<h1>Device authorization</h1>{alert}<div class="card">'
        f'<form method="post" action="/oauth/device"><label for="user_code">Enter the code shown on your device</label>'
        f'<input type="text" id="user_code" name="user_code" value="{escape(user_code)}" autocomplete="off" '
        f'autocapitalize="characters" spellcheck="false" required autofocus>'
        f'<button class="btn btn-confirm">Continue</button></form></div>'
    )
    return page("Device authorization", body, user=user, status=422 if error else 200)


def device_confirm(user: dict[str, Any], user_code: str, app_name: str, scopes: Iterable[str]) -> HTMLResponse:
    name = escape(app_name)
    body = (
        f'<h1>Authorize {name} to use your account?</h1><div class="card">'
        f"<p>A device using the code <strong>{escape(user_code)}</strong> asks to act as you through "
        f"<strong>{name}</strong>. Only authorize it if you started this sign-in yourself.</p>"
        f"<p>This application will be able to:</p>{scope_list(scopes)}"
        f'<form method="post" action="/oauth/device/confirm" class="actions">{hidden([("user_code", user_code)])}'
        f'<button class="btn btn-confirm" name="decision" value="authorize">Authorize</button>'
        f'<button class="btn btn-danger" name="decision" value="deny">Deny</button></form></div>'
    )
    return page("Device authorization", body, user=user)


def device_done(user: dict[str, Any], approved: bool) -> HTMLResponse:
    if approved:
        text = "Device authorized. You can close this page and return to your device."
        alert = f'<div class="alert alert-success" role="status">{text}</div>'
    else:
        text = "Access denied. The device was not authorized."
        alert = f'<div class="alert alert-danger" role="status">{text}</div>'
    return page("Device authorization", f"<h1>Device authorization</h1>{alert}", user=user)


def home(user: dict[str, Any]) -> HTMLResponse:
    """Where a sign-in without a destination lands: what a person can do here."""
    body = (
        f'<h1>Welcome, {escape(user["name"])}</h1><div class="card">'
        "<p>This simulated GitLab answers the REST API under <code>/api/v4</code> and signs people in to "
        "applications such as gitlab-mcp.</p>"
        '<p><a class="btn btn-confirm" href="/oauth/device">Enter a device code</a></p></div>'
    )
    return page("Home", body, user=user)
