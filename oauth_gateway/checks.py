"""Configuration checks of the server and its OAuth side: a bad environment stops start-up with a
message naming the variable. The MCP tool settings are checked in mcp_bridge.checks.

They run before `migrate`, `serve` and `mcp_stdio`, and when config.asgi loads. Those about
listening on HTTP (tag SERVING) are left out by `mcp_stdio`, which listens on nothing.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

OAUTH_SECRET_MIN = 32
MCP_AUTH_TOKEN_MIN = 16
SERVING = "gitlab_mcp_serving"  # checks about the HTTP listener; mcp_stdio skips them
RANDOM_VALUE_RECIPE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
URI_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
# Schemes a browser handles itself: never a native app's callback (http and https have rules of their own).
UNSAFE_SCHEMES = {"javascript", "data", "file", "blob", "about", "vbscript", "filesystem", "ws", "wss"}
GITLAB_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # a GitLab username, group path part, or id


@register(Tags.compatibility)
def check_environment(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = [
        Error(f"{name} {message}.", hint=f"Fix or unset {name}.", id="oauth_gateway.E001")
        for name, message in settings.CONFIG_ERRORS
    ]
    problems += _gitlab_auth_problems()
    problems += _oauth_problems()
    problems += _redirect_scheme_problems()
    problems += _admin_problems()
    if settings.SECRET_KEY_EPHEMERAL and not settings.HOST_IS_LOOPBACK:
        problems.append(
            Warning(
                "No DJANGO_SECRET_KEY or OAUTH_SESSION_SECRET: admin sign-ins end when the process restarts.",
                hint="Set DJANGO_SECRET_KEY to a long random value shared by every replica.",
                id="oauth_gateway.W001",
            )
        )
    return problems


def _redirect_scheme_problems() -> list[Error | Warning]:
    """A custom redirect scheme must be a scheme (RFC 3986 §3.1), and never one a browser runs or
    reads locally: a code sent there would be handed to a page, not to an app."""
    bad = [s for s in settings.OAUTH_REDIRECT_SCHEMES if not URI_SCHEME.fullmatch(s) or s in UNSAFE_SCHEMES]
    if not bad:
        return []
    return [
        Error(
            f"OAUTH_REDIRECT_SCHEMES may not contain {', '.join(bad)}.",
            hint="List only the custom schemes of native apps, such as cursor,vscode (https and loopback http "
            "are always allowed); set it empty to allow none.",
            id="oauth_gateway.E011",
        )
    ]


def _admin_problems() -> list[Error | Warning]:
    users, group = settings.ADMIN_GITLAB_USERS, settings.ADMIN_GITLAB_GROUP
    problems: list[Error | Warning] = []
    bad = [entry for entry in users if not GITLAB_NAME.fullmatch(entry)]
    if bad:
        problems.append(
            Error(
                f"ADMIN_GITLAB_USERS has entries that are neither GitLab user ids nor usernames: {', '.join(bad)}.",
                hint="Use a comma-separated list such as 1,alice,bob.",
                id="oauth_gateway.E006",
            )
        )
    if group and not all(GITLAB_NAME.fullmatch(part) for part in group.split("/")):
        problems.append(
            Error(
                f"ADMIN_GITLAB_GROUP must be a GitLab group's full path, got {group!r}.",
                hint="Use the path shown in the group's URL, such as acme or acme/platform.",
                id="oauth_gateway.E007",
            )
        )
    if settings.OAUTH_ENABLED and settings.GITLAB_OAUTH_FLOW == "device" and not settings.ADMIN_DEVICE_LOGIN:
        problems.append(
            Warning(
                "GITLAB_OAUTH_FLOW=device without ADMIN_DEVICE_LOGIN: nobody can sign in to /admin/ or "
                "/connections/ with GitLab (only the device leg works here, and it is off for these pages).",
                hint="Set ADMIN_DEVICE_LOGIN=true if you accept that device codes can be phished, or use "
                "`python manage.py createsuperuser` admins.",
                id="oauth_gateway.W003",
            )
        )
    if (users or group) and not settings.OAUTH_ENABLED:
        problems.append(
            Warning(
                "ADMIN_GITLAB_USERS / ADMIN_GITLAB_GROUP have no effect: GitLab sign-in needs OAUTH_ENABLED=true.",
                hint="Enable OAuth mode, or make admins with `python manage.py createsuperuser`.",
                id="oauth_gateway.W002",
            )
        )
    return problems


def _gitlab_auth_problems() -> list[Error | Warning]:
    if settings.GITLAB_TOKEN or settings.OAUTH_ENABLED:
        return []
    return [
        Error(
            "GitLab access not configured: neither GITLAB_TOKEN nor OAUTH_ENABLED is set.",
            hint=(
                "For one shared identity set GITLAB_TOKEN to a GitLab personal access token (scope api). "
                "For per-user sign-in set OAUTH_ENABLED=true, OAUTH_SESSION_SECRET and GITLAB_OAUTH_CLIENT_ID."
            ),
            id="oauth_gateway.E002",
        )
    ]


def _oauth_problems() -> list[Error | Warning]:
    if not settings.OAUTH_ENABLED:
        return []
    missing = []
    if len(settings.OAUTH_SESSION_SECRET) < OAUTH_SECRET_MIN:
        missing.append(f"OAUTH_SESSION_SECRET must be at least {OAUTH_SECRET_MIN} characters")
    if not settings.GITLAB_OAUTH_CLIENT_ID:
        missing.append("GITLAB_OAUTH_CLIENT_ID must be the Application ID of your GitLab OAuth application")
    return [
        Error(
            f"OAuth not configured: {problem}.",
            hint=(
                "See the README, section OAuth mode. "
                "Make a secret with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            ),
            id="oauth_gateway.E003",
        )
        for problem in missing
    ]


@register(SERVING)
def check_listener(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    """Listening beyond this machine needs the URL clients use and, in static-token mode, a bearer:
    otherwise whoever reaches the port acts with GITLAB_TOKEN."""
    problems: list[Error | Warning] = []
    exposed = not settings.HOST_IS_LOOPBACK
    if exposed and not settings.PUBLIC_URL_SET:
        problems.append(
            Error(
                f"HOST={settings.HOST} listens beyond this machine, but PUBLIC_URL is not set.",
                hint="Set PUBLIC_URL to the URL clients use, such as https://mcp.example.com "
                "(or http://localhost:3000 for a container on your machine), or set HOST=127.0.0.1.",
                id="oauth_gateway.E008",
            )
        )
    tokens = settings.MCP_AUTH_TOKENS
    if settings.OAUTH_ENABLED:
        if tokens:
            problems.append(
                Warning(
                    "MCP_AUTH_TOKEN has no effect in OAuth mode: clients sign in with GitLab.",
                    hint="Unset MCP_AUTH_TOKEN.",
                    id="oauth_gateway.W004",
                )
            )
        return problems
    if exposed and not tokens:
        problems.append(
            Error(
                f"Static-token mode with HOST={settings.HOST} needs MCP_AUTH_TOKEN: anyone who reaches the "
                "port would act in GitLab with GITLAB_TOKEN.",
                hint=f"Set MCP_AUTH_TOKEN to a random value (make one with: {RANDOM_VALUE_RECIPE}) and give it to "
                "your clients as 'Authorization: Bearer <token>', or set HOST=127.0.0.1.",
                id="oauth_gateway.E009",
            )
        )
    if any(len(token) < MCP_AUTH_TOKEN_MIN for token in tokens):
        problems.append(
            Error(
                f"MCP_AUTH_TOKEN: each token must be at least {MCP_AUTH_TOKEN_MIN} characters.",
                hint=f"Make one with: {RANDOM_VALUE_RECIPE}",
                id="oauth_gateway.E010",
            )
        )
    return problems
