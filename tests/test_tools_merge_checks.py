"""merge_merge_request against GitLab's merge checks: every documented detailed_merge_status (REST names),
and auto-merge on GitLab versions before and after `auto_merge` (17.11).

acme/app (project 101): !1 is mergeable (pipeline passed), !3 a draft with a running pipeline.
"""

from __future__ import annotations

import pytest

from mcp_bridge.tools.merge_requests.merging import BLOCKERS, TRANSIENT
from tests.gitlab_sim.areas.merge_checks import DETAILED_MERGE_STATUSES

APP = 101


def test_every_documented_status_is_explained_or_passed_on():
    assert set(BLOCKERS) | TRANSIENT == DETAILED_MERGE_STATUSES
    for graphql_name in ("blocked_status", "broken_status", "external_status_checks"):
        assert graphql_name not in BLOCKERS


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("merge_request_blocked", "blocked by another merge request"),
        ("commits_status", "source branch is missing"),
        ("status_checks_must_pass", "external status checks"),
        ("security_policy_pipeline_check", "security policies require"),
        ("merge_time", "merge_after"),
        ("requested_changes", "requested changes"),
    ],
)
async def test_a_failing_check_is_named_before_gitlab_is_asked(mcp, sim, text_of, status, words):
    sim.merge_check(APP, 1, status)
    mr = (await mcp.call("get_merge_request", project="acme/app", iid=1)).structured_content
    assert mr["detailed_merge_status"] == status
    result = await mcp.call("merge_merge_request", project="acme/app", iid=1)
    assert result.is_error and words in text_of(result)
    assert not any(r["path"].endswith("/merge") for r in sim.requests())


async def test_a_transient_status_is_left_to_gitlab(mcp, sim, text_of):
    sim.merge_check(APP, 1, "checking")
    result = await mcp.call("merge_merge_request", project="acme/app", iid=1)
    # The simulator, like GitLab, refuses while it checks; the tool did ask.
    assert result.is_error and "HTTP 405" in text_of(result)
    assert any(r["path"].endswith("/merge_requests/1/merge") for r in sim.requests())


@pytest.mark.parametrize("version", ["17.10", "18.6"])
async def test_auto_merge_waits_on_old_and_new_gitlab(mcp, sim, version):
    sim.set_version(version)
    await mcp.call("update_merge_request", project="acme/app", iid=3, draft=False)
    result = await mcp.call("merge_merge_request", project="acme/app", iid=3, auto_merge=True)
    assert not result.is_error, result
    waiting = result.structured_content
    assert waiting["state"] == "opened" and waiting["merge_when_pipeline_succeeds"] is True
    sent = [r for r in sim.requests() if r["path"].endswith("/merge")][-1]
    assert sent["method"] == "PUT"


async def test_auto_merge_waits_for_merge_after(mcp, sim):
    sim.merge_check(APP, 1, "merge_time")
    result = await mcp.call("merge_merge_request", project="acme/app", iid=1, auto_merge=True)
    assert not result.is_error, result
    assert result.structured_content["merge_when_pipeline_succeeds"] is True
