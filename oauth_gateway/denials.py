"""A sign-in that ends at GitLab ends at the MCP client too (RFC 6749 §4.1.2.1).

When the user denies at GitLab, or a device code expires before it is approved, the client is told
on its redirect URI (`error=access_denied`, its `state`, RFC 9207 `iss`), as our consent page's Deny
does; otherwise it would wait for a code that never comes. The redirect URI comes from the /authorize
query kept with the sign-in, which passed through a form: it is used only when the client registered
it, never as an open redirect. Sign-ins to this server's own pages have no client and keep their page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, QueryDict
from oauth2_provider.http import OAuth2ResponseRedirect

from oauth_gateway.models import Application, PendingSignIn

DENIED = "Access was denied in GitLab."
EXPIRED = "The sign-in expired before it was approved in GitLab."
# The endings the client hears about (the message kept on the sign-in → its error_description). Other
# failures (GitLab refusing this server, say) are the operator's to fix: they keep our error page.
TOLD_TO_CLIENT = {
    DENIED: "The user denied the request at GitLab.",
    EXPIRED: "The sign-in expired before it was approved at GitLab.",
}


def error_url(redirect_uri: str, state: str | None, error: str, description: str) -> str:
    """`redirect_uri` carrying an error, the client's state and our issuer (RFC 9207 §2)."""
    params = {"error": error, "error_description": description, "iss": settings.PUBLIC_URL}
    if state:
        params["state"] = state
    separator = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{separator}{urlencode(params)}"


def denial_url(pending: PendingSignIn) -> str | None:
    """Where to send the browser of a failed MCP sign-in: the client's registered redirect URI with
    access_denied, or None (a browser sign-in, another failure, an unknown or unregistered URI)."""
    description = TOLD_TO_CLIENT.get(pending.error)
    if not pending.client_id or pending.status != PendingSignIn.Status.FAILED or description is None:
        return None
    query = QueryDict(pending.authorize_query)
    application = Application.objects.filter(client_id=pending.client_id).first()
    if application is None or application.disabled or query.get("client_id") != pending.client_id:
        return None
    redirect_uri = query.get("redirect_uri") or application.only_redirect_uri()
    if not redirect_uri or not application.redirect_uri_allowed(redirect_uri):
        return None
    return error_url(redirect_uri, query.get("state"), "access_denied", description)


def denial_redirect(pending: PendingSignIn | None) -> HttpResponse | None:
    url = denial_url(pending) if pending is not None else None
    if url is None:
        return None
    return OAuth2ResponseRedirect(url, settings.OAUTH2_PROVIDER["ALLOWED_REDIRECT_URI_SCHEMES"])
