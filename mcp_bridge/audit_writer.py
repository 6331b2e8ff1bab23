"""The database threads of the MCP app: BatchWorker, a thread with its own database connection that
takes the event loop's work in batches, and the AuditWriter built on it, which commits the audit
rows of tool calls in groups (group commit). The bearer checks (mcp_bridge.auth) run on another
BatchWorker. Whatever requests queue while a worker works is handled at its next turn as one batch
(one COMMIT for many audit rows, one wake-up of the loop for many checks), and no request pays a hop
through asyncio's or asgiref's executors.

Each MCP answer leaves only after its audit rows are committed (mcp_bridge.asgi). One INSERT and
one COMMIT per call, each behind a hop to Django's one database thread, was a tenth of a call's
CPU and queued the calls of a busy server behind each other. Here every request hands its rows to
one thread with its own database connection, which takes all the rows waiting at that moment and
commits them in one transaction; each request waits for the commit that holds its rows, so the
guarantee is unchanged while calls finishing together share one COMMIT. The same on SQLite and
PostgreSQL: plain Django ORM in a plain thread. The rows are built here too (tool_call_rows), so a
tool call never runs code of the OAuth app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connection, connections, transaction

from oauth_gateway.models import AuditEvent

log = logging.getLogger(__name__)
Item = TypeVar("Item")

# The batching database thread


class BatchWorker(Generic[Item]):
    """Started on the first item; `handle` gets every item waiting, at most `max_batch` at a time."""

    name = "db-worker"
    max_batch = 500

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, item: Item) -> None:
        if self._thread is None:
            self._start()
        self._queue.put(item)

    def stop(self) -> None:
        """Handle what is queued, then end the thread and its database connection (waits for it)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def handle(self, batch: list[Item]) -> None:
        raise NotImplementedError

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            while (first := self._queue.get()) is not None:
                batch, stopping = [first], False
                while len(batch) < self.max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        stopping = True
                        break
                    batch.append(item)
                self.handle(batch)
                if stopping:
                    break
        finally:
            connections.close_all()


# The audit writer

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


# Its rows


def tool_call_rows(calls: list[Any], *, caller: Any, ip: str | None, acting_as: str | None = None) -> list[AuditEvent]:
    """The audit rows of an MCP request's tool calls; a denied call's detail says why (e.g.
    {"refused": "undeclared route", "request": "DELETE /projects/alice%2Fnotes"}). In static-token
    mode `acting_as` is the GitLab user of GITLAB_TOKEN, kept as detail.gitlab_user."""
    extra = {"gitlab_user": acting_as} if acting_as else {}
    return [
        AuditEvent(
            kind=AuditEvent.Kind.TOOL_CALL,
            user_id=caller.user_id if caller else None,
            application_id=caller.application_id if caller else None,
            connection_id=caller.connection_id if caller else None,
            ip=ip,
            outcome=call.outcome,
            tool=storable(call.tool),
            project=storable(call.project),
            gitlab_status=call.gitlab_status,
            duration_ms=call.duration_ms,
            detail=storable({**call.detail, **extra}),
        )
        for call in calls
    ]


def storable(value: Any) -> Any:
    """`value` with every NUL character replaced (U+FFFD): PostgreSQL's text and jsonb cannot hold
    one, and a client's input recorded as it came (a refused grant_type, a tool's project) must
    never turn the audit insert, and with it the request, into an error. The OAuth app's audit
    service (oauth_gateway.services.audit) stores its events through it too."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value
