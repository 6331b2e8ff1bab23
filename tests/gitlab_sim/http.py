"""HTTP plumbing shared by the simulator's areas: routing on the raw path, auth, errors, pages."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.world import World

Handler = Callable[["Call"], Awaitable[Response]]


@dataclass
class Call:
    """One API request as a handler sees it."""

    request: Request
    world: World
    params: dict[str, str]  # path parameters, URL-decoded (so "group%2Fapp" is "group/app")
    user_id: int | None
    scopes: tuple[str, ...]
    body: dict[str, Any]

    @property
    def query(self) -> Any:
        return self.request.query_params

    def arg(self, name: str, default: Any = None) -> Any:
        """A parameter from the JSON/form body or the query string, as GitLab reads both."""
        if name in self.body:
            return self.body[name]
        return self.query.get(name, default)

    def arg_list(self, name: str) -> list[str]:
        """GitLab arrays: `name[]=a&name[]=b`, or a comma-separated `name=a,b`, or a JSON list."""
        if name in self.body:
            value = self.body[name]
            return [str(v) for v in value] if isinstance(value, list) else [v for v in str(value).split(",") if v]
        values = self.query.getlist(f"{name}[]")
        if values:
            return values
        raw = self.query.get(name)
        return [v for v in raw.split(",") if v] if raw else []

    def flag(self, name: str) -> bool | None:
        value = self.arg(name)
        if value is None:
            return None
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1", "yes")


class Router:
    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str, *, prefix: str = "/api/v4") -> Callable[[Handler], Handler]:
        """`pattern` like "/projects/:id/issues/:iid"; each :name matches one raw path segment.
        `prefix` is /api/v4 for REST; GraphQL is /api/graphql."""
        regex = re.compile("^" + prefix + re.sub(r":(\w+)", r"(?P<\1>[^/]+)", pattern) + "$")

        def add(handler: Handler) -> Handler:
            self.routes.append((method, regex, handler))
            return handler

        return add

    def match(self, method: str, raw_path: str) -> tuple[Handler, dict[str, str]] | None:
        for route_method, regex, handler in self.routes:
            found = regex.match(raw_path)
            if found and route_method == method:
                return handler, {k: unquote(v) for k, v in found.groupdict().items()}
        return None


def error(status: int, message: Any) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def not_found(what: str = "") -> JSONResponse:
    # GitLab: 404 {"message": "404 Project Not Found"}, or "404 Not found" for a bare route.
    return error(404, f"404 {what} Not Found" if what else "404 Not found")


def forbidden() -> JSONResponse:
    return error(403, "403 Forbidden")


def bad_request(message: Any) -> JSONResponse:
    return error(400, message)


def param_error(text: str) -> JSONResponse:
    """Grape's parameter validation, as GitLab renders it: 400 {"error": "state does not have a valid value"}."""
    return JSONResponse({"error": text}, status_code=400)


def missing_param(name: str) -> JSONResponse:
    return param_error(f"{name} is missing")


def invalid_value(name: str) -> JSONResponse:
    return param_error(f"{name} does not have a valid value")


def invalid_param(name: str) -> JSONResponse:
    return param_error(f"{name} is invalid")


def paginate(call: Call, items: list[Any]) -> JSONResponse:
    """Offset pagination with GitLab's headers (doc/api/rest/_index.md#pagination-link-header)."""
    try:
        page = max(1, int(call.query.get("page", 1)))
        per_page = min(100, max(1, int(call.query.get("per_page", 20))))
    except ValueError:
        return bad_request("page is invalid")
    total = len(items)
    pages = max(1, -(-total // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    headers = {
        "x-page": str(page),
        "x-per-page": str(per_page),
        "x-total": str(total),
        "x-total-pages": str(pages),
        "x-next-page": str(page + 1) if page < pages else "",
        "x-prev-page": str(page - 1) if page > 1 else "",
    }
    links = []
    base = str(call.request.url).split("?")[0]
    other = [(k, v) for k, v in call.query.multi_items() if k not in ("page", "per_page")]
    for rel, number in (("prev", page - 1), ("next", page + 1), ("first", 1), ("last", pages)):
        if 1 <= number <= pages and not (rel == "prev" and page == 1) and not (rel == "next" and page >= pages):
            query = urlencode([*other, ("page", number), ("per_page", per_page)])
            links.append(f'<{base}?{query}>; rel="{rel}"')
    headers["link"] = ", ".join(links)
    return JSONResponse(chunk, headers=headers)


async def read_body(request: Request) -> dict[str, Any]:
    """JSON or form bodies, as GitLab accepts both."""
    raw = await request.body()
    if not raw:
        return {}
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        data = json.loads(raw)
        return data if isinstance(data, dict) else {}
    form = await request.form()
    return {k: v for k, v in form.items()}
