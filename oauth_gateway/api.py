"""JSON endpoints of the gateway (django-ninja): /health and /ready for load balancers, and
/oauth/poll for the device page."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router

from config import lifecycle
from oauth_gateway.device_flow import poll_answer
from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import PendingSignIn
from oauth_gateway.services.signin import SignInError, signin_poll_device
from oauth_gateway.views.errors import error_body

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


@router.get("/health", auth=None)
async def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: the process answers. Nothing else is checked, so a database outage does not make
    an orchestrator restart every replica (that is what /ready is for)."""
    return {"status": "ok"}


@router.get("/ready", response={200: dict, 503: dict}, auth=None)
async def ready(request: HttpRequest) -> tuple[int, dict[str, str]]:
    """Readiness: 200 when this replica can serve (database answers), 503 while it is stopping or
    when the database is unreachable."""
    if lifecycle.draining.is_set():
        return 503, {"status": "stopping"}
    if await sync_to_async(_database_ok)():
        return 200, {"status": "ready", "database": "ok"}
    return 503, {"status": "unavailable", "database": "unreachable"}


@router.get("/oauth/poll", auth=None, response={200: dict, 403: dict, 404: dict}, url_name="oauth-poll")
def oauth_poll(request: HttpRequest, id: str = "", device_code: str = "") -> tuple[int, dict[str, Any]]:
    """Device sign-in: the device page asks (by `id`) whether GitLab approved the code yet; a headless
    client asks by the `device_code` /authorize gave it (POST keeps it out of URLs)."""
    if device_code:
        return poll_answer(request, device_code)
    try:
        pending = PendingSignIn.objects.filter(pk=uuid.UUID(id)).first()
    except ValueError:
        pending = None
    if pending is None:
        return 404, {"status": "unknown"}
    try:
        return 200, signin_poll_device(request=request, pending=pending)
    except SignInError as exc:
        return 403, {"status": "failed", "error": str(exc)}
    except GitLabOAuthError:
        return 200, {"status": "pending", "interval": pending.interval}  # GitLab unreachable: try later


@router.post(
    "/oauth/poll", auth=None, response={200: dict, 400: dict, 403: dict, 404: dict}, url_name="oauth-poll-post"
)
def oauth_poll_post(request: HttpRequest) -> tuple[int, dict[str, Any]]:
    """The headless poll with the device_code in a form or JSON body."""
    handle = request.POST.get("device_code", "")
    if not handle and request.content_type == "application/json":
        try:
            body = json.loads(request.body)
        except (ValueError, RecursionError):
            body = None
        handle = body.get("device_code", "") if isinstance(body, dict) else ""
    if not isinstance(handle, str) or not handle:
        return 400, error_body("invalid_request", "device_code is required.")
    return poll_answer(request, handle)
