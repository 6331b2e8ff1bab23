"""The HTTP side of headless sign-in (the logic is in services.headless): RFC 8628's
/device_authorization and the device_code grant at /token, and the reference's shape, /authorize
asked for JSON plus /oauth/poll. Every answer is JSON; errors as RFC 6749 §5.2 and RFC 8628 §3.5 say.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauthlib.common import Request as OAuthRequest

from oauth_gateway.gitlab_oauth import DEVICE_GRANT, GitLabOAuthError
from oauth_gateway.models import Application
from oauth_gateway.services.headless import (
    WAITING,
    device_answer,
    headless_authorization_code,
    headless_begin,
    headless_poll,
    headless_redeem,
)
from oauth_gateway.validators import canonical_resource
from oauth_gateway.views.errors import NO_STORE, token_error

POLL_ERRORS = {
    "authorization_pending": "The user has not approved the code at GitLab yet.",
    "slow_down": "Polling too fast: wait the interval between polls.",
    "access_denied": "The user denied the request at GitLab.",
    "expired_token": "The device code expired; start again.",
    "invalid_grant": "The device code is unknown, of another client, or already used.",
}


def request_problem(application: Application | None, params: QueryDict) -> JsonResponse | None:
    """What both shapes refuse before GitLab is asked for a code: an unknown or disabled client, a
    scope other than ours, a resource other than this server (RFC 8707 §2: invalid_target)."""
    if application is None or application.disabled:
        return token_error("invalid_client", "Unknown or disabled client.", 401)
    if not set(params.get("scope", settings.MCP_SCOPE).split()) <= {settings.MCP_SCOPE}:
        return token_error("invalid_scope", f"The only scope is {settings.MCP_SCOPE!r}.")
    if any(canonical_resource(r) is None for r in params.getlist("resource")):
        return token_error("invalid_target", f"This server only issues tokens for {settings.PUBLIC_URL}.")
    return None


def _start(request: HttpRequest, application: Application, authorize_query: str = "") -> HttpResponse:
    try:
        pending, handle = headless_begin(request=request, application=application, authorize_query=authorize_query)
    except GitLabOAuthError:
        return token_error("temporarily_unavailable", "GitLab did not give a sign-in code; try again shortly.", 503)
    answer = device_answer(pending, handle)
    if authorize_query:  # the reference's shape polls /oauth/poll, not /token
        answer["poll_uri"] = f"{settings.PUBLIC_URL}{reverse('api:oauth-poll')}"
    return JsonResponse(answer, headers=NO_STORE)


class _Client:
    """The client of a device request, authenticated as at /token (a public client names itself)."""

    def __init__(self, request: HttpRequest) -> None:
        core = get_oauthlib_core()
        uri, method, body, headers = core._extract_params(request)
        self.oauth = OAuthRequest(uri, http_method=method, body=body, headers=headers)
        self.oauth.grant_type = DEVICE_GRANT
        self.validator = core.server.request_validator
        self.server = core.server

    def authenticate(self) -> JsonResponse | Application:
        if not self.validator.authenticate_client(self.oauth):
            return token_error("invalid_client", "Unknown client, or its authentication failed.", 401)
        application: Application = self.oauth.client
        if application.disabled:
            return token_error("invalid_client", "Unknown or disabled client.", 401)
        if not self.validator.validate_grant_type(application.client_id, DEVICE_GRANT, application, self.oauth):
            return token_error("unauthorized_client", "This client may not use the device grant.")
        return application


@method_decorator(csrf_exempt, name="dispatch")
class DeviceAuthorizationView(View):
    """RFC 8628 §3.1-3.2: GitLab's user code and verification URI, with our own device_code."""

    def post(self, request: HttpRequest) -> HttpResponse:
        client = _Client(request)
        application = client.authenticate()
        if isinstance(application, JsonResponse):
            return application
        return request_problem(application, request.POST) or _start(request, application)


def device_token(request: HttpRequest) -> HttpResponse:
    """RFC 8628 §3.4-3.5 at /token: a poll (GitLab is asked no faster than the interval), then, once
    the user approved, a connection and our token pair, minted by the toolkit like the code flow's."""
    if not request.POST.get("device_code"):
        return token_error("invalid_request", "device_code is required.")
    client = _Client(request)
    application = client.authenticate()
    if isinstance(application, JsonResponse):
        return application
    problem = request_problem(application, request.POST)
    if problem:
        return problem
    handle = request.POST["device_code"]
    poll = headless_poll(handle=handle, client_id=application.client_id)
    if not poll.approved:
        extra = {"interval": poll.interval} if poll.error == "slow_down" else {}
        return token_error(poll.error, POLL_ERRORS.get(poll.error, "The sign-in failed."), **extra)
    connection = headless_redeem(request=request, handle=handle, client_id=application.client_id)
    if connection is None:  # a concurrent request redeemed it first
        return token_error("invalid_grant", POLL_ERRORS["invalid_grant"])
    oauth = client.oauth
    oauth.user, oauth.scopes = connection.user, [settings.MCP_SCOPE]
    oauth.resource = [settings.MCP_RESOURCE_URL]  # RFC 8707: bound to /mcp like every token of ours
    oauth.gitlab_connection_id = connection.pk
    token = client.server.default_token_type.create_token(oauth, refresh_token=True)
    client.validator.save_token(token, oauth)
    return JsonResponse(token, headers=NO_STORE)


def authorize_as_json(request: HttpRequest) -> HttpResponse | None:
    """The reference's CLI shape: /authorize without redirect_uri from a client asking for JSON (the
    view asks only then: views.signin.asks_for_json). None when the client registered exactly one
    redirect URI: the code goes there, as for a browser."""
    params = request.GET
    application = Application.objects.filter(client_id=params.get("client_id", "")).first()
    if application is not None and application.only_redirect_uri():
        return None  # today's flow: the code goes to that one redirect URI
    problem = request_problem(application, params)
    if problem:
        return problem
    assert application is not None
    if params.get("response_type") != "code":
        return token_error("unsupported_response_type", "response_type must be code.")
    if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
        return token_error("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256.")
    return _start(request, application, authorize_query=params.urlencode())


def poll_answer(request: HttpRequest, handle: str) -> tuple[int, dict[str, Any]]:
    """The reference's /oauth/poll: pending (with the interval), slow_down, denied, expired, or once
    approved the authorization code and the client's state, given once."""
    poll = headless_poll(handle=handle)
    if poll.error in WAITING:
        return 200, {"status": "pending", "error": poll.error, "interval": poll.interval}
    if poll.error and poll.error != "invalid_grant":
        return 403, {"status": "expired" if poll.error == "expired_token" else "denied", "error": poll.error}
    answer = None if poll.error else headless_authorization_code(request=request, handle=handle)
    if answer is None:
        return 404, {"status": "unknown", "error": "invalid_grant"}
    return 200, {"status": "complete", **answer}
