"""Tools that change pipelines, jobs and pipeline schedules, through the MCP SDK client.

Seed (tests/gitlab_sim/areas/pipelines/): acme/app (alice maintainer, bob developer) has pipelines
501 (success; its job 5003 deploy-staging is manual), 502 (failed: 5104 rspec failed, 5105 skipped),
503 (running: 5301 running, 5302 created); acme/website (public, alice owner) has 701 with the manual
job 7002; charlie is in neither. Schedules 901 (alice's nightly) and 902 (bob's, paused) in acme/app,
903 in bob/secret.
"""

from __future__ import annotations

from tests.gitlab_sim.seed import TOKENS


def ids(result):
    return [item["id"] for item in result.structured_content["items"]]


async def test_create_pipeline_with_variables(mcp, sim):
    variables = [{"key": "DEPLOY_ENV", "value": "staging"}, {"key": "CFG", "value": "a=1", "variable_type": "file"}]
    result = await mcp.call("create_pipeline", project="acme/app", ref="feature/login", variables=variables)
    assert not result.is_error
    pipeline = result.structured_content
    assert pipeline["id"] == 702 and pipeline["iid"] == 7
    assert (pipeline["status"], pipeline["source"], pipeline["ref"], pipeline["user"]) == (
        "pending",
        "api",
        "feature/login",
        "alice",
    )
    jobs = await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=702)
    assert [(j["name"], j["status"]) for j in jobs.structured_content["items"]] == [
        ("deploy", "manual"),
        ("rspec", "created"),
        ("compile", "pending"),
    ]
    # What GitLab stored, read back through its pipeline variables endpoint.
    stored = sim.http.get(
        f"{sim.url}/api/v4/projects/101/pipelines/702/variables", headers={"PRIVATE-TOKEN": TOKENS["alice"]}
    ).json()
    assert stored == [
        {"key": "DEPLOY_ENV", "variable_type": "env_var", "value": "staging"},
        {"key": "CFG", "variable_type": "file", "value": "a=1"},
    ]


async def test_create_pipeline_errors(mcp, mcp_as, text_of):
    missing = await mcp.call("create_pipeline", project="acme/app", ref="no-such-branch")
    assert missing.is_error
    assert "Pipeline on no-such-branch in acme/app (HTTP 400): base Reference not found" in text_of(missing)
    guest = await mcp_as("charlie").call("create_pipeline", project="acme/website", ref="main")
    assert guest.is_error and "You do not have permission" in text_of(guest)
    hidden = await mcp.call("create_pipeline", project="bob/secret", ref="main")
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)


async def test_retry_pipeline_retries_failed_jobs(mcp_as):
    bob = mcp_as("bob")
    result = await bob.call("retry_pipeline", project="acme/app", pipeline_id=502)
    assert not result.is_error
    assert result.structured_content["status"] == "running"
    jobs = (await bob.call("list_pipeline_jobs", project="acme/app", pipeline_id=502)).structured_content["items"]
    assert [(j["name"], j["status"]) for j in jobs][:2] == [("rspec", "pending"), ("deploy", "created")]
    assert jobs[0]["id"] > 7002  # a new job; 5104 is now a retried attempt
    every = await bob.call("list_pipeline_jobs", project="acme/app", pipeline_id=502, include_retried=True)
    assert 5104 in ids(every)


async def test_retry_pipeline_without_failures_or_rights(mcp, mcp_as, text_of):
    unchanged = await mcp.call("retry_pipeline", project="acme/app", pipeline_id=501)
    assert unchanged.structured_content["status"] == "success"
    guest = await mcp_as("charlie").call("retry_pipeline", project="acme/website", pipeline_id=701)
    assert guest.is_error and "You do not have permission for this on Pipeline 701 in acme/website" in text_of(guest)


async def test_cancel_pipeline(mcp):
    result = await mcp.call("cancel_pipeline", project="acme/app", pipeline_id=503)
    assert not result.is_error and result.structured_content["status"] == "canceled"
    jobs = (await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=503)).structured_content["items"]
    assert {j["status"] for j in jobs} == {"canceled"}
    finished = await mcp.call("cancel_pipeline", project="acme/app", pipeline_id=501)
    assert not finished.is_error and finished.structured_content["status"] == "success"  # 200, nothing changed


async def test_cancel_pipeline_errors(mcp, mcp_as, text_of):
    missing = await mcp.call("cancel_pipeline", project="acme/app", pipeline_id=999)
    assert missing.is_error and "Pipeline 999 in acme/app not found" in text_of(missing)
    guest = await mcp_as("charlie").call("cancel_pipeline", project="acme/website", pipeline_id=701)
    assert guest.is_error and "You do not have permission" in text_of(guest)


async def test_delete_pipeline_needs_the_owner_role(mcp, text_of):
    maintainer = await mcp.call("delete_pipeline", project="acme/app", pipeline_id=501)
    assert maintainer.is_error and "You do not have permission" in text_of(maintainer)
    result = await mcp.call("delete_pipeline", project="acme/website", pipeline_id=701)
    assert not result.is_error
    assert result.structured_content == {"deleted": True, "pipeline_id": 701}
    gone = await mcp.call("get_pipeline", project="acme/website", pipeline_id=701)
    assert gone.is_error and "not found" in text_of(gone)
    job_gone = await mcp.call("get_job", project="acme/website", job_id=7001)
    assert job_gone.is_error


async def test_retry_job_makes_a_new_job(mcp):
    result = await mcp.call("retry_job", project="acme/app", job_id=5104)
    assert not result.is_error
    job = result.structured_content
    assert job["id"] != 5104 and job["name"] == "rspec" and job["status"] == "pending" and job["user"] == "alice"
    assert job["pipeline_id"] == 502
    pipeline = (await mcp.call("get_pipeline", project="acme/app", pipeline_id=502)).structured_content
    assert pipeline["status"] == "running"
    again = await mcp.call("retry_job", project="acme/app", job_id=5002)  # a successful job may run again
    assert not again.is_error and again.structured_content["status"] == "pending"


async def test_retry_job_refuses_unfinished_or_retried_jobs(mcp, mcp_as, text_of):
    running = await mcp.call("retry_job", project="acme/app", job_id=5301)
    assert running.is_error and "Job is not retryable" in text_of(running)
    retried = await mcp.call("retry_job", project="acme/app", job_id=5102)
    assert retried.is_error and "Job is not retryable" in text_of(retried)
    guest = await mcp_as("charlie").call("retry_job", project="acme/website", job_id=7001)
    assert guest.is_error and "You do not have permission" in text_of(guest)


async def test_cancel_job(mcp):
    result = await mcp.call("cancel_job", project="acme/app", job_id=5301)
    assert not result.is_error
    assert result.structured_content["status"] == "canceled" and "note" not in result.structured_content
    finished = await mcp.call("cancel_job", project="acme/app", job_id=5001)
    assert not finished.is_error and finished.structured_content["status"] == "success"
    assert "already finished (success)" in finished.structured_content["note"]


async def test_cancel_job_errors(mcp, mcp_as, text_of):
    missing = await mcp.call("cancel_job", project="acme/app", job_id=99999)
    assert missing.is_error and "Job 99999 in acme/app not found" in text_of(missing)
    guest = await mcp_as("charlie").call("cancel_job", project="acme/website", job_id=7001)
    assert guest.is_error and "You do not have permission" in text_of(guest)


async def test_play_job_starts_a_manual_job(mcp_as):
    result = await mcp_as("bob").call("play_job", project="acme/app", job_id=5003)
    assert not result.is_error
    job = result.structured_content
    assert (job["name"], job["status"], job["user"]) == ("deploy-staging", "pending", "bob")


async def test_play_job_refuses_other_jobs_and_guests(mcp, mcp_as, text_of):
    not_manual = await mcp.call("play_job", project="acme/app", job_id=5104)
    assert not_manual.is_error and "HTTP 400" in text_of(not_manual) and "Unplayable Job" in text_of(not_manual)
    guest = await mcp_as("charlie").call("play_job", project="acme/website", job_id=7002)
    assert guest.is_error and "You do not have permission" in text_of(guest)


async def test_list_pipeline_schedules(mcp, mcp_as, text_of):
    result = await mcp.call("list_pipeline_schedules", project="acme/app")
    assert not result.is_error
    items = result.structured_content["items"]
    assert [(s["id"], s["description"], s["owner"], s["active"]) for s in items] == [
        (901, "Nightly build", "alice", True),
        (902, "Weekly dependency audit", "bob", False),
    ]
    assert items[0]["cron"] == "0 2 * * *" and items[0]["ref"] == "refs/heads/main"
    paused = await mcp.call("list_pipeline_schedules", project="acme/app", scope="inactive")
    assert [s["id"] for s in paused.structured_content["items"]] == [902]
    hidden = await mcp.call("list_pipeline_schedules", project="bob/secret")
    assert hidden.is_error and "Pipeline schedules of bob/secret not found" in text_of(hidden)


async def test_create_pipeline_schedule(mcp_as):
    bob = mcp_as("bob")
    result = await bob.call(
        "create_pipeline_schedule",
        project="acme/app",
        description="Hourly smoke test",
        ref="feature/login",
        cron="15 * * * *",
        cron_timezone="Europe/Paris",
    )
    assert not result.is_error
    schedule = result.structured_content
    assert schedule["ref"] == "refs/heads/feature/login"  # short refs are expanded
    assert (schedule["cron"], schedule["cron_timezone"], schedule["active"], schedule["owner"]) == (
        "15 * * * *",
        "Europe/Paris",
        True,
        "bob",
    )
    assert schedule["next_run_at"].endswith(":00:00.000Z") and schedule["last_pipeline"] is None
    listed = await bob.call("list_pipeline_schedules", project="acme/app")
    assert ids(listed) == [901, 902, schedule["id"]]


async def test_create_pipeline_schedule_errors(mcp, mcp_as, text_of):
    bad_cron = await mcp.call(
        "create_pipeline_schedule", project="acme/app", description="x", ref="main", cron="every day at 2"
    )
    assert bad_cron.is_error and "cron  is invalid syntax" in text_of(bad_cron)
    bad_zone = await mcp.call(
        "create_pipeline_schedule",
        project="acme/app",
        description="x",
        ref="main",
        cron="0 2 * * *",
        cron_timezone="Mars",
    )
    assert bad_zone.is_error and "cron_timezone  is invalid syntax" in text_of(bad_zone)
    guest = await mcp_as("charlie").call(
        "create_pipeline_schedule", project="acme/website", description="x", ref="main", cron="0 2 * * *"
    )
    assert guest.is_error and "You do not have permission" in text_of(guest)


async def test_update_pipeline_schedule_by_its_owner_only(mcp, text_of):
    result = await mcp.call(
        "update_pipeline_schedule", project="acme/app", schedule_id=901, cron="30 3 * * *", active=False
    )
    assert not result.is_error
    schedule = result.structured_content
    assert (schedule["cron"], schedule["active"]) == ("30 3 * * *", False)
    assert schedule["next_run_at"].endswith("T03:30:00.000Z") and schedule["last_pipeline"] == {
        "id": 503,
        "status": "running",
    }
    not_mine = await mcp.call("update_pipeline_schedule", project="acme/app", schedule_id=902, active=True)
    assert not_mine.is_error and "You do not have permission" in text_of(not_mine)
    missing = await mcp.call("update_pipeline_schedule", project="acme/app", schedule_id=999, active=True)
    assert missing.is_error and "404 Pipeline Schedule Not Found" in text_of(missing)


async def test_delete_pipeline_schedule(mcp, mcp_as, text_of):
    developer = await mcp_as("bob").call("delete_pipeline_schedule", project="acme/app", schedule_id=901)
    assert developer.is_error and "You do not have permission" in text_of(developer)
    result = await mcp.call("delete_pipeline_schedule", project="acme/app", schedule_id=902)  # a maintainer may
    assert not result.is_error and result.structured_content == {"deleted": True, "schedule_id": 902}
    assert ids(await mcp.call("list_pipeline_schedules", project="acme/app")) == [901]


async def test_run_pipeline_schedule(mcp, mcp_as, text_of):
    result = await mcp.call("run_pipeline_schedule", project="acme/app", schedule_id=901)
    assert not result.is_error and result.structured_content["started"] is True
    newest = (await mcp.call("list_pipelines", project="acme/app", source="schedule")).structured_content["items"][0]
    assert newest["id"] == 702 and newest["ref"] == "main" and newest["status"] == "pending"
    guest = await mcp_as("charlie").call("run_pipeline_schedule", project="acme/app", schedule_id=901)
    assert guest.is_error and "Pipeline schedule 901 in acme/app not found" in text_of(guest)
