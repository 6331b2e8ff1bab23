"""The resource-server side of OAuth mode: who is calling /mcp, and with which GitLab token.

One indexed query per request (compiled once per process), so that a revocation takes effect on the
next call on every replica (no cache to outlive it): the access token by its SHA-256 checksum (how
django-oauth-toolkit stores it), joined to its connection. Expired, revoked, unbound (no connection)
and wrong-audience tokens are refused (RFC 6750 §3.1, RFC 8707 §2): a token minted for another
resource must not pass here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from mcp_bridge.audit_writer import BatchWorker
from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import AccessToken, DecryptionFailed, GitLabConnection
from oauth_gateway.services.connections import ConnectionEnded, connection_refresh_gitlab

LAST_USED_GRANULARITY = timedelta(minutes=1)  # at most one write per connection per minute
ENDED = "The connection ended: GitLab no longer accepts it. Sign in again."


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    application_id: int
    connection_id: int
    read_only: bool
    gitlab_token: str
    username: str  # for log lines: who called
    client_id: str  # and through which MCP client

    def __repr__(self) -> str:
        return f"Caller(user={self.user_id}, connection={self.connection_id}, gitlab_token=***)"


class Unauthorized(Exception):
    """The bearer token does not authorise this request; the message goes in error_description."""


# What the bearer check reads, in one indexed query (token_checksum is unique): plain values, not
# four model instances through select_related, which cost the query twice as much CPU.
TOKEN_FIELDS = (
    "expires",
    "resource",
    "connection_id",
    "connection__revoked",
    "connection__last_used",
    "connection__user_id",
    "connection__application_id",
    "connection__gitlab_scopes",
    "connection__gitlab_expires",
    "connection__access_token_enc",
    "connection__user__username",
    "connection__application__client_id",
)


Check = tuple[str, asyncio.AbstractEventLoop, "asyncio.Future[Any]"]  # a bearer, and whom to answer


class CheckThread(BatchWorker[Check]):
    """Runs bearer checks on a thread with its own database connection, for the event loop.

    Checks that arrive while it works are answered together: one wake-up of the loop for all of
    them. asyncio's default executor and asgiref's sync_to_async (one shared thread, the context
    copied both ways) each cost more CPU per call than the check itself. A GitLab token refresh,
    which waits on the network, is not done here (authenticate)."""

    name = "bearer-checks"

    def __init__(self) -> None:
        super().__init__()
        self._tidied = 0.0

    async def run(self, bearer: str) -> tuple[Caller, GitLabConnection | None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[Caller, GitLabConnection | None]] = loop.create_future()
        self.put((bearer, loop, future))
        return await future

    def handle(self, batch: list[Check]) -> None:
        answers: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, BaseException | None]]] = {}
        trouble = False
        for bearer, loop, future in batch:
            try:
                answer: tuple[Any, BaseException | None] = (check_bearer(bearer), None)
            except BaseException as exc:  # handed to the waiting request, which raises it
                answer = (None, exc)
                trouble = trouble or not isinstance(exc, Unauthorized)
            answers.setdefault(loop, []).append((future, *answer))
        for loop, settled in answers.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                loop.call_soon_threadsafe(_settle, settled)
        # What Django's request signals would do for a view (/mcp bypasses them): drop a broken
        # or too old database connection. After a database error at once, else once a second.
        if trouble or time.monotonic() - self._tidied > 1.0:
            close_old_connections()
            self._tidied = time.monotonic()


def _settle(answers: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, value, error in answers:
        if future.done():  # the request was cancelled (client gone)
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)


checks = CheckThread()


async def authenticate(bearer: str) -> Caller:
    """The caller behind an MCP access token, with a GitLab token fresh enough to use: the check on the
    bearer-check thread, a refresh of the GitLab token (when it is about to expire) on one of its own."""
    caller, expiring = await checks.run(bearer)
    if expiring is None:
        return caller
    token = await sync_to_async(_refresh_in_thread, thread_sensitive=False)(expiring)
    return dataclasses.replace(caller, gitlab_token=token)


def _refresh_in_thread(connection: GitLabConnection) -> str:
    try:
        return _fresh_gitlab_token(connection)
    finally:
        close_old_connections()  # this thread's database connection, as a view's would be


def check_bearer(bearer: str) -> tuple[Caller, GitLabConnection | None]:
    """The caller behind an MCP access token, with the connection when its GitLab token is about to
    expire (to refresh before use), else None. Only the database: nothing waits on GitLab here."""
    row = token_row(hashlib.sha256(bearer.encode()).hexdigest())
    now = timezone.now()
    if row is None or row[2] is None:
        raise Unauthorized("The access token is unknown.")
    (expires, resource, connection_id, revoked, last_used, user_id, application_id) = row[:7]
    scopes, gitlab_expires, token_enc, username, client_id = row[7:]
    if expires <= now:
        raise Unauthorized("The access token expired.")
    if revoked is not None:
        raise Unauthorized("The connection was ended.")
    if settings.MCP_RESOURCE_URL not in (resource or []):
        raise Unauthorized(f"The access token is not for {settings.MCP_RESOURCE_URL}.")
    if last_used is None or last_used < now - LAST_USED_GRANULARITY:
        GitLabConnection.objects.filter(pk=connection_id).update(last_used=now)
    # The connection as the helpers below read it (not saved: only these fields are loaded).
    connection = GitLabConnection(
        pk=connection_id, gitlab_scopes=scopes, gitlab_expires=gitlab_expires, access_token_enc=token_enc
    )
    try:
        token = connection.gitlab_access_token
    except DecryptionFailed as exc:
        raise Unauthorized(ENDED) from exc
    caller = Caller(
        user_id=user_id,
        application_id=application_id,
        connection_id=connection_id,
        read_only=connection.is_read_only(),
        gitlab_token=token,
        username=username,
        client_id=client_id,
    )
    return caller, connection if connection.gitlab_token_expiring() else None


def token_query() -> QuerySet[AccessToken, tuple[Any, ...]]:
    """The bearer check's query for `checksum` (a placeholder here)."""
    return AccessToken.objects.filter(token_checksum="").values_list(*TOKEN_FIELDS)[:1]


@functools.cache
def _prepared(alias: str) -> tuple[SQLCompiler, str, dict[int, Any]]:
    """token_query() compiled by Django once per process: compiling it cost more CPU than running it.
    Its only parameter is the checksum; rows go through the converters values_list() applies
    (tests/test_bearer_check.py checks both against the ORM on SQLite and PostgreSQL)."""
    compiler = token_query().query.get_compiler(using=alias)
    sql, params = compiler.as_sql()
    if list(params) != [""]:
        raise RuntimeError(f"the bearer check's query has unexpected parameters: {params!r}")
    converters = compiler.get_converters([column for column, _, _ in compiler.select[: compiler.col_count]])
    return compiler, sql, converters


def token_row(checksum: str) -> tuple[Any, ...] | None:
    """The TOKEN_FIELDS of the access token with this checksum, as values_list() gives them."""
    compiler, sql, converters = _prepared(DEFAULT_DB_ALIAS)
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, [checksum])
        row = cursor.fetchone()
    if row is None or not converters:
        return row
    return tuple(next(iter(compiler.apply_converters([row], converters))))


def refreshed_gitlab_token(caller: Caller) -> str:
    """After GitLab answered 401: refresh once (unless another call already did) and return it."""
    try:
        connection = GitLabConnection.objects.get(pk=caller.connection_id)
        if connection.gitlab_access_token != caller.gitlab_token:
            return connection.gitlab_access_token
        return connection_refresh_gitlab(caller.connection_id, seen_token=connection.access_token_enc)
    except (ConnectionEnded, DecryptionFailed) as exc:
        raise Unauthorized(ENDED) from exc


def _fresh_gitlab_token(connection: GitLabConnection) -> str:
    """The connection's GitLab token refreshed (it was about to expire); the one we have if GitLab
    cannot be reached just now (the tool call will report GitLab's state)."""
    try:
        return connection_refresh_gitlab(connection.pk, seen_token=connection.access_token_enc)
    except (ConnectionEnded, DecryptionFailed) as exc:
        raise Unauthorized(ENDED) from exc
    except GitLabOAuthError:
        return connection.gitlab_access_token
