"""Tools of the pipelines area, through the MCP SDK client (acting as alice). Seed
(tests/gitlab_sim/areas/pipelines/): acme/app has pipelines 501-506; 502 failed on feature/login, its
job 5104 (rspec) failed with a 1,500-line log and left artifacts (a JUnit report of 1,478 tests, a
5,000-line debug log, a PNG); bob/secret has pipeline 601 and job 6001, hidden from alice.
"""

from __future__ import annotations

import pytest

from mcp_bridge.tools.pipelines.jobs import clean_log

ESC = "\x1b"


def ids(result):
    return [item["id"] for item in result.structured_content["items"]]


async def test_list_pipelines_newest_first_with_pagination(mcp):
    first = await mcp.call("list_pipelines", project="acme/app", per_page=4)
    assert not first.is_error
    assert ids(first) == [506, 505, 504, 503]
    assert first.structured_content["total"] == 6 and first.structured_content["next_page"] == 2
    item = first.structured_content["items"][1]
    assert item["status"] == "canceled" and item["ref"] == "feature/login" and item["source"] == "web"
    assert item["web_url"] == "http://gitlab.sim/acme/app/-/pipelines/505"
    rest = await mcp.call("list_pipelines", project="101", per_page=4, page=2)
    assert ids(rest) == [502, 501] and rest.structured_content["next_page"] is None


async def test_list_pipelines_filters(mcp, sim):
    assert ids(await mcp.call("list_pipelines", project="acme/app", status="failed")) == [502]
    assert ids(await mcp.call("list_pipelines", project="acme/app", ref="feature/login")) == [505, 502]
    assert ids(await mcp.call("list_pipelines", project="acme/app", username="bob")) == [505, 502]
    assert ids(await mcp.call("list_pipelines", project="acme/app", source="schedule")) == [503]
    assert ids(await mcp.call("list_pipelines", project="acme/app", username="charlie")) == []
    sha = (await mcp.call("get_pipeline", project="acme/app", pipeline_id=504)).structured_content["sha"]
    assert ids(await mcp.call("list_pipelines", project="acme/app", sha=sha)) == [504]
    oldest = await mcp.call("list_pipelines", project="acme/app", order_by="id", sort="asc", per_page=2)
    assert ids(oldest) == [501, 502]
    sent = [r for r in sim.requests() if r["path"] == "/api/v4/projects/acme%2Fapp/pipelines"]
    assert "status=failed" in sent[0]["query"]


async def test_list_pipelines_of_a_hidden_project_is_not_found(mcp, text_of):
    result = await mcp.call("list_pipelines", project="bob/secret")
    assert result.is_error
    assert "Pipelines of bob/secret not found or you have no access" in text_of(result)


async def test_list_pipelines_rejects_bad_filters(mcp, text_of):
    result = await mcp.call("list_pipelines", project="acme/app", status="broken")
    assert result.is_error and "status" in text_of(result)
    result = await mcp.call("list_pipelines", project="acme/app", source="carrier-pigeon")
    assert result.is_error
    assert "source does not have a valid value" in text_of(result)


async def test_get_pipeline_gives_status_user_timings_and_coverage(mcp):
    result = await mcp.call("get_pipeline", project="acme/app", pipeline_id=502)
    assert not result.is_error
    pipeline = result.structured_content
    assert pipeline["id"] == 502 and pipeline["iid"] == 2
    assert pipeline["status"] == "failed" and pipeline["detailed_status"] == "failed"
    assert pipeline["ref"] == "feature/login" and len(pipeline["sha"]) == 40
    assert pipeline["user"] == "bob"
    assert pipeline["duration"] == 355 and pipeline["coverage"] is None
    assert pipeline["web_url"] == "http://gitlab.sim/acme/app/-/pipelines/502"
    tagged = (await mcp.call("get_pipeline", project="acme/app", pipeline_id=504)).structured_content
    assert tagged["tag"] is True and tagged["coverage"] == "88.10"
    assert tagged["status"] == "success" and tagged["detailed_status"] == "passed with warnings"


async def test_get_pipeline_missing_or_hidden_is_not_found(mcp, text_of):
    missing = await mcp.call("get_pipeline", project="acme/app", pipeline_id=999)
    assert missing.is_error
    assert "Pipeline 999 in acme/app not found or you have no access" in text_of(missing)
    # 601 exists, but in bob/secret: neither that project nor another one reveals it.
    hidden = await mcp.call("get_pipeline", project="bob/secret", pipeline_id=601)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)
    elsewhere = await mcp.call("get_pipeline", project="acme/app", pipeline_id=601)
    assert elsewhere.is_error and "Pipeline 601 in acme/app not found" in text_of(elsewhere)


async def test_get_pipeline_rejects_an_invalid_id(mcp, text_of):
    result = await mcp.call("get_pipeline", project="acme/app", pipeline_id=0)
    assert result.is_error and "pipeline_id" in text_of(result)


async def test_list_pipeline_jobs_without_retried_attempts(mcp):
    result = await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=502)
    assert not result.is_error
    assert ids(result) == [5105, 5104, 5103, 5101]
    rspec = result.structured_content["items"][1]
    assert rspec == {
        "id": 5104,
        "name": "rspec",
        "stage": "test",
        "status": "failed",
        "failure_reason": "script_failure",
        "allow_failure": False,
        "duration": 93.25,
        "finished_at": "2024-05-02T10:02:33.250Z",
        "web_url": "http://gitlab.sim/acme/app/-/jobs/5104",
    }
    assert "failure_reason" not in result.structured_content["items"][2]  # only failed jobs carry one
    retried = await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=502, include_retried=True)
    assert ids(retried) == [5105, 5104, 5103, 5102, 5101]


async def test_list_pipeline_jobs_scope_and_pagination(mcp, sim):
    failed = await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=502, scope=["failed"])
    assert ids(failed) == [5104]
    both = await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=502, scope=["failed", "skipped"])
    assert ids(both) == [5105, 5104]
    sent = [r for r in sim.requests() if r["path"].endswith("/pipelines/502/jobs")]
    assert "scope%5B%5D=failed&scope%5B%5D=skipped" in sent[-1]["query"]
    page = await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=502, per_page=3, page=2)
    assert ids(page) == [5101]
    assert page.structured_content["page"] == 2 and page.structured_content["total"] == 4


async def test_list_pipeline_jobs_errors(mcp, text_of):
    missing = await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=999)
    assert missing.is_error
    assert "Jobs of pipeline 999 in acme/app not found or you have no access" in text_of(missing)
    hidden = await mcp.call("list_pipeline_jobs", project="bob/secret", pipeline_id=601)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)
    bad_scope = await mcp.call("list_pipeline_jobs", project="acme/app", pipeline_id=502, scope=["exploded"])
    assert bad_scope.is_error and "scope" in text_of(bad_scope)


async def test_get_job_log_gives_the_tail_by_default(mcp):
    result = await mcp.call("get_job_log", project="acme/app", job_id=5104)
    assert not result.is_error
    log = result.structured_content
    assert log["job_id"] == 5104
    assert log["total_lines"] == 1500
    assert (log["first_line"], log["last_line"]) == (1301, 1500)
    assert log["truncated"] is True
    assert "start_line" in log["hint"] and "1301-1500 of 1500" in log["hint"]
    lines = log["content"].split("\n")
    assert len(lines) == 200
    assert lines[-1] == "ERROR: Job failed: exit code 1"
    assert "Cleaning up project directory and file based variables" in lines
    assert "E       AssertionError: assert 10.01 == 10.0" in lines


async def test_get_job_log_pages_by_start_line(mcp):
    head = (
        await mcp.call("get_job_log", project="acme/app", job_id=5104, start_line=1, line_count=5)
    ).structured_content
    assert head["content"].split("\n") == [
        "Running with gitlab-runner 17.5.0 (8ec04662)",
        "  on docker-runner-1 xY9kLm2p, system ID: s_6b1e2f1a9c1d",
        'Preparing the "docker" executor',
        "Using Docker executor with image python:3.12-slim ...",
        "Pulling image layers 100%",  # the progress line as last drawn
    ]
    assert (head["first_line"], head["last_line"], head["truncated"]) == (1, 5, True)
    rest = (
        await mcp.call("get_job_log", project="acme/app", job_id=5104, start_line=1401, line_count=1000)
    ).structured_content
    assert (rest["first_line"], rest["last_line"]) == (1401, 1500)
    assert len(rest["content"].split("\n")) == 100


async def test_get_job_log_is_clean_text(mcp):
    log = (await mcp.call("get_job_log", project="acme/app", job_id=5104, line_count=1000)).structured_content
    for marker in (ESC, "section_start", "section_end", "\r", "[0K", "[36;1m"):
        assert marker not in log["content"]
    assert "Getting source from Git repository" not in log["content"]  # line 9, before this window


async def test_get_job_log_of_a_short_log_is_whole(mcp, text_of):
    result = await mcp.call("get_job_log", project="acme/app", job_id=5001)
    log = result.structured_content
    assert log["truncated"] is False and "hint" not in log
    assert log["first_line"] == 1 and log["total_lines"] == 8
    assert log["content"].endswith("compile: done\nJob succeeded")
    assert "Job succeeded" in text_of(result)


async def test_get_job_log_missing_hidden_or_without_log_is_not_found(mcp, text_of):
    missing = await mcp.call("get_job_log", project="acme/app", job_id=99999)
    assert missing.is_error
    assert "Log of job 99999 in acme/app not found or you have no access" in text_of(missing)
    not_started = await mcp.call("get_job_log", project="acme/app", job_id=5302)
    assert not_started.is_error and "not found" in text_of(not_started)
    for project in ("bob/secret", "acme/app"):
        hidden = await mcp.call("get_job_log", project=project, job_id=6001)
        assert hidden.is_error and "not found or you have no access" in text_of(hidden)
        assert "TOP SECRET" not in text_of(hidden)


@pytest.mark.parametrize("arguments", [{"line_count": 1001}, {"line_count": 0}, {"start_line": 0}, {"job_id": -1}])
async def test_get_job_log_rejects_invalid_arguments(mcp, text_of, arguments):
    result = await mcp.call("get_job_log", **{"project": "acme/app", "job_id": 5104, **arguments})
    assert result.is_error
    assert next(iter(arguments)) in text_of(result)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (f"{ESC}[31;1mred{ESC}[0;m plain", "red plain"),
        (
            f"section_start:1:build[collapsed=true]\r{ESC}[0K{ESC}[36;1mBuild{ESC}[0;m\nx\nsection_end:2:build\r{ESC}[0K\n",
            "Build\nx",
        ),
        ("a\r\nb\r\n\r\nc", "a\nb\n\nc"),
        ("10%\r50%\r100%\r", "100%"),
        (f"{ESC}]8;;http://x{ESC}\\link{ESC}]8;;{ESC}\\", "link"),
    ],
)
def test_clean_log(raw, clean):
    assert clean_log(raw) == clean


async def test_get_job(mcp, text_of):
    result = await mcp.call("get_job", project="acme/app", job_id=5104)
    assert not result.is_error
    job = result.structured_content
    assert (job["id"], job["name"], job["stage"], job["status"]) == (5104, "rspec", "test", "failed")
    assert job["failure_reason"] == "script_failure" and job["pipeline_id"] == 502
    assert job["user"] == "bob" and job["ref"] == "feature/login" and job["duration"] == 93.25
    for project in ("bob/secret", "acme/app"):
        hidden = await mcp.call("get_job", project=project, job_id=6001)
        assert hidden.is_error and "not found or you have no access" in text_of(hidden)


async def test_list_job_artifacts(mcp, text_of):
    result = await mcp.call("list_job_artifacts", project="acme/app", job_id=5104)
    assert not result.is_error
    listed = result.structured_content
    assert [a["file_type"] for a in listed["artifacts"]] == ["archive", "metadata", "trace", "junit"]
    assert listed["artifacts"][0]["filename"] == "artifacts.zip" and listed["artifacts"][0]["size"] > 100_000
    assert listed["artifacts_expire_at"] == "2024-06-02T10:02:33.250Z"
    none = await mcp.call("list_job_artifacts", project="acme/app", job_id=5103)
    assert none.structured_content["artifacts"] == [] and none.structured_content["artifacts_expire_at"] is None
    missing = await mcp.call("list_job_artifacts", project="acme/app", job_id=99999)
    assert missing.is_error and "Job 99999 in acme/app not found" in text_of(missing)


async def test_get_job_artifact_file_reads_text_in_windows(mcp, sim):
    junit = await mcp.call("get_job_artifact_file", project="acme/app", job_id=5104, artifact_path="reports/junit.xml")
    assert not junit.is_error
    window = junit.structured_content
    assert window["binary"] is False and window["total_lines"] == 1483
    assert window["content"].startswith('<?xml version="1.0" encoding="utf-8"?>\n<testsuites>')
    assert (window["first_line"], window["last_line"], window["truncated"]) == (1, 400, True)
    assert "start_line" in window["hint"]
    tail = await mcp.call(
        "get_job_artifact_file", project="acme/app", job_id=5104, artifact_path="reports/junit.xml", start_line=1479
    )
    assert "test_refund_rounding" in tail.structured_content["content"]
    assert tail.structured_content["last_line"] == 1483
    sent = [r["path"] for r in sim.requests() if "/artifacts/" in r["path"]]
    assert sent[0] == "/api/v4/projects/acme%2Fapp/jobs/5104/artifacts/reports/junit.xml"


async def test_get_job_artifact_file_caps_a_big_log(mcp):
    log = await mcp.call(
        "get_job_artifact_file", project="acme/app", job_id=5104, artifact_path="logs/debug.log", line_count=2000
    )
    window = log.structured_content
    assert window["total_lines"] == 5000 and window["size"] > 200_000
    assert len(window["content"]) <= 40_000 and window["last_line"] < 2000 and window["truncated"] is True


async def test_get_job_artifact_file_binary_missing_and_hidden(mcp, text_of):
    png = await mcp.call(
        "get_job_artifact_file", project="acme/app", job_id=5104, artifact_path="screenshots/refund.png"
    )
    assert png.structured_content["binary"] is True and png.structured_content["content_type"] == "image/png"
    assert "content" not in png.structured_content and png.structured_content["size"] == 33
    missing = await mcp.call("get_job_artifact_file", project="acme/app", job_id=5104, artifact_path="nope.txt")
    assert missing.is_error and "Artifact nope.txt of job 5104 in acme/app not found" in text_of(missing)
    no_archive = await mcp.call("get_job_artifact_file", project="acme/app", job_id=5103, artifact_path="a.txt")
    assert no_archive.is_error and "not found" in text_of(no_archive)
    hidden = await mcp.call("get_job_artifact_file", project="bob/secret", job_id=6001, artifact_path="leak-report.txt")
    assert hidden.is_error and "TOP SECRET" not in text_of(hidden)


async def test_get_pipeline_test_report_summary(mcp, text_of):
    result = await mcp.call("get_pipeline_test_report_summary", project="acme/app", pipeline_id=502)
    assert not result.is_error
    report = result.structured_content
    assert report["total"]["count"] == 1478 and report["total"]["failed"] == 1 and report["total"]["success"] == 1477
    [suite] = report["test_suites"]
    assert suite["name"] == "rspec" and suite["build_ids"] == [5104] and suite["failed_count"] == 1
    passing = (
        await mcp.call("get_pipeline_test_report_summary", project="acme/app", pipeline_id=501)
    ).structured_content
    assert (passing["total"]["count"], passing["total"]["skipped"], passing["total"]["failed"]) == (12, 2, 0)
    empty = (await mcp.call("get_pipeline_test_report_summary", project="acme/app", pipeline_id=503)).structured_content
    assert empty["total"]["count"] == 0 and empty["test_suites"] == []
    hidden = await mcp.call("get_pipeline_test_report_summary", project="bob/secret", pipeline_id=601)
    assert hidden.is_error and "Test report of pipeline 601 in bob/secret not found" in text_of(hidden)
