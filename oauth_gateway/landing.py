"""GET / in a browser: what this server is and how to connect an MCP client to it.

Only for browsers (Accept: text/html, no MCP header): config.asgi sends MCP on / (POST, DELETE, a GET
asking for an event stream) to the MCP app before Django sees it, and anything else asking for
something other than a page gets the 404 it got before.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

MCP_HEADERS = ("mcp-protocol-version", "mcp-session-id")


def landing(request: HttpRequest) -> HttpResponse:
    wants_page = "text/html" in request.headers.get("accept", "")
    if not wants_page or any(name in request.headers for name in MCP_HEADERS):
        raise Http404("Not a page.")
    context = {
        "mcp_url": f"{settings.PUBLIC_URL}{settings.MCP_PATH}",
        "public_url": settings.PUBLIC_URL,
        "gitlab_url": settings.GITLAB_URL,
        "oauth": settings.OAUTH_ENABLED,
        "bearer_needed": not settings.OAUTH_ENABLED and bool(settings.MCP_AUTH_TOKENS),
        "read_only": settings.GITLAB_READ_ONLY_MODE,
    }
    return render(request, "oauth_gateway/landing.html", context)
