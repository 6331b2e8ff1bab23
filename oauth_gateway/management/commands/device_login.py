"""`python manage.py device_login --server https://mcp.example.com`: sign in from a terminal (RFC 8628).

What any headless MCP client does, for a person trying it: discover the server's endpoints, register
a client (unless --client-id names one), ask for a code, show where to enter it at GitLab, poll at the
interval the server asks for, and print the tokens (or write them to a file readable by you only).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class Command(BaseCommand):
    help = "Sign in to a gitlab-mcp server from a terminal with the device flow and print the tokens."
    requires_system_checks: list[str] = []  # a client: this machine's server settings do not matter

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--server", required=True, help="The server's URL, e.g. https://mcp.example.com")
        parser.add_argument("--client-id", help="A registered client's id (default: register a new one)")
        parser.add_argument("--save", type=Path, help="Write the token answer (JSON) to this file, mode 0600")
        parser.add_argument("--timeout", type=float, default=900, help="Give up after this many seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        server = options["server"].rstrip("/")
        with httpx.Client(timeout=30) as http:
            meta = _json(http.get(f"{server}/.well-known/oauth-authorization-server"), "discovery")
            if "device_authorization_endpoint" not in meta:
                raise CommandError(f"{server} does not offer the device flow (no device_authorization_endpoint).")
            client_id = options["client_id"] or self._register(http, meta)
            started = _json(http.post(meta["device_authorization_endpoint"], data={"client_id": client_id}), "start")
            link = started.get("verification_uri_complete") or started["verification_uri"]
            self.stdout.write(f"Open {link} and enter the code {started['user_code']} to sign in with GitLab.")
            tokens = self._poll(http, meta["token_endpoint"], client_id, started, options["timeout"])
        answer = json.dumps({**tokens, "client_id": client_id}, indent=2)
        if options["save"]:
            options["save"].write_text(answer)
            os.chmod(options["save"], 0o600)
            self.stdout.write(f"Signed in. Tokens written to {options['save']}.")
        else:
            self.stdout.write(answer)

    def _register(self, http: httpx.Client, meta: dict[str, Any]) -> str:
        body = {
            "client_name": "gitlab-mcp device_login",
            "grant_types": [DEVICE_GRANT, "refresh_token"],
            "token_endpoint_auth_method": "none",
        }
        client_id = str(_json(http.post(meta["registration_endpoint"], json=body), "registration")["client_id"])
        self.stdout.write(f"Registered client {client_id}.")
        return client_id

    def _poll(
        self, http: httpx.Client, token_url: str, client_id: str, started: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """RFC 8628 §3.4-3.5: wait the interval, poll, add 5 s on slow_down, stop on anything final."""
        interval, deadline = int(started.get("interval", 5)), time.monotonic() + min(timeout, started["expires_in"])
        form = {"grant_type": DEVICE_GRANT, "device_code": started["device_code"], "client_id": client_id}
        while time.monotonic() < deadline:
            time.sleep(interval)
            response = http.post(token_url, data=form)
            body = response.json()
            if response.status_code == 200:
                return dict(body)
            error = body.get("error")
            if error == "slow_down":
                interval = int(body.get("interval") or interval + 5)
            elif error != "authorization_pending":
                raise CommandError(f"Sign-in failed: {error}: {body.get('error_description', '')}")
        raise CommandError("The code expired before it was approved. Run the command again.")


def _json(response: httpx.Response, step: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or not isinstance(body, dict):
        detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else response.text[:200]
        raise CommandError(f"The server refused the {step} (HTTP {response.status_code}): {detail}")
    return body
