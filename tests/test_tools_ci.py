"""CI tools: lint_ci_config, create_pipeline with inputs, wait_for_pipeline (its progress notifications
over stdio and HTTP: tests/e2e/test_tools_ci_progress.py).

acme/website (alice is owner) has a .gitlab-ci.yml with spec:inputs (environment: staging|production,
dry_run: boolean); acme/app has none. A pipeline created through the API stays pending until a test starts
the simulator's runner on it (sim.run_pipeline): then its jobs (compile, rspec; deploy is manual) move on.
"""

from __future__ import annotations

import time

SITE = {"project": "acme/website"}
BAD_YAML = "build:\n  script: [make\n  stage: build\n"


# --- lint_ci_config ------------------------------------------------------------------------------
async def test_lint_the_projects_own_config(mcp, sim):
    result = await mcp.call("lint_ci_config", include_jobs=True, **SITE)
    assert not result.is_error, result
    lint = result.structured_content
    assert lint["valid"] is True and lint["errors"] == []
    assert lint["warnings"] and "jobs:pages may allow multiple pipelines" in lint["warnings"][0]
    assert [(j["name"], j["stage"]) for j in lint["jobs"]] == [("build", "build"), ("pages", "deploy")]
    sent = [r for r in sim.requests() if r["path"].endswith("/ci/lint")]
    assert [r["method"] for r in sent] == ["GET"]


async def test_lint_given_yaml_reports_gitlabs_errors_as_a_result(mcp, sim):
    broken = (await mcp.call("lint_ci_config", content=BAD_YAML, **SITE)).structured_content
    assert broken["valid"] is False and broken["errors"][0].startswith("(<unknown>): ")
    wrong = "stages: [build]\ntest:\n  stage: test\n  scriptt: make\n"
    result = await mcp.call("lint_ci_config", content=wrong, **SITE)
    assert not result.is_error  # an invalid config is an answer, not a failure
    assert set(result.structured_content["errors"]) == {
        "jobs:test config contains unknown keys: scriptt",
        "jobs:test config should implement the script:, run:, or trigger: keyword",
        "test job: chosen stage test does not exist; available stages are .pre, build, .post",
    }
    assert [r["method"] for r in sim.requests() if r["path"].endswith("/ci/lint")] == ["POST", "POST"]


async def test_lint_a_project_without_a_config_or_out_of_reach(mcp, mcp_as, text_of):
    none = (await mcp.call("lint_ci_config", project="acme/app")).structured_content
    assert none == {"valid": False, "errors": ["Please provide content of .gitlab-ci.yml"], "warnings": []}
    hidden = await mcp.call("lint_ci_config", project="bob/secret", content="a: 1")
    assert hidden.is_error and "CI configuration of bob/secret not found or you have no access" in text_of(hidden)
    guest = await mcp_as("charlie").call("lint_ci_config", project="acme/website", content="a: 1")
    assert guest.is_error and "You do not have permission" in text_of(guest)


# --- create_pipeline with inputs -----------------------------------------------------------------
async def test_create_pipeline_with_inputs(mcp):
    inputs = {"environment": "production", "dry_run": True}
    result = await mcp.call("create_pipeline", ref="main", inputs=inputs, **SITE)
    assert not result.is_error, result
    assert result.structured_content["status"] == "pending" and result.structured_content["ref"] == "main"


async def test_create_pipeline_inputs_gitlab_refuses(mcp, text_of):
    unknown = await mcp.call("create_pipeline", ref="main", inputs={"region": "eu"}, **SITE)
    assert unknown.is_error and "unknown input arguments: region" in text_of(unknown)
    option = await mcp.call("create_pipeline", ref="main", inputs={"environment": "prod"}, **SITE)
    assert option.is_error and "`prod` cannot be used because it is not in the list of allowed options" in text_of(
        option
    )


# --- wait_for_pipeline ---------------------------------------------------------------------------
async def _new_pipeline(mcp) -> int:
    return int((await mcp.call("create_pipeline", ref="main", **SITE)).structured_content["id"])


async def test_wait_returns_at_its_timeout_with_the_last_status(mcp, sim):
    pipeline_id = await _new_pipeline(mcp)  # no runner: it stays pending
    started = time.monotonic()
    result = await mcp.call("wait_for_pipeline", pipeline_id=pipeline_id, timeout_seconds=3, **SITE)
    took = time.monotonic() - started
    assert not result.is_error, result
    waited = result.structured_content
    assert (
        waited["status"] == "pending"
        and waited["timed_out"] is True
        and "call wait_for_pipeline again" in waited["hint"]
    )
    assert 2.9 < took < 6 and waited["polls"] == 3  # at 0 s, 2 s, and the deadline: no tight loop


async def test_wait_errors(mcp, text_of):
    missing = await mcp.call("wait_for_pipeline", pipeline_id=999999, **SITE)
    assert missing.is_error and "Pipeline 999999 in acme/website not found" in text_of(missing)
    too_long = await mcp.call("wait_for_pipeline", pipeline_id=1, timeout_seconds=3600, **SITE)
    assert too_long.is_error and "timeout_seconds" in text_of(too_long)


async def test_lint_and_wait_are_offered_on_a_read_only_server(mcp_with, sim):
    read_only = mcp_with(GITLAB_READ_ONLY_MODE=True)
    names = {t.name for t in await read_only.list_tools()}
    assert {"lint_ci_config", "wait_for_pipeline"} <= names and "create_pipeline" not in names
    lint = await read_only.call("lint_ci_config", content="build:\n  script: make\n", **SITE)
    assert not lint.is_error and lint.structured_content["valid"] is True
