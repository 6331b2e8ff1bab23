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
import queue
import threading
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, connection, transaction

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


class AuditWriter:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def write(self, calls: list[Any], *, caller: Any, ip: str | None, acting_as: str | None = None) -> None:
        """Return once `calls` are committed; raises what the commit raised."""
        loop = asyncio.get_running_loop()
        pending = Pending(calls, caller, ip, acting_as, loop, loop.create_future())
        self._start()
        self._queue.put(pending)
        await pending.done

    def stop(self) -> None:
        """Commit what is queued, then end the thread (waits for it)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        try:
            while (first := self._queue.get()) is not None:
                group = [first]
                stopping = False
                while len(group) < MAX_GROUP:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stopping = True
                        break
                    group.append(item)
                self._commit(group)
                if stopping:
                    break
        finally:
            close_old_connections()

    def _commit(self, group: list[Pending]) -> None:
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
