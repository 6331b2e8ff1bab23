"""The test cast as database rows: Django users with their GitLab identity (the simulator's users,
tests/gitlab_sim/seed.py: alice 1, bob 2, charlie 3), OAuth clients, and GitLab sessions with known
tokens. tests/conftest.py offers alice, bob, charlie, public_client and confidential_client as
fixtures; tests that need more rows call these builders.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from oauth2_provider.models import set_token_value

from oauth_gateway.models import AccessToken, Application, GitLabConnection, GitLabIdentity, RefreshToken

# Known secrets, so that tests can look for them where they must never appear.
GITLAB_TOKEN = "glpat-known-gitlab-secret-0000000000"
GITLAB_REFRESH = "glrt-known-gitlab-refresh-0000000000"
MCP_TOKEN = "mcp-known-access-token-0123456789abcdef"
MCP_REFRESH = "mcp-known-refresh-token-0123456789abcdef"
CLIENT_SECRET = "known-client-secret-0123456789abcdefghij"
GITLAB_IDS = {"alice": 1, "bob": 2, "charlie": 3}


def make_user(username: str, gitlab_id: int | None) -> User:
    user = User.objects.create(username=username, first_name=username.title())
    if gitlab_id is not None:
        GitLabIdentity.objects.create(
            user=user,
            gitlab_id=gitlab_id,
            username=username,
            name=f"{username.title()} Example",
            avatar_url=f"https://gitlab.example.com/uploads/{username}.png",
            web_url=f"https://gitlab.example.com/{username}",
        )
    return user


def make_client(name: str, source: str = "dcr", **fields: Any) -> Application:
    return Application.objects.create(
        name=name,
        client_type=fields.pop("client_type", Application.CLIENT_PUBLIC),
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="http://127.0.0.1/callback",
        registration_source=source,
        **fields,
    )


def connection_for(user: User, client: Application, **fields: Any) -> GitLabConnection:
    """A session with known GitLab tokens (stored encrypted) and one MCP access and refresh token."""
    connection = GitLabConnection(
        user=user,
        application=client,
        leg=fields.pop("leg", GitLabConnection.Leg.CODE),
        gitlab_scopes="api read_user",
        gitlab_expires=timezone.now() + timedelta(hours=2),
        ip=fields.pop("ip", "192.0.2.10"),
        user_agent=fields.pop("user_agent", "claude-code/1.0 (Linux x86_64) a long user agent string that goes on"),
        **fields,
    )
    connection.set_gitlab_tokens(GITLAB_TOKEN, GITLAB_REFRESH)
    connection.save()
    access = AccessToken(user=user, application=client, connection=connection, scope="gitlab")
    access.expires = timezone.now() + timedelta(hours=1)
    set_token_value(access, f"{MCP_TOKEN}-{connection.pk}")
    access.save()
    refresh = RefreshToken(user=user, application=client, connection=connection, access_token=access)
    set_token_value(refresh, f"{MCP_REFRESH}-{connection.pk}")
    refresh.save()
    return connection


def make_public_client() -> Application:
    return make_client("Claude Code", "dcr")


def make_confidential_client() -> Application:
    """A confidential client whose secret is stored as given (CLIENT_SECRET), not hashed."""
    confidential: dict[str, Any] = {"client_type": Application.CLIENT_CONFIDENTIAL, "hash_client_secret": False}
    return make_client("Cursor", "cimd", client_secret=CLIENT_SECRET, **confidential)
