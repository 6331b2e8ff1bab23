"""mcp_bridge.gitlab: retries, Retry-After, the error tree and what is sent (httpx MockTransport)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from mcp_bridge.errors import (
    GitLabForbidden,
    GitLabNotFound,
    GitLabRateLimited,
    GitLabRejected,
    GitLabServerError,
    GitLabUnauthorized,
    GitLabUnavailable,
)
from mcp_bridge.gitlab import Credentials, GitLabClient
from mcp_bridge.paths import encode_params, path_id

TOKEN = Credentials("glpat-secret-value")


class Recorder:
    """A MockTransport handler answering from a script of responses, recording each request."""

    def __init__(self, *responses: httpx.Response | Callable[[httpx.Request], httpx.Response]) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        return answer(request) if callable(answer) else answer


def client(handler: Recorder, **kwargs: float) -> GitLabClient:
    return GitLabClient("https://gitlab.test/api/v4", transport=httpx.MockTransport(handler), backoff=0.001, **kwargs)


async def test_it_sends_the_static_token_as_private_token():
    handler = Recorder(httpx.Response(200, json={"id": 1}))
    await client(handler).request("GET", "/user", TOKEN, what="The current user")
    sent = handler.requests[0]
    assert sent.headers["PRIVATE-TOKEN"] == "glpat-secret-value"
    assert "authorization" not in sent.headers
    assert str(sent.url) == "https://gitlab.test/api/v4/user"


async def test_it_sends_an_oauth_token_as_bearer():
    handler = Recorder(httpx.Response(200, json={}))
    await client(handler).request("GET", "/user", Credentials("oauth-tok", oauth=True), what="x")
    assert handler.requests[0].headers["Authorization"] == "Bearer oauth-tok"
    assert "private-token" not in handler.requests[0].headers


async def test_a_read_is_retried_on_503_then_succeeds():
    handler = Recorder(httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": True}))
    response = await client(handler).request("GET", "/projects", TOKEN, what="Projects")
    assert response.json() == {"ok": True}
    assert len(handler.requests) == 3


async def test_it_honours_retry_after_on_429():
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json=[]))
    started = time.monotonic()
    await client(handler).request("GET", "/projects", TOKEN, what="Projects")
    assert time.monotonic() - started >= 0.9
    assert len(handler.requests) == 2


async def test_rate_limiting_that_persists_says_so_with_the_retry_count():
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "0"}))
    with pytest.raises(GitLabRateLimited, match="GitLab is rate-limiting; retried 2 times"):
        await client(handler, max_retries=2).request("GET", "/projects", TOKEN, what="Projects")
    assert len(handler.requests) == 3


async def test_a_long_retry_after_is_reported_not_waited_for():
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}))
    with pytest.raises(GitLabRateLimited, match="Try again in 3600 s"):
        await client(handler).request("GET", "/projects", TOKEN, what="Projects")
    assert len(handler.requests) == 1


async def test_a_write_is_never_retried():
    handler = Recorder(httpx.Response(503))
    with pytest.raises(GitLabServerError, match="HTTP 503 while handling Issue"):
        await client(handler).request("POST", "/projects/1/issues", TOKEN, what="Issue", json={"title": "t"})
    assert len(handler.requests) == 1


async def test_connection_failures_become_unavailable_without_details():
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(GitLabUnavailable, match="Could not connect to GitLab"):
        await client(Recorder(refuse), max_retries=1).request("GET", "/user", TOKEN, what="x")


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (401, {"message": "401 Unauthorized"}, GitLabUnauthorized, "GitLab rejected the credentials"),
        (403, {"message": "403 Forbidden"}, GitLabForbidden, "You do not have permission for this on Project a/b"),
        (
            403,
            {"error": "insufficient_scope", "scope": "api"},
            GitLabForbidden,
            "lacks the 'api' scope",
        ),
        (404, {"message": "404 Project Not Found"}, GitLabNotFound, "Project a/b not found or you have no access"),
        (400, {"message": {"title": ["can't be blank"]}}, GitLabRejected, "title can't be blank"),
        (409, {"message": ["Branch already exists"]}, GitLabRejected, "Branch already exists"),
        (500, "<html>oops</html>", GitLabServerError, "HTTP 500"),
    ],
)
async def test_errors_map_to_the_tree_with_readable_messages(status, body, error, message):
    response = httpx.Response(status, json=body) if isinstance(body, dict) else httpx.Response(status, text=body)
    with pytest.raises(error) as caught:
        await client(Recorder(response), max_retries=0).request("GET", "/projects/a%2Fb", TOKEN, what="Project a/b")
    assert message in str(caught.value)
    assert "glpat-secret-value" not in str(caught.value)


def test_params_are_encoded_the_gitlab_way():
    assert encode_params({"labels": ["a", "b"], "simple": True, "search": None, "page": 2}) == [
        ("labels[]", "a"),
        ("labels[]", "b"),
        ("simple", "true"),
        ("page", "2"),
    ]


def test_paths_are_url_encoded_as_one_segment():
    assert path_id("group/sub/app") == "group%2Fsub%2Fapp"
    assert path_id(42) == "42"


def test_credentials_never_print_the_token():
    assert "glpat" not in repr(TOKEN)
