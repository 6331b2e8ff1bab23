"""oauth_gateway.views.errors renders every JSON error of the OAuth app (RFC 6749 §5.1-5.2), and the MCP
401 challenge quotes what it carries (RFC 6750 §3, RFC 7230 §3.2.6 quoted-string)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.test import override_settings

from mcp_bridge.admission import unauthorized
from oauth_gateway.views.errors import error_body, oauth_error, rate_limited, token_error


def test_the_error_object_has_rfc_6749_members_and_extras():
    assert error_body("slow_down", "Wait.", interval=10) == {
        "error": "slow_down",
        "error_description": "Wait.",
        "interval": 10,
    }


def test_token_errors_are_never_cached():
    response = token_error("invalid_request", "Send exactly one grant_type.")
    assert response.status_code == 400
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")
    assert json.loads(response.content) == error_body("invalid_request", "Send exactly one grant_type.")


def test_a_rate_limited_answer_says_when_to_retry():
    response = rate_limited("Too many.")
    assert response.status_code == 429 and response["Retry-After"] == "3600"
    assert json.loads(response.content) == {"error": "too_many_requests", "error_description": "Too many."}
    assert "Cache-Control" not in oauth_error("invalid_token", "Unknown client", 401)


def challenge(description: str | None, path: str = "/mcp") -> tuple[int, dict[bytes, bytes], Any]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(unauthorized(send, description, path))
    start, body = sent
    return start["status"], dict(start["headers"]), json.loads(body["body"])


@override_settings(PUBLIC_URL="https://mcp.test", MCP_PATH="/mcp")
def test_the_401_without_a_token_points_at_the_resource_metadata():
    status, headers, body = challenge(None)
    assert status == 401
    assert (
        headers[b"www-authenticate"]
        == b'Bearer resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp"'
    )
    assert body["error"] == "unauthorized"


@override_settings(PUBLIC_URL="https://mcp.test", MCP_PATH="/mcp")
def test_a_quote_or_backslash_in_the_description_stays_inside_its_quoted_string():
    status, headers, body = challenge('The "token" C:\\x ended')
    assert status == 401
    assert headers[b"www-authenticate"] == (
        b'Bearer error="invalid_token",error_description="The \\"token\\" C:\\\\x ended",'
        b'resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp"'
    )
    assert body == {"error": "invalid_token", "error_description": 'The "token" C:\\x ended'}
