"""The pipelines area's seed: acme/app's pipelines 501-506 and their jobs and logs, bob/secret's pipeline 601,
artifacts and pipeline schedules."""

from __future__ import annotations

import gzip
import hashlib
import re
from typing import Any

from tests.gitlab_sim.areas.pipelines.reads import FINISHED, job_row
from tests.gitlab_sim.areas.pipelines.schedules import next_run
from tests.gitlab_sim.world import World

# --- seed --------------------------------------------------------------------------------------
# (id, project id, iid, ref, status, source, user id, coverage)
PIPELINES = (
    (501, 101, 1, "main", "success", "push", 1, "87.50"),
    (502, 101, 2, "feature/login", "failed", "push", 2, None),
    (503, 101, 3, "main", "running", "schedule", 1, None),
    (504, 101, 4, "v1.0.0", "success", "push", 1, "88.10"),  # passed with warnings: job 5402 may fail
    (505, 101, 5, "feature/login", "canceled", "web", 2, None),
    (506, 101, 6, "main", "pending", "api", 1, None),
    (601, 104, 1, "main", "failed", "push", 2, None),
    (701, 102, 1, "main", "success", "push", 1, None),
)


# (id, pipeline id, name, stage, status, extra)
JOBS: tuple[tuple[int, int, str, str, str, dict[str, Any]], ...] = (
    (5001, 501, "compile", "build", "success", {}),
    (5002, 501, "rspec", "test", "success", {"coverage": 87.5}),
    (5003, 501, "deploy-staging", "deploy", "manual", {"allow_failure": True}),
    (5101, 502, "compile", "build", "success", {}),
    (5102, 502, "rspec", "test", "failed", {"failure_reason": "stuck_or_timeout_failure", "_retried": True}),
    (5103, 502, "lint", "test", "success", {}),
    (5104, 502, "rspec", "test", "failed", {"failure_reason": "script_failure"}),
    (5105, 502, "deploy", "deploy", "skipped", {}),
    (5301, 503, "compile", "build", "running", {}),
    (5302, 503, "rspec", "test", "created", {}),
    (5401, 504, "release", "deploy", "success", {}),
    (5402, 504, "audit", "test", "failed", {"failure_reason": "script_failure", "allow_failure": True}),
    (6001, 601, "leak-check", "test", "failed", {"failure_reason": "script_failure"}),
    (7001, 701, "pages", "build", "success", {}),
    (7002, 701, "deploy", "deploy", "manual", {"allow_failure": True}),
)


LONG_LOG_JOB, LONG_LOG_LINES = 5104, 1500  # lines as a reader sees them, markers and colours removed


ESC = "\x1b"


def seed(world: World) -> None:
    for pid, project_id, iid, ref, status, source, user_id, coverage in PIPELINES:
        project = world.projects[project_id]
        started = status not in ("created", "pending")
        world.table("pipelines").append(
            {
                "id": pid,
                "iid": iid,
                "project_id": project_id,
                "name": "Build pipeline",
                "sha": _sha(pid),
                "ref": ref,
                "status": status,
                "source": source,
                "created_at": f"2024-05-0{iid}T10:00:00.000Z",
                "updated_at": f"2024-05-0{iid}T10:06:00.000Z",
                "web_url": f"{project['web_url']}/-/pipelines/{pid}",
                "before_sha": _sha(pid - 1),
                "tag": ref.startswith("v"),
                "yaml_errors": None,
                "user": world.user_ref(user_id),
                "started_at": f"2024-05-0{iid}T10:00:05.000Z" if started else None,
                "finished_at": f"2024-05-0{iid}T10:06:00.000Z" if status in FINISHED else None,
                "committed_at": None,
                "duration": 355 if status in FINISHED else None,
                "queued_duration": 5 if started else None,
                "coverage": coverage,
            }
        )
    for job_id, pipeline_id, name, stage, status, extra in JOBS:
        world.table("jobs").append(job_row(world, job_id, pipeline_id, name, stage, status, extra))
    traces = world.extra.setdefault("job_traces", {})
    for job_id, _, name, _, status, _ in JOBS:
        if status in FINISHED - {"skipped"} or status == "running":
            traces[job_id] = _short_log(name, status)
    traces[LONG_LOG_JOB] = _long_log()
    traces[6001] = "Checking for leaks\nTOP SECRET: the launch code is 0000\nERROR: Job failed: exit code 1\n"
    seed_ci(world)


def _sha(seed: int) -> str:
    return hashlib.sha1(str(seed).encode()).hexdigest()  # noqa: S324 (a fake commit id)


def _section(name: str, at: int, header: str, body: list[str], options: str = "") -> list[str]:
    """A collapsible section as gitlab-runner writes it (doc/ci/jobs/job_logs.md#custom-collapsible-sections)."""
    return [
        f"section_start:{at}:{name}{options}\r{ESC}[0K{ESC}[0K{ESC}[36;1m{header}{ESC}[0;m",
        *body,
        f"section_end:{at + 5}:{name}\r{ESC}[0K",
    ]


def _runner_head(at: int) -> list[str]:
    return [
        f"{ESC}[0KRunning with gitlab-runner 17.5.0 (8ec04662){ESC}[0;m",
        f"{ESC}[0K  on docker-runner-1 xY9kLm2p, system ID: s_6b1e2f1a9c1d{ESC}[0;m",
        *_section(
            "prepare_executor",
            at,
            'Preparing the "docker" executor',
            [
                f"{ESC}[0KUsing Docker executor with image python:3.12-slim ...{ESC}[0;m",
                "Pulling image layers 12%\rPulling image layers 64%\rPulling image layers 100%",
            ],
        ),
    ]


def _short_log(name: str, status: str) -> str:
    lines = [*_runner_head(1717000000), f"{ESC}[32;1m$ make {name}{ESC}[0;m", f"{name}: done"]
    if status == "failed":
        lines.append(f"{ESC}[31;1mERROR: Job failed: exit code 2{ESC}[0;m")
    elif status == "success":
        lines.append(f"{ESC}[32;1mJob succeeded{ESC}[0;m")
    return "\n".join(lines) + "\n"


def _long_log() -> str:
    """A failed pytest run: 1,500 readable lines, the error at the very end."""
    head = [
        *_runner_head(1718000000),
        *_section(
            "get_sources",
            1718000010,
            "Getting source from Git repository",
            [
                f"{ESC}[32;1mFetching changes with git depth set to 20...{ESC}[0;m",
                "Initialized empty Git repository in /builds/acme/app/.git/",
                f"{ESC}[32;1mChecking out {_sha(502)[:8]} as detached HEAD (ref is feature/login)...{ESC}[0;m",
            ],
        ),
    ]
    failure = [
        "=================================== FAILURES ===================================",
        "_____________________________ test_refund_rounding _____________________________",
        "    def test_refund_rounding():",
        ">       assert refund(10.005) == 10.0",
        "E       AssertionError: assert 10.01 == 10.0",
        "",
        "tests/test_payment.py:42: AssertionError",
        "=========================== short test summary info ============================",
        f"{ESC}[31mFAILED tests/test_payment.py::test_refund_rounding - AssertionError: assert 10.01 == 10.0{ESC}[0m",
    ]
    cleanup = _section(
        "cleanup_file_variables",
        1718000200,
        "Cleaning up project directory and file based variables",
        [],
        "[collapsed=true]",
    )
    end = [f"{ESC}[31;1mERROR: Job failed: exit code 1", f"{ESC}[0;m"]  # the colour reset follows the last newline
    # Readable lines so far: everything but the section_end markers and the trailing colour reset.
    fixed = [*head, *failure, *cleanup, end[0]]
    readable = sum(not line.startswith("section_end:") for line in fixed) + 3  # + step header, command, summary
    passed = LONG_LOG_LINES - readable
    tests = [
        f"tests/test_module_{i // 100:02d}.py::test_case_{i:04d} {ESC}[32mPASSED{ESC}[0m [{i * 100 // passed:3d}%]"
        for i in range(passed)
    ]
    summary = f"{ESC}[31m=================== 1 failed, {passed} passed in 93.12s ==================={ESC}[0m"
    step = _section(
        "step_script",
        1718000100,
        'Executing "step_script" stage of the job script',
        [f"{ESC}[32;1m$ pytest -v{ESC}[0;m", *tests, *failure, summary],
    )
    return "\n".join([*head, *step, *cleanup, *end]) + "\n"


# --- seed: artifacts and schedules -------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


DEBUG_LOG_LINES = 5000


def seed_ci(world: World) -> None:
    traces = world.extra["job_traces"]
    tests = re.findall(r"(tests/test_module_\d+)\.py::(test_case_\d+) ", traces[LONG_LOG_JOB])
    cases = [f'  <testcase classname="{m.replace("/", ".")}" name="{n}" time="0.062"/>' for m, n in tests]
    failure = '<failure message="AssertionError: assert 10.01 == 10.0">tests/test_payment.py:42</failure>'
    cases.append(
        f'  <testcase classname="tests.test_payment" name="test_refund_rounding" time="0.004">{failure}</testcase>'
    )
    debug = "".join(
        f"2024-05-02 10:01:{n % 60:02d} DEBUG worker-{n % 4}: step {n:04d} ok\n" for n in range(1, DEBUG_LOG_LINES)
    )
    debug += "2024-05-02 10:02:33 ERROR refund(10.005) returned 10.01, expected 10.0\n"
    _artifacts(
        world,
        5104,
        {"reports/junit.xml": _junit(cases), "logs/debug.log": debug.encode(), "screenshots/refund.png": PNG},
        junit="reports/junit.xml",
    )
    passing = [f'  <testcase classname="tests.test_app" name="test_{n:02d}" time="0.5"/>' for n in range(1, 11)]
    passing += [
        f'  <testcase classname="tests.test_app" name="test_slow_{n}" time="0"><skipped/></testcase>' for n in (1, 2)
    ]
    _artifacts(
        world,
        5002,
        {"reports/junit.xml": _junit(passing), "coverage/summary.txt": b"TOTAL 87.5%\n"},
        junit="reports/junit.xml",
    )
    _artifacts(world, 5001, {"dist/acme-app.tar.gz": gzip.compress(b"acme app build\n", mtime=0)})
    _artifacts(world, 6001, {"leak-report.txt": b"TOP SECRET: the launch code is 0000\n"})
    schedules = world.table("pipeline_schedules")
    for sid, pid, description, cron, zone, active, owner, last in (
        (901, 101, "Nightly build", "0 2 * * *", "UTC", True, 1, 503),
        (902, 101, "Weekly dependency audit", "0 6 * * 1", "Europe/Berlin", False, 2, None),
        (903, 104, "Secret sync", "*/30 * * * *", "UTC", True, 2, None),
    ):
        row = {"id": sid, "description": description, "ref": "refs/heads/main", "cron": cron, "cron_timezone": zone}
        row |= {"next_run_at": next_run(cron), "active": active, "created_at": "2024-04-01T09:00:00.000Z"}
        row |= {"updated_at": "2024-04-01T09:00:00.000Z", "owner": world.user_ref(owner), "_project_id": pid}
        variables = (
            [{"key": "NIGHTLY", "variable_type": "env_var", "value": "true", "raw": False}] if sid == 901 else []
        )
        schedules.append(row | {"_last_pipeline": last, "_variables": variables})


def _junit(cases: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n<testsuite name="pytest">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n</testsuites>\n"
    ).encode()


def _artifacts(world: World, job_id: int, files: dict[str, bytes], *, junit: str | None = None) -> None:
    """A job's artifacts archive and the artifacts list GitLab shows for it (Entities::Ci::JobArtifact)."""
    world.extra.setdefault("job_artifacts", {})[job_id] = files
    job = next(j for j in world.table("jobs") if j["id"] == job_id)
    size = 200 + sum(len(data) for data in files.values()) // 3  # what zip would make of it
    listed = [{"file_type": "archive", "size": size, "filename": "artifacts.zip", "file_format": "zip"}]
    listed.append(
        {"file_type": "metadata", "size": 150 + 40 * len(files), "filename": "metadata.gz", "file_format": "gzip"}
    )
    if trace := world.extra["job_traces"].get(job_id):
        listed.append({"file_type": "trace", "size": len(trace.encode()), "filename": "job.log", "file_format": "raw"})
    if junit:
        listed.append(
            {"file_type": "junit", "size": len(files[junit]) // 8, "filename": "junit.xml.gz", "file_format": "gzip"}
        )
    expires = job["finished_at"][:10].replace("-05-", "-06-") + job["finished_at"][10:]  # expire_in: 30 days
    job |= {
        "artifacts": listed,
        "artifacts_expire_at": expires,
        "artifacts_file": {"filename": "artifacts.zip", "size": size},
    }
    job["_junit"] = junit
