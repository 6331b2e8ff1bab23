"""Signing in to the simulated GitLab as a person does: pick a seeded user on /users/sign_in (cookie
`_gitlab_session`), sign out, and GitLab's home page. Tests skip the page with the cookie
`gitlab_sim_user` (a username), which also makes every application trusted (oauth.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from tests.gitlab_sim import pages
from tests.gitlab_sim.http import read_body

TEST_USER_COOKIE = "gitlab_sim_user"  # tests: signed in, and every application is trusted
SESSION_COOKIE = "_gitlab_session"  # a person who picked a user on the sign-in page


def signed_in(sim: Any, request: Request) -> dict[str, Any] | None:
    """Who this browser is at GitLab: a person's sign-in, or the tests' cookie."""
    for cookie in (SESSION_COOKIE, TEST_USER_COOKIE):
        user = sim.world.by_username(request.cookies.get(cookie, ""))
        if user is not None:
            return dict(user)
    return None


def here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _local(path: str) -> str:
    """A redirect_to that stays on this site (never //elsewhere or /\\elsewhere)."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/"


async def sign_in_page(sim: Any, request: Request) -> Response:
    redirect_to = _local(request.query_params.get("redirect_to", "/"))
    return pages.sign_in(sim.world.users.values(), redirect_to)


async def sign_in(sim: Any, request: Request) -> Response:
    form = await read_body(request)
    redirect_to = _local(str(form.get("redirect_to", "/")))
    user = sim.world.by_username(str(form.get("username", "")))
    if user is None:
        return pages.sign_in(sim.world.users.values(), redirect_to, error="Invalid login or password.")
    response = RedirectResponse(redirect_to, status_code=302)
    response.set_cookie(SESSION_COOKIE, user["username"], httponly=True, samesite="lax")
    return response


async def sign_out(sim: Any, request: Request) -> Response:
    """Forget who is signed in, then sign in again and come back to the page the link was on."""
    back = request.query_params.get("redirect_to", "")
    referer = urlsplit(request.headers.get("referer", ""))
    if not back and referer.netloc == request.url.netloc:
        back = referer.path + (f"?{referer.query}" if referer.query else "")
    target = "/users/sign_in" + (f"?{urlencode({'redirect_to': _local(back)})}" if back else "")
    response = RedirectResponse(target, status_code=302)
    for cookie in (SESSION_COOKIE, TEST_USER_COOKIE):
        response.delete_cookie(cookie)
    return response


async def home(sim: Any, request: Request) -> Response:
    person = signed_in(sim, request)
    if person is None:
        return RedirectResponse("/users/sign_in", status_code=302)
    return pages.home(person)
