"""The simulator's ASGI app: authentication, faults, control hooks, then the area routes."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.gitlab_sim import areas, oauth
from tests.gitlab_sim.http import Call, Router, error, not_found, read_body
from tests.gitlab_sim.seed import seed

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Simulator:
    """One GitLab. `world` may be replaced (reset) at any time through /_sim/reset."""

    def __init__(self) -> None:
        self.world = seed()
        self.router = Router()
        for area in areas.ALL:
            area.register(self.router)
        self.faults: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.oauth = oauth.OAuthState()

    def reset(self) -> None:
        """Back to the seed: the world, no faults, an empty request log, no OAuth grants."""
        self.world, self.faults, self.requests = seed(), [], []
        self.oauth = oauth.OAuthState()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path", b"").decode() or request.url.path
        raw_path = raw_path.split("?")[0]
        if raw_path.startswith("/_sim/oauth/"):
            return await oauth.control(self, request, raw_path)
        if raw_path.startswith("/_sim/"):
            return await self.control(request, raw_path)
        self.requests.append(await _record(request, raw_path))
        fault = self._take_fault(request.method, raw_path)
        if fault is not None:
            await asyncio.sleep(fault.get("delay", 0))
            if fault.get("status"):
                headers = {"retry-after": str(fault["retry_after"])} if "retry_after" in fault else {}
                body = fault.get("body") or {"message": f"{fault['status']} simulated fault"}
                return JSONResponse(body, status_code=fault["status"], headers=headers)
        if raw_path == "/" or raw_path.startswith(("/oauth/", "/users/sign_")):
            return await oauth.handle(self, request, raw_path)
        found = self.router.match(request.method, raw_path)
        if found is None:
            return not_found()
        handler, params = found
        token = _token(request)
        user_id, scopes = None, ()
        if token is not None:
            known = self.world.tokens.get(token)
            if known is None:
                return error(401, "401 Unauthorized")
            if known.expired():
                # doc/api/rest/troubleshooting.md: an expired OAuth token answers 401 invalid_token.
                return JSONResponse(
                    {
                        "error": "invalid_token",
                        "error_description": "Token is expired. You can either do re-authorization or token refresh.",
                    },
                    status_code=401,
                )
            user_id, scopes = known.user_id, known.scopes
            # GraphQL is always a POST: its area tells a query (read_api may) from a mutation.
            if request.method in WRITE_METHODS and "api" not in scopes and raw_path != "/api/graphql":
                # doc/api/rest/troubleshooting.md: a token without the needed scope gets 403 insufficient_scope.
                return JSONResponse(
                    {
                        "error": "insufficient_scope",
                        "error_description": (
                            "The request requires higher privileges than provided by the access token."
                        ),
                        "scope": "api",
                    },
                    status_code=403,
                )
        body = await read_body(request)
        return await handler(Call(request, self.world, params, user_id, scopes, body))

    def _take_fault(self, method: str, path: str) -> dict[str, Any] | None:
        for fault in self.faults:
            if fault.get("method", method) == method and re.search(fault.get("path", ""), path):
                if fault.get("times") is not None:
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def control(self, request: Request, path: str) -> Response:
        """Test hooks: reset the world, inject faults, read the request log."""
        if path == "/_sim/reset" and request.method == "POST":
            self.reset()
            return JSONResponse({"ok": True})
        if path == "/_sim/faults" and request.method == "POST":
            self.faults.append(await request.json())
            return JSONResponse({"ok": True})
        if path == "/_sim/faults" and request.method == "DELETE":
            self.faults = []
            return JSONResponse({"ok": True})
        if path == "/_sim/version" and request.method == "POST":
            areas.instance.set_version(self.world, str((await request.json())["version"]))
            return JSONResponse({"ok": True})
        if path == "/_sim/merge_checks" and request.method == "POST":
            # Set a merge check GitLab runs that the simulator does not derive (doc/api/merge_requests.md#merge-status).
            areas.merge_checks.set_check(self.world, **await request.json())
            return JSONResponse({"ok": True})
        if path == "/_sim/runner" and request.method == "POST":
            areas.ci.start_runner(self.world, **await request.json())
            return JSONResponse({"ok": True})
        if path == "/_sim/requests":
            if request.method == "DELETE":
                self.requests = []
            return JSONResponse(self.requests)
        return not_found()


def _token(request: Request) -> str | None:
    # doc/api/rest/authentication.md: PRIVATE-TOKEN header, OAuth Bearer header, or private_token param.
    if "private-token" in request.headers:
        return request.headers["private-token"]
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query_params.get("private_token") or request.query_params.get("access_token")


async def _record(request: Request, path: str) -> dict[str, Any]:
    record = {
        "method": request.method,
        "path": path,
        "query": str(request.url.query),
        "private_token": request.headers.get("private-token"),
        "authorization": request.headers.get("authorization"),
    }
    if path == "/oauth/token":
        record["grant_type"] = (await read_body(request)).get("grant_type")
    return record


def build_app() -> Simulator:
    return Simulator()
