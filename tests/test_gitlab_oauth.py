"""oauth_gateway.gitlab_oauth: one pooled client for every call to GitLab's OAuth and user/group
endpoints, with the settings read at each call (httpx MockTransport records what was sent)."""

from __future__ import annotations

import json

import httpx
import pytest
from django.test import override_settings

from oauth_gateway import gitlab_oauth
from oauth_gateway.gitlab_oauth import GitLabOAuthError

TOKENS = {"access_token": "gl-a", "refresh_token": "gl-r", "expires_in": 7200, "scope": "api"}


class GitLab:
    """A MockTransport handler: answers by path, records every request."""

    def __init__(self, answers: dict[str, httpx.Response]) -> None:
        self.answers, self.sent = answers, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.answers.get(request.url.path, httpx.Response(404, json={"message": "404 Not Found"}))


@pytest.fixture
def gitlab(monkeypatch):
    """gitlab_oauth's pool, swapped for one over a MockTransport; the fixture returns the handler."""
    handler = GitLab({"/oauth/token": httpx.Response(200, json=TOKENS)})
    monkeypatch.setattr(gitlab_oauth, "_pool", httpx.Client(transport=httpx.MockTransport(handler)))
    return handler


def test_every_call_shares_one_client():
    assert gitlab_oauth._http() is gitlab_oauth._http()


@override_settings(GITLAB_URL="https://one.test", GITLAB_OAUTH_CLIENT_ID="id-1", GITLAB_OAUTH_CLIENT_SECRET="")
def test_settings_are_read_at_each_call(gitlab):
    gitlab_oauth.refresh("r-1")
    second_server = {"GITLAB_URL": "https://two.test", "GITLAB_OAUTH_CLIENT_ID": "id-2"}
    second_server["GITLAB_OAUTH_CLIENT_SECRET"] = "s"
    with override_settings(**second_server):
        gitlab_oauth.refresh("r-2")
    first, second = gitlab.sent
    assert str(first.url) == "https://one.test/oauth/token"
    assert str(second.url) == "https://two.test/oauth/token"
    assert b"client_id=id-1" in first.content and b"client_secret" not in first.content
    assert b"client_id=id-2" in second.content and b"client_secret=s" in second.content


@override_settings(GITLAB_API_BASE="https://gl.test/api/v4")
def test_group_membership_is_asked_with_the_users_token(gitlab):
    members = [{"id": 7, "username": "alice", "membership_state": "active"}]
    gitlab.answers["/api/v4/groups/acme/admins/members/all"] = httpx.Response(200, json=members)
    assert gitlab_oauth.group_member("acme/admins", 7, "user-token") is True
    [sent] = gitlab.sent
    assert sent.url.raw_path == b"/api/v4/groups/acme%2Fadmins/members/all?user_ids%5B%5D=7"
    assert sent.headers["authorization"] == "Bearer user-token"


@override_settings(GITLAB_API_BASE="https://gl.test/api/v4")
def test_group_membership_fails_closed(gitlab):
    assert gitlab_oauth.group_member("hidden", 7, "t") is False  # GitLab's 404 for a group one cannot see
    gitlab.answers["/api/v4/groups/odd/members/all"] = httpx.Response(200, content=b"not json")
    assert gitlab_oauth.group_member("odd", 7, "t") is False


def test_an_unreachable_gitlab_is_temporarily_unavailable(monkeypatch):
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    monkeypatch.setattr(gitlab_oauth, "_pool", httpx.Client(transport=httpx.MockTransport(down)))
    with pytest.raises(GitLabOAuthError) as caught:
        gitlab_oauth.fetch_user("t")
    assert caught.value.error == "temporarily_unavailable"
    gitlab_oauth.revoke("t")  # best effort: says nothing


def test_gitlabs_error_answer_is_raised_as_its_rfc_code(gitlab):
    gitlab.answers["/oauth/token"] = httpx.Response(400, content=json.dumps({"error": "invalid_grant"}))
    with pytest.raises(GitLabOAuthError) as caught:
        gitlab_oauth.refresh("old")
    assert caught.value.error == "invalid_grant"
