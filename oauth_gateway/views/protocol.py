"""The OAuth endpoints MCP clients call directly, on django-oauth-toolkit's views.

Our additions: CORS for browser-based clients (DOT sends none on /token and /register), redirect
URI rules and per-IP rate limits on registration, `client_id_issued_at` in the registration
response (RFC 7591 §3.2.1), and metadata that names PUBLIC_URL and our exact endpoints.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as dot_views
from oauth2_provider.views.dynamic_client_registration import DynamicClientRegistrationView

from oauth_gateway.device_flow import device_token
from oauth_gateway.gitlab_oauth import DEVICE_GRANT
from oauth_gateway.models import AccessToken, Application, AuditEvent
from oauth_gateway.redirects import redirect_uri_problem
from oauth_gateway.services.audit import audit, client_ip
from oauth_gateway.services.clients import (
    application_renamed,
    application_unregister,
    registration_host,
    registrations_exhausted,
)
from oauth_gateway.views.errors import oauth_error, rate_limited, token_error


def with_cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type, MCP-Protocol-Version"
    response["Access-Control-Max-Age"] = "86400"
    return response


class CorsMixin:
    """Answer CORS preflights and put CORS headers on every answer (tokens travel in bodies and
    Authorization headers, never in cookies, so any origin may call)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "OPTIONS":
            return with_cors(HttpResponse(status=204))
        return with_cors(super().dispatch(request, *args, **kwargs))  # type: ignore[misc]


# The grants /token serves (RFC 6749 §5.2: any other is unsupported_grant_type, answered before a
# credential is looked at: oauthlib checks a password before it checks whether the client may use
# the password grant, which made /token an oracle for the admin's password). The device grant is
# ours (device_flow.device_token), not the toolkit's device branch, which answers 500 without a
# device_code and redeems a device code more than once.
TOKEN_GRANTS = frozenset({"authorization_code", "refresh_token", DEVICE_GRANT})


@method_decorator(csrf_exempt, name="dispatch")
class TokenView(CorsMixin, dot_views.TokenView):
    """RFC 6749 §3.2 through the toolkit, for TOKEN_GRANTS only; each issued or refreshed token
    pair is audited, and so is each refusal."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        grants = request.POST.getlist("grant_type")
        grant = grants[0][:100] if grants else ""
        if len(grants) != 1 or grants[0] not in TOKEN_GRANTS:
            audit(AuditEvent.Kind.TOKEN_REFUSED, outcome="denied", ip=client_ip(request), grant_type=grant)
            if len(grants) == 1:
                supported = ", ".join(sorted(TOKEN_GRANTS))
                return token_error("unsupported_grant_type", f"Supported grant types: {supported}.")
            return token_error("invalid_request", "Send exactly one grant_type.")
        if grant == DEVICE_GRANT:
            response = device_token(request)
        else:
            response = super().post(request, *args, **kwargs)
        if response.status_code == 200:
            issued = json.loads(response.content).get("access_token", "")
            token = AccessToken.objects.filter(token_checksum=hashlib.sha256(issued.encode()).hexdigest()).first()
            if token is not None:
                kind = AuditEvent.Kind.TOKEN_REFRESHED if grant == "refresh_token" else AuditEvent.Kind.TOKEN_ISSUED
                audit(
                    kind,
                    user_id=token.user_id,
                    application_id=token.application_id,
                    connection_id=token.connection_id,
                    ip=client_ip(request),
                )
        else:
            audit(AuditEvent.Kind.TOKEN_REFUSED, outcome="denied", ip=client_ip(request), grant_type=grant)
        return response


@method_decorator(csrf_exempt, name="dispatch")
class RevokeView(CorsMixin, dot_views.RevokeTokenView):
    """RFC 7009; audited (the toolkit answers 200 whether or not the token was known, §2.2)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:
            audit(
                AuditEvent.Kind.TOKEN_REVOKED, ip=client_ip(request), client_id=request.POST.get("client_id", "")[:100]
            )
            # §2.2: the body is ignored; the toolkit's is empty and labelled text/html, which clients
            # that parse every answer as JSON choke on. `{}` as JSON suits both kinds.
            response = JsonResponse({}, headers={"Cache-Control": "no-store"})
        return response


class ServerMetadataView(CorsMixin, dot_views.OAuthServerMetadataView):
    """RFC 8414 §2, with `issuer` = PUBLIC_URL exactly."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["token_endpoint_auth_methods_supported"] = ["none", "client_secret_post", "client_secret_basic"]
        data["revocation_endpoint_auth_methods_supported"] = data["token_endpoint_auth_methods_supported"]
        data["code_challenge_methods_supported"] = ["S256"]
        data["device_authorization_endpoint"] = f"{settings.PUBLIC_URL}/device_authorization"  # RFC 8628 §4
        if not settings.OAUTH_CIMD_ENABLED:
            data.pop("client_id_metadata_document_supported", None)  # off: not advertised at all
        return JsonResponse(data)


class ResourceMetadataView(CorsMixin, dot_views.OAuthProtectedResourceMetadataView):
    """RFC 9728 §3, once per URL that serves MCP: `resource` is the URL the document was found under
    (§3.3), PUBLIC_URL at the root and PUBLIC_URL/mcp at the /mcp suffix. The root's has no trailing
    slash, as the MCP authorization spec asks of canonical server URIs; the SDKs compare paths with
    a trailing slash added, so a client that typed either form finds the server under it. Both
    name one audience (oauth_gateway.validators.canonical_resource)."""

    path_suffix = ""  # as_view(path_suffix="/mcp")

    def get_resource(self, request: HttpRequest) -> str:
        return f"{settings.PUBLIC_URL}{self.path_suffix}"


@method_decorator(csrf_exempt, name="dispatch")
class RegisterView(CorsMixin, DynamicClientRegistrationView):
    """RFC 7591 open registration, with our redirect URI rules and a rate limit per address and
    redirect host (oauth_gateway.services.clients)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ip = client_ip(request)
        metadata, refused = _checked_metadata(request)
        if refused:
            return refused
        # Counting this address's registrations and inserting one are one step, or concurrent
        # requests all pass the count before any is recorded (60 got through a limit of 20).
        uris = metadata.get("redirect_uris") if isinstance(metadata, dict) else None
        host = registration_host(redirect_uris=uris if isinstance(uris, list) else [])
        with transaction.atomic():
            _lock_registrations(ip)
            if registrations_exhausted(ip=ip, host=host):
                return rate_limited("Too many registrations from this address; retry later.")
            response = super().post(request, *args, **kwargs)
            if response.status_code != 201:
                return response
            data = json.loads(response.content)
            application = Application.objects.get(client_id=data["client_id"])
            application.registration_ip = ip
            application.save(update_fields=["registration_ip"])
        data["client_id_issued_at"] = int(application.created.timestamp())
        # RFC 7591 §3.2.1: all registered metadata; the toolkit leaves response_types out (§2: the
        # code flow's is "code"; a device-grant client uses none).
        data["response_types"] = ["code"] if "authorization_code" in data.get("grant_types", []) else []
        if "client_secret" in data:
            data["client_secret_expires_at"] = 0  # RFC 7591 §3.2.1: never
        if isinstance(metadata, dict) and metadata.get("token_endpoint_auth_method") == "client_secret_post":
            data["token_endpoint_auth_method"] = "client_secret_post"  # noqa: S105  (a method name)
        audit(AuditEvent.Kind.CLIENT_REGISTERED, application_id=application.pk, ip=ip, client_name=application.name)
        return JsonResponse(data, status=201)


# RFC 7592 requests, as audited; an address's rows of the last hour are its management rate limit.
MANAGEMENT_EVENTS = (
    AuditEvent.Kind.CLIENT_READ,
    AuditEvent.Kind.CLIENT_UPDATED,
    AuditEvent.Kind.CLIENT_UNREGISTERED,
    AuditEvent.Kind.CLIENT_MANAGEMENT_REFUSED,
)


@method_decorator(csrf_exempt, name="dispatch")
class RegisterManagementView(CorsMixin, dot_views.DynamicClientRegistrationManagementView):
    """RFC 7592: read, update or delete a registration with its registration access token.

    The token is checked before anything else (§2: 401), each request is audited and limited per
    address like registrations, and a disabled client is unknown here (401). Deleting disables the
    client through the one revoke path (§2.3; its audit rows keep pointing at it); a new name ends
    its connections, so that every user consents again under that name (services.clients).
    """

    authenticated: Any = None

    def _authenticate_registration_request(self, request: HttpRequest, client_id: str) -> Any:
        ip = client_ip(request)
        since = timezone.now() - timedelta(hours=1)
        # Served by the (kind, -created) index; then this address's rows among them.
        recent = AuditEvent.objects.filter(kind__in=MANAGEMENT_EVENTS, created__gte=since, ip=ip)
        if ip and recent.count() >= settings.OAUTH_REGISTRATIONS_PER_HOUR:
            return rate_limited("Too many registration requests from this address; retry later.")
        auth = super()._authenticate_registration_request(request, client_id)
        if not isinstance(auth, HttpResponse) and auth.application.disabled:
            auth = oauth_error("invalid_token", "Unknown client", 401)  # §2: as for a client that does not exist
            auth["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        if isinstance(auth, HttpResponse):
            audit(AuditEvent.Kind.CLIENT_MANAGEMENT_REFUSED, outcome="denied", ip=ip, method=request.method)
        else:
            self.authenticated = auth
        return auth

    def get(self, request: HttpRequest, client_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, client_id, *args, **kwargs)
        if response.status_code == 200:
            audit(AuditEvent.Kind.CLIENT_READ, application_id=self.authenticated.application.pk, ip=client_ip(request))
        return response

    def put(self, request: HttpRequest, client_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        auth = self._authenticate_registration_request(request, client_id)
        if isinstance(auth, HttpResponse):
            return auth
        application, ip = auth.application, client_ip(request)
        old_name = application.name
        try:
            _, refused = _checked_metadata(request)
            response = refused or super().put(request, client_id, *args, **kwargs)
        except RecursionError:  # json.loads recurses once per level of a deeply nested body
            response = oauth_error("invalid_client_metadata", "The client metadata is nested too deeply.")
        if response.status_code != 200:
            status = response.status_code
            audit(
                AuditEvent.Kind.CLIENT_UPDATED, outcome="refused", application_id=application.pk, ip=ip, status=status
            )
            return response
        application.name = json.loads(response.content).get("client_name", "")
        audit(AuditEvent.Kind.CLIENT_UPDATED, application_id=application.pk, ip=ip, client_name=application.name)
        if application.name != old_name:
            application_renamed(application=application, old_name=old_name, ip=ip)
        return response

    def delete(self, request: HttpRequest, client_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        auth = self._authenticate_registration_request(request, client_id)
        if isinstance(auth, HttpResponse):
            return auth
        application_unregister(application=auth.application, ip=client_ip(request))
        return HttpResponse(status=204)


def _lock_registrations(ip: str | None) -> None:
    """Hold registrations from `ip` until the transaction ends. PostgreSQL: an advisory lock on the
    address; SQLite: nothing to do, its IMMEDIATE transactions hold the database's write lock."""
    if ip and connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"gitlab-mcp/register/{ip}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _checked_metadata(request: HttpRequest) -> tuple[Any, HttpResponse | None]:
    """The client metadata sent, and an RFC 7591 §3.2.2 error when it is not a JSON object, names
    a grant we do not serve, or a redirect URI that is not allowed. The toolkit's view parses the
    body again, so only a body that parsed here may reach it."""
    try:
        metadata = json.loads(request.body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None, oauth_error("invalid_client_metadata", "The body must be a JSON object.")
    if not isinstance(metadata, dict):
        return None, oauth_error("invalid_client_metadata", "The body must be a JSON object.")
    grants = metadata.get("grant_types", ["authorization_code"])
    if not isinstance(grants, list) or not all(isinstance(g, str) for g in grants):
        return metadata, oauth_error("invalid_client_metadata", "grant_types must be an array of strings")
    if not set(grants) <= TOKEN_GRANTS:
        return metadata, oauth_error(
            "invalid_client_metadata",
            f"grant_types may only be authorization_code or {DEVICE_GRANT}, and refresh_token",
        )
    uris = metadata.get("redirect_uris")
    for uri in uris if isinstance(uris, list) else []:
        problem = redirect_uri_problem(uri) if isinstance(uri, str) else "must be a string"
        if problem:
            return metadata, oauth_error("invalid_redirect_uri", f"{uri!r} {problem}")
    return metadata, None
