"""JSON endpoints of the gateway (django-ninja): /oauth/poll for the device page (/health and /ready
are config.health's)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Router

from oauth_gateway.device_flow import poll_answer
from oauth_gateway.gitlab_oauth import GitLabOAuthError
from oauth_gateway.models import PendingSignIn
from oauth_gateway.services.signin import SignInError, signin_poll_device
from oauth_gateway.views.errors import error_body

router = Router()


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
