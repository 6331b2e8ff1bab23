"""GitLab's limit on offset pagination, and keyset pagination where GitLab offers it (doc/api/rest/_index.md
#offset-based-pagination, #keyset-based-pagination; doc/administration/instance_limits.md#max-offset-allowed-
by-the-rest-api-for-offset-based-pagination).

GET /projects refuses page * per_page past 50,000 with 405 and points at keyset pagination, which it offers
ordered by id: `pagination=keyset&order_by=id`, the next page linked (Link rel="next") with `id_after` (or
`id_before` when descending). Keyset pages carry no X-Total or X-Page headers.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.http import Call, param_error

MAX_OFFSET = 50_000
OFFSET_LIMIT = (
    "Offset pagination has a maximum allowed offset of {limit} for requests that return objects of type {kind}. "
    "Remaining records can be retrieved using keyset pagination."
)
KEYSET_UNAVAILABLE = "Keyset pagination is not yet available for this type of request"


def per_page(call: Call) -> int | None:
    value = call.query.get("per_page", "20")
    return min(100, max(1, int(value))) if value.isdigit() else None


def offset_refused(call: Call, kind: str) -> Response | None:
    """405 when an offset page reaches past GitLab's limit (lib/api/helpers/pagination_strategies.rb)."""
    page, size = call.query.get("page", "1"), per_page(call)
    if call.query.get("pagination") == "keyset" or not page.isdigit() or size is None:
        return None
    if int(page) * size > MAX_OFFSET:
        return JSONResponse({"error": OFFSET_LIMIT.format(limit=MAX_OFFSET, kind=kind)}, status_code=405)
    return None


def by_id(call: Call, items: list[dict[str, Any]], shown: Any) -> Response:
    """One keyset page of `items` ordered by id; `shown` shapes each item."""
    if call.query.get("order_by") != "id":
        return JSONResponse({"error": KEYSET_UNAVAILABLE}, status_code=405)
    size = per_page(call)
    if size is None:
        return param_error("per_page is invalid")
    descending = call.query.get("sort", "desc") == "desc"
    items = sorted(items, key=lambda item: item["id"], reverse=descending)
    for name, keep in (("id_after", lambda i, v: i["id"] > v), ("id_before", lambda i, v: i["id"] < v)):
        bound = call.query.get(name)
        if bound is not None:
            if not bound.isdigit():
                return param_error(f"{name} is invalid")
            items = [item for item in items if keep(item, int(bound))]
    chunk = items[:size]
    headers = {"x-per-page": str(size)}
    if len(items) > size:
        cursor = ("id_before" if descending else "id_after", chunk[-1]["id"])
        others = [(k, v) for k, v in call.query.multi_items() if k not in ("id_after", "id_before")]
        base = str(call.request.url).split("?")[0]
        headers["link"] = f'<{base}?{urlencode([*others, cursor])}>; rel="next"'
    return JSONResponse([shown(item) for item in chunk], headers=headers)
