"""JSON endpoints of the gateway (django-ninja). Today: /health for load balancers and Docker."""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router

router = Router()
log = logging.getLogger(__name__)


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


@router.get("/health", response={200: dict, 503: dict}, auth=None)
async def health(request: HttpRequest) -> tuple[int, dict[str, str]]:
    """Liveness with the database checked: 200 when it answers, 503 when it does not."""
    if await sync_to_async(_database_ok)():
        return 200, {"status": "ok", "database": "ok"}
    return 503, {"status": "unavailable", "database": "unreachable"}
