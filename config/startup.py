"""Refuse to serve with a broken configuration, whatever started the process."""

from __future__ import annotations

import logging
import os
import sys

import httpx
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

log = logging.getLogger("gitlab_mcp.server")
GITLAB_CHECK_TIMEOUT = 5.0  # seconds: start-up waits at most this long for GitLab
# How `manage.py serve` tells the Daphne process it starts which GitLab user GITLAB_TOKEN acts as
# (the start-up check's answer), so that tool calls are audited under that name without asking GitLab.
ACTING_AS_VARIABLE = "GITLAB_MCP_ACTING_AS"


def daphne_argv(host: str, port: int) -> list[str]:
    """How Daphne is started, by `manage.py serve` and by the tests alike: config.serving, which adds
    the graceful stop and keeps Daphne's access log off (it prints query strings, which carry
    authorization codes; config.asgi logs requests without them)."""
    return [sys.executable, "-m", "config.serving", host, str(port)]


def assert_configured() -> None:
    """Run the system checks (as `manage.py` does) and stop on errors, naming each variable."""
    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if errors:
        lines = "\n".join(f"  {m.msg}\n    {m.hint or ''}" for m in errors)
        raise ImproperlyConfigured(f"gitlab-mcp cannot start:\n{lines}")


def acting_as() -> str | None:
    """The GitLab user of GITLAB_TOKEN as the start-up check found it, or None (not checked, or
    GitLab could not tell)."""
    return os.environ.get(ACTING_AS_VARIABLE) or None


def report_configuration() -> str | None:
    """Say at start what an operator would otherwise find out from the first failing call: whose
    GitLab token the server uses, or what the GitLab OAuth application must be registered with.
    Returns GITLAB_TOKEN's GitLab username when the check found it."""
    if settings.ENV_FILE_READ:
        log.info("settings read from %s (environment variables win over it)", settings.ENV_FILE_READ)
    if settings.OAUTH_ENABLED:
        log.info(
            "OAuth mode: the GitLab application %s at %s needs redirect URI %s/oauth/callback and scopes %s",
            settings.GITLAB_OAUTH_CLIENT_ID,
            settings.GITLAB_URL,
            settings.PUBLIC_URL,
            ", ".join(settings.GITLAB_OAUTH_SCOPES),
        )
    elif settings.GITLAB_TOKEN:
        username = check_gitlab_token()
        if username is None:
            log.warning(
                "tool calls will be audited without the token's GitLab user name (the check above failed); "
                "restart once GitLab accepts the token to have it named"
            )
        return username
    return None


def check_gitlab_token() -> str | None:
    """Try GITLAB_TOKEN once (GET /api/v4/user). A failure is a warning, not a refusal to start: GitLab
    may be down for a minute, and the tools report its state on each call."""
    url = f"{settings.GITLAB_API_BASE}/user"
    try:
        response = httpx.get(url, headers={"PRIVATE-TOKEN": settings.GITLAB_TOKEN}, timeout=GITLAB_CHECK_TIMEOUT)
        user = response.json() if response.status_code == 200 else {}
    except httpx.HTTPError as exc:
        log.warning("could not reach GitLab at %s (%s): check GITLAB_API_URL and the network", url, type(exc).__name__)
        return None
    except ValueError:
        user = {}
    if response.status_code in (401, 403):
        log.warning(
            "GitLab refused GITLAB_TOKEN at %s (HTTP %s): the token is wrong, expired or revoked, or lacks "
            "the api (or read_api) scope; every tool call will fail until GITLAB_TOKEN is fixed",
            url,
            response.status_code,
        )
    elif not isinstance(user, dict) or not user.get("username"):
        log.warning(
            "GitLab did not answer as GitLab at %s (HTTP %s): is GITLAB_API_URL your GitLab's address?",
            url,
            response.status_code,
        )
    else:
        log.info("GitLab token OK: acting as %s on %s", user["username"], settings.GITLAB_URL)
        return str(user["username"])
    return None
