"""mcp_bridge.gitlab: the process's client and static-token credentials follow override_settings."""

from __future__ import annotations

from django.test import override_settings

from mcp_bridge.gitlab import gitlab, gitlab_client


def test_it_makes_the_client_again_when_the_gitlab_settings_change():
    before = gitlab_client()
    assert gitlab_client() is before  # made once per process
    with override_settings(GITLAB_API_BASE="https://other.test/api/v4", GITLAB_TIMEOUT=7.0, GITLAB_MAX_RETRIES=1):
        changed = gitlab_client()
        assert changed.api_base == "https://other.test/api/v4"
        assert changed.max_retries == 1
        assert changed._timeout.read == 7.0
    assert gitlab_client().api_base == before.api_base
    assert gitlab_client().max_retries == before.max_retries


def test_the_static_token_follows_gitlab_token():
    with override_settings(GITLAB_TOKEN="glpat-first"):
        assert gitlab().creds.token == "glpat-first"
        with override_settings(GITLAB_TOKEN="glpat-second"):
            assert gitlab().creds.token == "glpat-second"
        assert gitlab().creds.token == "glpat-first"
    assert not gitlab().creds.oauth


def test_other_settings_keep_the_client():
    before = gitlab_client()
    with override_settings(GITLAB_READ_ONLY_MODE=True):
        assert gitlab_client() is before
