"""Tools of the environments area, through the MCP SDK client: as alice (maintainer of acme/app) and as
charlie, who belongs to no project but may read the public acme/website.

Seed (tests/gitlab_sim/areas/environments.py): acme/app has production (701), staging (702),
review/feature-login (703, with an on_stop job) and the stopped review/fix-typo (704), and deployments
801-806; acme/website has production (711, deployment 811); bob/secret's production (721) is hidden.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.inprocess import MCP


@pytest.fixture
def charlie(mcp_as: Any) -> MCP:
    return mcp_as("charlie")


def ids(result: Any) -> list[int]:
    assert not result.is_error, result
    return [item["id"] for item in result.structured_content["items"]]


async def test_the_environment_tools_are_listed_with_their_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    for name in ("list_environments", "get_environment", "list_deployments", "get_deployment"):
        assert tools[name].annotations.read_only_hint is True
    stop = tools["stop_environment"].annotations
    assert stop.read_only_hint is False and stop.destructive_hint is True


# --- environments --------------------------------------------------------------------------------
async def test_list_environments_gives_name_state_tier_and_url(mcp):
    result = await mcp.call("list_environments", project="acme/app")
    assert ids(result) == [701, 702, 703, 704]
    assert result.structured_content["items"][0] == {
        "id": 701,
        "name": "production",
        "state": "available",
        "tier": "production",
        "external_url": "https://app.acme.example",
        "auto_stop_at": None,
        "updated_at": "2024-04-01T09:00:00.000Z",
    }
    assert result.structured_content["total"] == 4


async def test_list_environments_filters_by_name_prefix_and_state(mcp, sim):
    assert ids(await mcp.call("list_environments", project="acme/app", search="REVIEW")) == [703, 704]
    assert ids(await mcp.call("list_environments", project="acme/app", states="stopped")) == [704]
    assert ids(await mcp.call("list_environments", project="acme/app", search="prod", states="stopped")) == []
    sent = [r for r in sim.requests() if r["path"].endswith("/environments")]
    assert "states=stopped" in sent[1]["query"]


async def test_list_environments_errors(mcp, charlie, text_of):
    hidden = await mcp.call("list_environments", project="bob/secret")
    assert hidden.is_error
    assert "Environments of bob/secret not found or you have no access" in text_of(hidden)
    short = await mcp.call("list_environments", project="acme/app", search="pr")
    assert short.is_error  # refused before GitLab: at least 3 characters
    assert ids(await charlie.call("list_environments", project="acme/website")) == [711]


async def test_get_environment_gives_its_last_successful_deployment(mcp):
    result = await mcp.call("get_environment", project="acme/app", environment_id=701)
    assert not result.is_error
    env = result.structured_content
    assert (env["name"], env["state"], env["tier"]) == ("production", "available", "production")
    last = env["last_deployment"]  # 804 to production failed: 801 is the last successful one
    assert (last["id"], last["status"], last["ref"], last["user"]) == (801, "success", "v1.0.0", "alice")
    assert last["environment"] == "production"
    assert last["job"] == {
        "id": 5401,
        "name": "release",
        "stage": "deploy",
        "status": "success",
        "web_url": "http://gitlab.sim/acme/app/-/jobs/5401",
    }


async def test_get_environment_errors(mcp, text_of):
    missing = await mcp.call("get_environment", project="acme/app", environment_id=711)  # acme/website's
    assert missing.is_error
    assert "Environment 711 in acme/app not found or you have no access" in text_of(missing)
    hidden = await mcp.call("get_environment", project="bob/secret", environment_id=721)
    assert hidden.is_error and "not found" in text_of(hidden)


async def test_stop_environment_with_an_on_stop_job_is_stopping(mcp):
    result = await mcp.call("stop_environment", project="acme/app", environment_id=703)
    assert not result.is_error
    assert result.structured_content["state"] == "stopping"
    again = await mcp.call("get_environment", project="acme/app", environment_id=703)
    assert again.structured_content["state"] == "stopping"


async def test_stop_environment_forced_or_without_on_stop_is_stopped(mcp, sim):
    forced = await mcp.call("stop_environment", project="acme/app", environment_id=703, force=True)
    assert forced.structured_content["state"] == "stopped"
    assert any(r["method"] == "POST" and r["path"].endswith("/environments/703/stop") for r in sim.requests())
    plain = await mcp.call("stop_environment", project="acme/app", environment_id=702)
    assert plain.structured_content["state"] == "stopped"


async def test_stop_environment_errors(mcp, charlie, text_of):
    stopped = await mcp.call("stop_environment", project="acme/app", environment_id=704)
    assert stopped.is_error
    assert "Attempted to stop the environment but failed to change the status" in text_of(stopped)
    forbidden = await charlie.call("stop_environment", project="acme/website", environment_id=711)
    assert forbidden.is_error
    assert "You do not have permission for this on Environment 711 in acme/website" in text_of(forbidden)
    still = await charlie.call("get_environment", project="acme/website", environment_id=711)
    assert still.structured_content["state"] == "available"


# --- deployments ---------------------------------------------------------------------------------
async def test_list_deployments_newest_first_with_environment_names(mcp):
    result = await mcp.call("list_deployments", project="acme/app", per_page=2)
    assert ids(result) == [806, 805]
    assert result.structured_content["next_page"] == 2 and result.structured_content["total"] == 6
    running = result.structured_content["items"][1]
    assert running["environment"] == "staging" and running["status"] == "running" and running["user"] == "alice"
    assert "job" not in running  # created through the API: no deploying job


async def test_list_deployments_filters_and_orders(mcp):
    assert ids(await mcp.call("list_deployments", project="acme/app", environment="production")) == [804, 801]
    assert ids(await mcp.call("list_deployments", project="acme/app", status="failed")) == [804]
    by_ref = await mcp.call("list_deployments", project="acme/app", order_by="ref", sort="asc", per_page=3)
    assert ids(by_ref) == [803, 806, 802]  # feature/login, fix/typo, main…


async def test_list_deployments_errors(mcp, text_of):
    hidden = await mcp.call("list_deployments", project="bob/secret")
    assert hidden.is_error
    assert "Deployments of bob/secret not found or you have no access" in text_of(hidden)
    bad = await mcp.call("list_deployments", project="acme/app", status="exploded")
    assert bad.is_error  # not one of the documented statuses: refused before GitLab


async def test_get_deployment_gives_ref_sha_user_and_job(mcp, charlie):
    result = await mcp.call("get_deployment", project="acme/app", deployment_id=801)
    assert not result.is_error
    deployment = result.structured_content
    assert (deployment["iid"], deployment["environment"], deployment["status"]) == (1, "production", "success")
    assert len(deployment["sha"]) == 40 and deployment["job"]["name"] == "release"
    public = await charlie.call("get_deployment", project="acme/website", deployment_id=811)
    assert public.structured_content["user"] == "alice"


async def test_get_deployment_errors(mcp, text_of):
    other = await mcp.call("get_deployment", project="acme/app", deployment_id=821)  # bob/secret's
    assert other.is_error
    assert "Deployment 821 in acme/app not found or you have no access" in text_of(other)
