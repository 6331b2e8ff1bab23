"""Is this replica alive, ready, or on its way out: /health, /ready, and the draining flag.

The server layer (config.serving) calls start_draining() when told to stop (SIGTERM); from then on
/ready answers 503 while the requests in flight finish, so a load balancer sends new ones elsewhere.
"""

from __future__ import annotations

import logging
import threading

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router

router = Router()
log = logging.getLogger("oauth_gateway.api")  # the logger these endpoints have always logged to
_draining = threading.Event()


def start_draining() -> None:
    """This replica was told to stop: /ready answers 503 from now on."""
    _draining.set()


def is_draining() -> bool:
    return _draining.is_set()


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError as exc:
        log.warning("health: database unreachable: %s", type(exc).__name__)
        return False
    finally:
        connection.close_if_unusable_or_obsolete()


@router.get("/health", auth=None)
async def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: the process answers. Nothing else is checked, so a database outage does not make
    an orchestrator restart every replica (that is what /ready is for)."""
    return {"status": "ok"}


@router.get("/ready", response={200: dict, 503: dict}, auth=None)
async def ready(request: HttpRequest) -> tuple[int, dict[str, str]]:
    """Readiness: 200 when this replica can serve (database answers), 503 while it is stopping or
    when the database is unreachable."""
    if is_draining():
        return 503, {"status": "stopping"}
    if await sync_to_async(_database_ok)():
        return 200, {"status": "ready", "database": "ok"}
    return 503, {"status": "unavailable", "database": "unreachable"}
