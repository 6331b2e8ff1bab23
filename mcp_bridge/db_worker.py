"""A thread with its own database connection that takes the event loop's work in batches.

The audit writer (mcp_bridge.audit_writer) and the bearer checks (mcp_bridge.auth) each run on one:
whatever requests queue while it works is handled at the next turn as one batch (one COMMIT for
many audit rows, one wake-up of the loop for many checks), and no request pays a hop through
asyncio's or asgiref's executors.
"""

from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar

from django.db import connections

Item = TypeVar("Item")


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
