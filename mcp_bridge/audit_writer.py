"""Audit rows of tool calls, committed in groups by one writer thread (group commit).

Each MCP answer leaves only after its audit rows are committed (mcp_bridge.asgi). One INSERT and
one COMMIT per call, each behind a hop to Django's one database thread, was a tenth of a call's
CPU and queued the calls of a busy server behind each other. Here every request hands its rows to
one thread with its own database connection, which takes all the rows waiting at that moment and
commits them in one transaction; each request waits for the commit that holds its rows, so the
guarantee is unchanged while calls finishing together share one COMMIT. The same on SQLite and
PostgreSQL: plain Django ORM in a plain thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from mcp_bridge.db_worker import BatchWorker
from oauth_gateway.models import AuditEvent
from oauth_gateway.services.audit import tool_call_rows

log = logging.getLogger(__name__)
MAX_GROUP = 500  # rows of at most this many requests in one transaction


@dataclass(slots=True)
class Pending:
    """One request's rows, and how to tell it that they are committed (or why not)."""

    calls: list[Any]
    caller: Any
    ip: str | None
    acting_as: str | None
    loop: asyncio.AbstractEventLoop
    done: asyncio.Future[None]


class AuditWriter(BatchWorker[Pending]):
    name = "audit-writer"
    max_batch = MAX_GROUP

    async def write(self, calls: list[Any], *, caller: Any, ip: str | None, acting_as: str | None = None) -> None:
        """Return once `calls` are committed; raises what the commit raised."""
        loop = asyncio.get_running_loop()
        pending = Pending(calls, caller, ip, acting_as, loop, loop.create_future())
        self.put(pending)
        await pending.done

    def handle(self, group: list[Pending]) -> None:
        error: BaseException | None = None
        for attempt in (1, 2):
            try:
                rows = [
                    row
                    for item in group
                    for row in tool_call_rows(item.calls, caller=item.caller, ip=item.ip, acting_as=item.acting_as)
                ]
                with transaction.atomic():
                    AuditEvent.objects.bulk_create(rows)
                error = None
                break
            except Exception as exc:  # the database went away or refused: once more on a fresh connection
                error = exc
                log.warning("audit commit failed (attempt %d): %s", attempt, type(exc).__name__)
                connection.close()
        for item in group:
            with contextlib.suppress(RuntimeError):  # that event loop is closed: nobody waits any more
                item.loop.call_soon_threadsafe(_settle, item.done, error)


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # the request was cancelled meanwhile
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
