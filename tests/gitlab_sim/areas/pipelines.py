"""Simulated GitLab API: pipelines, jobs, artifacts and pipeline schedules (doc/api/pipelines.md,
doc/api/jobs.md, doc/api/job_artifacts.md, doc/api/pipeline_schedules.md).

Rows: "pipelines" hold the Pipeline entity as GitLab returns it; "jobs" hold the Job entity plus private
keys (`_project_id`, `_pipeline_id`, `_retried`) that are never sent. Logs live in
`world.extra["job_traces"]` (job id -> raw runner output); a job without one has no log yet. Artifact
archives live in `world.extra["job_artifacts"]` (job id -> path -> bytes); the test report summary is
read from the JUnit XML of jobs whose artifacts list a `junit` report. Pipeline variables:
`world.extra["pipeline_variables"]` (pipeline id -> list). "pipeline_schedules" rows are the
PipelineScheduleDetails entity plus `_project_id`.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

from starlette.responses import JSONResponse, PlainTextResponse, Response

from tests.gitlab_sim.areas import ci
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    Router,
    bad_request,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import DEVELOPER, MAINTAINER, OWNER, REPORTER, SIM_URL, World, now

Row = dict[str, Any]

# Ci::HasStatus::AVAILABLE_STATUSES, Ci::Pipeline.sources, Ci::PipelinesFinder::ALLOWED_INDEXED_COLUMNS
STATUSES = (
    "created",
    "waiting_for_resource",
    "preparing",
    "waiting_for_callback",
    "pending",
    "running",
    "success",
    "failed",
    "canceling",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
)
SOURCES = (
    "push",
    "web",
    "trigger",
    "schedule",
    "api",
    "external",
    "pipeline",
    "chat",
    "webide",
    "merge_request_event",
    "external_pull_request_event",
    "parent_pipeline",
    "ondemand_dast_scan",
    "ondemand_dast_validation",
    "security_orchestration_policy",
)
ORDERS = ("id", "status", "ref", "updated_at", "user_id")
BASIC_FIELDS = ("id", "iid", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url")
LABELS = {"success": "passed", "scheduled": "delayed", "waiting_for_resource": "waiting"}


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/pipelines")(list_pipelines)
    router.route("GET", "/projects/:id/pipelines/:pipeline_id")(get_pipeline)
    router.route("GET", "/projects/:id/pipelines/:pipeline_id/jobs")(list_pipeline_jobs)
    router.route("GET", "/projects/:id/jobs/:job_id/trace")(get_job_trace)
    register_ci(router)


# --- endpoints ---------------------------------------------------------------------------------
async def list_pipelines(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    for name, allowed in (("status", STATUSES), ("source", SOURCES), ("order_by", ORDERS), ("sort", ("asc", "desc"))):
        if call.arg(name) is not None and call.arg(name) not in allowed:
            return invalid_value(name)
    rows = [p for p in call.world.table("pipelines") if p["project_id"] == project["id"]]
    for name in ("status", "ref", "sha", "source"):
        if value := call.arg(name):
            rows = [p for p in rows if p[name] == value]
    if username := call.arg("username"):
        rows = [p for p in rows if p["user"]["username"] == username]
    order = call.arg("order_by", "id")
    key = (lambda p: p["user"]["id"]) if order == "user_id" else (lambda p: p[order] or "")
    rows = sorted(rows, key=key, reverse=call.arg("sort", "desc") == "desc")
    return paginate(call, [{k: p[k] for k in (*BASIC_FIELDS, "name")} for p in rows])


async def get_pipeline(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["pipeline_id"].isdigit():
        return invalid_param("pipeline_id")
    pipeline = find_pipeline(call.world, project["id"], int(call.params["pipeline_id"]))
    if pipeline is None:
        return not_found()  # ActiveRecord::RecordNotFound -> "404 Not found"
    ci.advance(call.world, pipeline)
    return JSONResponse({**pipeline, "detailed_status": detailed_status(call.world, pipeline)})


async def list_pipeline_jobs(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["pipeline_id"].isdigit():
        return invalid_param("pipeline_id")
    pipeline = find_pipeline(call.world, project["id"], int(call.params["pipeline_id"]))
    if pipeline is None:
        return not_found()
    scope = call.arg_list("scope")
    if any(s not in STATUSES for s in scope):
        return invalid_value("scope")
    ci.advance(call.world, pipeline)
    jobs = [j for j in call.world.table("jobs") if j["_pipeline_id"] == pipeline["id"]]
    if not call.flag("include_retried"):
        jobs = [j for j in jobs if not j["_retried"]]
    if scope:
        jobs = [j for j in jobs if j["status"] in scope]
    jobs.sort(key=lambda j: j["id"], reverse=True)  # newest first since GitLab 13.5
    return paginate(call, [render_job(call.world, j) for j in jobs])


async def get_job_trace(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["job_id"].isdigit():
        return invalid_param("job_id")
    job_id = int(call.params["job_id"])
    job = next((j for j in call.world.table("jobs") if j["id"] == job_id), None)
    trace = call.world.extra.get("job_traces", {}).get(job_id)
    # doc/api/jobs.md#get-a-log-file: 404 "Job not found or no log file".
    if job is None or job["_project_id"] != project["id"] or trace is None:
        return not_found()
    return PlainTextResponse(trace, headers={"content-disposition": f'infile; filename="{job_id}.log"'})


# --- helpers -----------------------------------------------------------------------------------
def find_pipeline(world: World, project_id: int, pipeline_id: int) -> dict[str, Any] | None:
    return next((p for p in world.table("pipelines") if p["id"] == pipeline_id and p["project_id"] == project_id), None)


def detailed_status(world: World, pipeline: dict[str, Any]) -> dict[str, Any]:
    status = pipeline["status"]
    label, group, icon = LABELS.get(status, status), status, f"status_{status}"
    jobs = [j for j in world.table("jobs") if j["_pipeline_id"] == pipeline["id"] and not j["_retried"]]
    if status == "success" and any(j["status"] == "failed" and j["allow_failure"] for j in jobs):
        label, group, icon = "passed with warnings", "success-with-warnings", "status_warning"
    return {
        "icon": icon,
        "text": label.split()[0],
        "label": label,
        "group": group,
        "tooltip": label,
        "has_details": True,
        "details_path": pipeline["web_url"].removeprefix(SIM_URL),
        "illustration": None,
        "favicon": f"/assets/ci_favicons/favicon_{icon}.png",
    }


def render_job(world: World, job: dict[str, Any]) -> dict[str, Any]:
    pipeline = next(p for p in world.table("pipelines") if p["id"] == job["_pipeline_id"])
    out = {k: v for k, v in job.items() if not k.startswith("_")}
    out["pipeline"] = {k: pipeline[k] for k in BASIC_FIELDS}
    if job["status"] != "failed":
        out.pop("failure_reason", None)  # exposed only for failed jobs (Entities::Ci::JobBasic)
    return out


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
FINISHED = {"success", "failed", "canceled", "skipped"}
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
        world.table("jobs").append(_job(world, job_id, pipeline_id, name, stage, status, extra))
    traces = world.extra.setdefault("job_traces", {})
    for job_id, _, name, _, status, _ in JOBS:
        if status in FINISHED - {"skipped"} or status == "running":
            traces[job_id] = _short_log(name, status)
    traces[LONG_LOG_JOB] = _long_log()
    traces[6001] = "Checking for leaks\nTOP SECRET: the launch code is 0000\nERROR: Job failed: exit code 1\n"
    seed_ci(world)


def _sha(seed: int) -> str:
    return hashlib.sha1(str(seed).encode()).hexdigest()  # noqa: S324 (a fake commit id)


def _job(
    world: World, job_id: int, pipeline_id: int, name: str, stage: str, status: str, extra: dict[str, Any]
) -> dict[str, Any]:
    pipeline = next(p for p in world.table("pipelines") if p["id"] == pipeline_id)
    project = world.projects[pipeline["project_id"]]
    ran = status in FINISHED - {"skipped"} or status == "running"
    day = pipeline["created_at"][:10]
    return {
        "id": job_id,
        "status": status,
        "stage": stage,
        "name": name,
        "ref": pipeline["ref"],
        "tag": pipeline["tag"],
        "coverage": None,
        "allow_failure": False,
        "created_at": f"{day}T10:00:01.000Z",
        "started_at": f"{day}T10:01:00.000Z" if ran else None,
        "finished_at": f"{day}T10:02:33.250Z" if ran and status != "running" else None,
        "erased_at": None,
        "duration": 93.25 if ran and status != "running" else None,
        "queued_duration": 1.5 if ran else None,
        "user": world.user_ref(pipeline["user"]["id"]),
        "commit": {
            "id": pipeline["sha"],
            "short_id": pipeline["sha"][:8],
            "title": "Make the build green",
            "message": "Make the build green\n",
            "author_name": pipeline["user"]["name"],
            "author_email": f"{pipeline['user']['username']}@example.com",
            "created_at": f"{day}T09:59:00.000+00:00",
        },
        "failure_reason": None,
        "web_url": f"{project['web_url']}/-/jobs/{job_id}",
        "project": {"ci_job_token_scope_enabled": False},
        "artifacts": [],
        "runner": {"id": 7, "description": "docker-runner-1", "active": True, "is_shared": True} if ran else None,
        "artifacts_expire_at": None,
        "archived": False,
        "tag_list": ["docker"],
        "_project_id": project["id"],
        "_pipeline_id": pipeline_id,
        "_retried": False,
        **extra,
    }


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


# === changing pipelines and jobs; artifacts, test reports, schedules ===========================
# Roles (project_policy.rb, ci/build_policy.rb): developers create, retry, cancel and play; only owners
# delete pipelines (destroy_pipeline); schedules are read by reporters, updated by their owner.
CANCELABLE = ("created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending", "running", "scheduled")
WAITING = {"created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending", "scheduled"}
RETRYABLE = ("success", "failed", "canceled")  # Ci::Build#retryable?
PLAYABLE = ("manual", "scheduled")
VARIABLE_TYPES = ("env_var", "file")
NEW_PIPELINE_JOBS = (("compile", "build", "pending", {}), ("rspec", "test", "created", {}))
NEW_PIPELINE_JOBS += (("deploy", "deploy", "manual", {"allow_failure": True}),)
CRON_FIELD = re.compile(
    r"\A(\*|\d{1,2}(-\d{1,2})?|[A-Za-z]{3})(/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?|[A-Za-z]{3})(/\d{1,2})?)*\Z"
)
# ActiveSupport::TimeZone names are accepted beside IANA ones; a few of them will do here.
RAILS_ZONES = {"UTC", "Pacific Time (US & Canada)", "Eastern Time (US & Canada)", "London", "Berlin", "Paris", "Tokyo"}


def register_ci(router: Router) -> None:
    router.route("POST", "/projects/:id/pipeline")(create_pipeline)
    router.route("POST", "/projects/:id/pipelines/:pipeline_id/retry")(retry_pipeline)
    router.route("POST", "/projects/:id/pipelines/:pipeline_id/cancel")(cancel_pipeline)
    router.route("DELETE", "/projects/:id/pipelines/:pipeline_id")(delete_pipeline)
    router.route("GET", "/projects/:id/pipelines/:pipeline_id/variables")(list_pipeline_variables)
    router.route("GET", "/projects/:id/pipelines/:pipeline_id/test_report_summary")(get_test_report_summary)
    router.route("GET", "/projects/:id/jobs/:job_id")(get_job)
    router.route("POST", "/projects/:id/jobs/:job_id/retry")(retry_job)
    router.route("POST", "/projects/:id/jobs/:job_id/cancel")(cancel_job)
    router.route("POST", "/projects/:id/jobs/:job_id/play")(play_job)
    # *artifact_path is a wildcard: the rest of the path, slashes included.
    router.route("GET", "/projects/:id/jobs/:job_id/artifacts/(?P<artifact_path>.+)")(get_artifact_file)
    router.route("GET", "/projects/:id/pipeline_schedules")(list_schedules)
    router.route("POST", "/projects/:id/pipeline_schedules")(create_schedule)
    router.route("GET", "/projects/:id/pipeline_schedules/:pipeline_schedule_id")(get_schedule)
    router.route("PUT", "/projects/:id/pipeline_schedules/:pipeline_schedule_id")(update_schedule)
    router.route("DELETE", "/projects/:id/pipeline_schedules/:pipeline_schedule_id")(delete_schedule)
    router.route("POST", "/projects/:id/pipeline_schedules/:pipeline_schedule_id/play")(play_schedule)


def _level(call: Call, project: Row) -> int:
    return call.world.access_level(call.user_id, project["id"])


def _next_id(rows: list[Row]) -> int:
    return 1 + max((r["id"] for r in rows), default=0)  # ids grow, so "newest first" stays true


def _pipeline_in_path(call: Call, level: int = 0) -> tuple[Row, Row] | Response:
    """(project, pipeline), or 404 when either is hidden/missing, or 403 below `level`."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["pipeline_id"].isdigit():
        return invalid_param("pipeline_id")
    pipeline = find_pipeline(call.world, project["id"], int(call.params["pipeline_id"]))
    if pipeline is None:
        return not_found()
    if _level(call, project) < level:
        return forbidden()
    return project, pipeline


def _job_in_path(call: Call, level: int = 0) -> tuple[Row, Row] | Response:
    """(project, job); the role is checked first, as authorize_update_builds! does."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["job_id"].isdigit():
        return invalid_param("job_id")
    if _level(call, project) < level:
        return forbidden()
    job_id = int(call.params["job_id"])
    job = next((j for j in call.world.table("jobs") if j["id"] == job_id), None)
    if job is None or job["_project_id"] != project["id"]:
        return not_found()
    return project, job


def refresh_status(world: World, pipeline: Row) -> None:
    """Ci::Pipeline status from its latest jobs; failures and manual jobs that may fail do not count."""
    jobs = [j for j in world.table("jobs") if j["_pipeline_id"] == pipeline["id"] and not j["_retried"]]
    statuses = {j["status"] for j in jobs if not (j["allow_failure"] and j["status"] in ("failed", "manual"))}
    if "running" in statuses:
        status = "running"
    elif statuses & WAITING:
        status = "running" if statuses & {"success", "failed", "canceled"} else "pending"
    else:
        order = ("failed", "canceled", "manual", "success")
        status = next((s for s in order if s in statuses), "success" if jobs else pipeline["status"])
    when = now()
    pipeline |= {"status": status, "updated_at": when}
    finished = status in FINISHED
    pipeline["finished_at"] = (pipeline["finished_at"] or when) if finished else None
    pipeline["duration"] = pipeline["duration"] if finished else None
    if status == "running" and pipeline["started_at"] is None:
        pipeline["started_at"] = when


def _resolve_ref(world: World, project: Row, ref: str) -> tuple[str, bool] | None:
    """(commit SHA, is a tag) of a branch or tag name, or None."""
    for branch in world.table("branches"):
        if branch["project_id"] == project["id"] and branch["name"] == ref:
            return branch["head"], False
    for tag in world.table("tags"):
        if tag.get("project_id") == project["id"] and tag.get("name") == ref:
            commit = tag.get("commit")
            return str((commit or {}).get("id") if isinstance(commit, dict) else tag.get("target") or ""), True
    return None


def new_pipeline(world: World, project: Row, ref: str, sha: str, *, tag: bool, source: str, user_id: int) -> Row:
    """A pipeline as Ci::CreatePipelineService leaves it: pending, with this project's three jobs."""
    rows, when = world.table("pipelines"), now()
    pid = _next_id(rows)
    iid = 1 + max((p["iid"] for p in rows if p["project_id"] == project["id"]), default=0)
    pipeline = {"id": pid, "iid": iid, "project_id": project["id"], "name": "Build pipeline", "sha": sha, "ref": ref}
    pipeline |= {"status": "pending", "source": source, "created_at": when, "updated_at": when}
    pipeline |= {"web_url": f"{project['web_url']}/-/pipelines/{pid}", "before_sha": "0" * 40, "tag": tag}
    pipeline |= {"yaml_errors": None, "user": world.user_ref(user_id), "started_at": None, "finished_at": None}
    pipeline |= {"committed_at": None, "duration": None, "queued_duration": None, "coverage": None}
    rows.append(pipeline)
    for name, stage, status, extra in NEW_PIPELINE_JOBS:
        job = _job(world, _next_id(world.table("jobs")), pid, name, stage, status, extra)
        world.table("jobs").append(job | {"created_at": when})
    return pipeline


async def create_pipeline(call: Call) -> Response:
    ref = call.arg("ref")
    if ref is None:
        return missing_param("ref")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if _level(call, project) < DEVELOPER:
        return forbidden()
    variables = call.body.get("variables") or []
    if not isinstance(variables, list) or not all(isinstance(v, dict) for v in variables):
        return invalid_param("variables")
    for n, var in enumerate(variables):
        if var.get("variable_type", "env_var") not in VARIABLE_TYPES:
            return invalid_value(f"variables[{n}][variable_type]")
    found = _resolve_ref(call.world, project, str(ref))
    if found is None:
        return bad_request({"base": ["Reference not found"]})  # render_validation_error!(pipeline)
    problems = ci.input_errors(call.world, project, found[0], call.body.get("inputs"))
    if problems:
        return bad_request({"base": problems})  # Ci::CreatePipelineService: the config's errors
    pipeline = new_pipeline(call.world, project, str(ref), found[0], tag=found[1], source="api", user_id=call.user_id)
    saved = [
        {"key": str(v.get("key")), "variable_type": v.get("variable_type", "env_var"), "value": str(v.get("value", ""))}
        for v in variables
    ]
    call.world.extra.setdefault("pipeline_variables", {})[pipeline["id"]] = saved
    return JSONResponse(pipeline, status_code=201)


async def retry_pipeline(call: Call) -> Response:
    found = _pipeline_in_path(call, DEVELOPER)
    if isinstance(found, Response):
        return found
    world, pipeline = call.world, found[1]
    jobs = [j for j in world.table("jobs") if j["_pipeline_id"] == pipeline["id"] and not j["_retried"]]
    retried = [j for j in jobs if j["status"] in ("failed", "canceled")]
    if retried:  # "If there are no failed or canceled jobs in the pipeline, calling this endpoint has no effect."
        for job in retried:
            _retry(world, job, call.user_id or 0)
        for job in jobs:
            if job["status"] == "skipped":
                job["status"] = "created"  # later stages run again
        refresh_status(world, pipeline)
    return JSONResponse(pipeline, status_code=201)


async def cancel_pipeline(call: Call) -> Response:
    found = _pipeline_in_path(call, DEVELOPER)
    if isinstance(found, Response):
        return found
    world, pipeline = call.world, found[1]
    jobs = [j for j in world.table("jobs") if j["_pipeline_id"] == pipeline["id"] and not j["_retried"]]
    for job in jobs:
        if job["status"] in CANCELABLE:
            _cancel(job)
    if pipeline["status"] in CANCELABLE:
        pipeline |= {"status": "canceled", "finished_at": now(), "updated_at": now()}
    return JSONResponse(pipeline)  # 200 whatever the state (doc/api/pipelines.md, issue 414963)


async def delete_pipeline(call: Call) -> Response:
    found = _pipeline_in_path(call, OWNER)
    if isinstance(found, Response):
        return found
    world, pipeline = call.world, found[1]
    world.table("pipelines").remove(pipeline)
    gone = {j["id"] for j in world.table("jobs") if j["_pipeline_id"] == pipeline["id"]}
    world.rows["jobs"] = [j for j in world.table("jobs") if j["id"] not in gone]
    for store in ("job_traces", "job_artifacts"):
        for job_id in gone:
            world.extra.get(store, {}).pop(job_id, None)
    return Response(status_code=204)


async def list_pipeline_variables(call: Call) -> Response:
    found = _pipeline_in_path(call, DEVELOPER)
    if isinstance(found, Response):
        return found
    return paginate(call, call.world.extra.get("pipeline_variables", {}).get(found[1]["id"], []))


async def get_job(call: Call) -> Response:
    found = _job_in_path(call)
    return found if isinstance(found, Response) else JSONResponse(render_job(call.world, found[1]))


def _retry(world: World, job: Row, user_id: int) -> Row:
    """Ci::RetryJobService: a new job in the same pipeline; the old one is marked retried."""
    jobs = world.table("jobs")
    new_id = _next_id(jobs)
    clone = {k: v for k, v in job.items() if k not in ("artifacts_file", "_junit")}
    clone |= {"id": new_id, "status": "pending", "created_at": now(), "started_at": None, "finished_at": None}
    clone |= {"duration": None, "queued_duration": None, "runner": None, "failure_reason": None, "coverage": None}
    clone |= {"artifacts": [], "artifacts_expire_at": None, "user": world.user_ref(user_id), "_retried": False}
    clone["web_url"] = job["web_url"].rsplit("/", 1)[0] + f"/{new_id}"
    job["_retried"] = True
    jobs.append(clone)
    return clone


def _cancel(job: Row) -> None:
    job |= {"status": "canceled", "finished_at": now()}


def _pipeline_of(world: World, job: Row) -> Row:
    return next(p for p in world.table("pipelines") if p["id"] == job["_pipeline_id"])


async def retry_job(call: Call) -> Response:
    found = _job_in_path(call, DEVELOPER)
    if isinstance(found, Response):
        return found
    job = found[1]
    if job["status"] not in RETRYABLE or job["_retried"]:
        return error(403, "403 Forbidden - Job is not retryable")
    new = _retry(call.world, job, call.user_id or 0)
    refresh_status(call.world, _pipeline_of(call.world, job))
    return JSONResponse(render_job(call.world, new), status_code=201)


async def cancel_job(call: Call) -> Response:
    found = _job_in_path(call, DEVELOPER)
    if isinstance(found, Response):
        return found
    job = found[1]
    if job["status"] in CANCELABLE:  # Ci::Build#cancel is a no-op for finished jobs; the API still answers 201
        _cancel(job)
        refresh_status(call.world, _pipeline_of(call.world, job))
    return JSONResponse(render_job(call.world, job), status_code=201)


async def play_job(call: Call) -> Response:
    found = _job_in_path(call)
    if isinstance(found, Response):
        return found
    project, job = found
    if _level(call, project) < DEVELOPER:
        return forbidden()  # authorize!(:play_job, job)
    if job["status"] not in PLAYABLE:
        return error(400, "400 Bad request - Unplayable Job")
    job |= {"status": "pending", "user": call.world.user_ref(call.user_id or 0)}
    refresh_status(call.world, _pipeline_of(call.world, job))
    return JSONResponse(render_job(call.world, job))  # `status 200` in lib/api/ci/jobs.rb


async def get_artifact_file(call: Call) -> Response:
    found = _job_in_path(call)
    if isinstance(found, Response):
        return found
    job = found[1]
    archive = call.world.extra.get("job_artifacts", {}).get(job["id"])
    if archive is None:
        return not_found()  # "Build not found, no artifacts, or all artifacts are reports"
    path = call.params["artifact_path"]
    if "\0" in path or ".." in path.split("/"):
        return bad_request("400 Bad request")  # Gitlab::Ci::Build::Artifacts::Path#valid?
    data = archive.get(path.strip("/"))
    if data is None:
        return not_found()
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    headers = {"content-disposition": f'attachment; filename="{path.rsplit("/", 1)[-1]}"'}
    return Response(data, media_type=media, headers=headers)


async def get_test_report_summary(call: Call) -> Response:
    found = _pipeline_in_path(call)
    if isinstance(found, Response):
        return found
    world, pipeline = call.world, found[1]
    suites: dict[str, Row] = {}
    for job in sorted(world.table("jobs"), key=lambda j: j["id"]):
        if job["_pipeline_id"] != pipeline["id"] or job["_retried"] or not job.get("_junit"):
            continue
        counts = _junit_counts(world.extra["job_artifacts"][job["id"]][job["_junit"]])
        suite = suites.setdefault(job["name"], {"name": job["name"], "total_time": 0.0, "total_count": 0})
        for key, value in counts.items():
            suite[key] = round(suite.get(key, 0) + value, 2)
        suite.setdefault("build_ids", []).append(job["id"])
        suite["suite_error"] = None
    total = {"time": 0.0, "count": 0, "success": 0, "failed": 0, "skipped": 0, "error": 0}
    for suite in suites.values():
        for key in total:
            total[key] += suite["total_time" if key == "time" else "total_count" if key == "count" else f"{key}_count"]
    total["time"] = round(total["time"], 2)
    return JSONResponse({"total": {**total, "suite_error": None}, "test_suites": list(suites.values())})


def _junit_counts(xml: bytes) -> dict[str, float]:
    counts: dict[str, float] = dict.fromkeys(("total_count", "success_count", "failed_count", "skipped_count"), 0)
    counts |= {"error_count": 0, "total_time": 0.0}
    for case in ElementTree.fromstring(xml).iter("testcase"):  # noqa: S314 (the world's own seed XML)
        counts["total_time"] += float(case.get("time") or 0)
        counts["total_count"] += 1
        kind = next((k for k in ("failure", "error", "skipped") if case.find(k) is not None), "success")
        counts[{"failure": "failed_count", "error": "error_count"}.get(kind, f"{kind}_count")] += 1
    return counts


# --- pipeline schedules ------------------------------------------------------------------------
SCHEDULE_LIST_FIELDS = ("id", "description", "ref", "cron", "cron_timezone", "next_run_at", "active")
SCHEDULE_LIST_FIELDS += ("created_at", "updated_at", "owner")


def _can_read_schedules(call: Call, project: Row) -> bool:
    return project["visibility"] == "public" or _level(call, project) >= REPORTER


def schedule_entity(call: Call, schedule: Row, *, detail: bool) -> Row:
    out = {k: schedule[k] for k in SCHEDULE_LIST_FIELDS} | {"inputs": []}
    if detail:
        pipeline = next((p for p in call.world.table("pipelines") if p["id"] == schedule["_last_pipeline"]), None)
        out["last_pipeline"] = {k: pipeline[k] for k in ("id", "sha", "ref", "status")} if pipeline else None
        owner = schedule["owner"]["id"] == call.user_id
        if owner or _level(call, call.world.projects[schedule["_project_id"]]) >= MAINTAINER:
            out["variables"] = schedule["_variables"]  # read_pipeline_schedule_variables
    return out


def _schedule_in_path(call: Call) -> tuple[Row, Row] | Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["pipeline_schedule_id"].isdigit():
        return invalid_param("pipeline_schedule_id")
    sid = int(call.params["pipeline_schedule_id"])
    rows = call.world.table("pipeline_schedules")
    schedule = next((s for s in rows if s["id"] == sid and s["_project_id"] == project["id"]), None)
    if schedule is None or not _can_read_schedules(call, project):
        return not_found("Pipeline Schedule")
    return project, schedule


def _schedule_errors(call: Call, project: Row, schedule: Row) -> Response | None:
    """Apply the request's fields to `schedule`; GitLab's validation errors, or None."""
    errors: dict[str, list[str]] = {}
    for name in ("description", "cron", "cron_timezone"):
        if call.arg(name) is not None:
            schedule[name] = str(call.arg(name)).strip()
    if call.arg("ref") is not None:
        schedule["ref"] = _full_ref(call.world, project, str(call.arg("ref")).strip())
    if call.flag("active") is not None:
        schedule["active"] = call.flag("active")
    fields = schedule["cron"].split()
    if len(fields) != 5 or not all(CRON_FIELD.match(f) for f in fields):
        errors["cron"] = [" is invalid syntax"]  # CronValidator
    if schedule["cron_timezone"] not in RAILS_ZONES and schedule["cron_timezone"] not in _iana_zones():
        errors["cron_timezone"] = [" is invalid syntax"]
    for name in ("description", "ref"):
        if not schedule[name]:
            errors[name] = ["can't be blank"]
    if errors:
        return bad_request(errors)
    schedule["next_run_at"] = _next_run(schedule["cron"])
    return None


@functools.cache
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _full_ref(world: World, project: Row, ref: str) -> str:
    """Short refs become refs/heads/… or refs/tags/…; unknown ones stay as given."""
    if ref.startswith("refs/"):
        return ref
    found = _resolve_ref(world, project, ref)
    return ref if found is None else f"refs/{'tags' if found[1] else 'heads'}/{ref}"


def _next_run(cron: str) -> str:
    """The next run, in UTC (a simplification: fixed minute and hour, else the next full hour)."""
    minute, hour = cron.split()[:2]
    at = datetime.now(UTC).replace(second=0, microsecond=0)
    if minute.isdigit() and hour.isdigit():
        run = at.replace(hour=int(hour) % 24, minute=int(minute) % 60)
        run += timedelta(days=1) if run <= at else timedelta()
    else:
        run = at.replace(minute=0) + timedelta(hours=1)
    return run.strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def list_schedules(call: Call) -> Response:
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    scope = call.arg("scope")
    if scope not in (None, "active", "inactive"):
        return invalid_value("scope")
    if not _can_read_schedules(call, project):
        return forbidden()
    rows = [s for s in call.world.table("pipeline_schedules") if s["_project_id"] == project["id"]]
    if scope:
        rows = [s for s in rows if s["active"] == (scope == "active")]
    return paginate(call, [schedule_entity(call, s, detail=False) for s in sorted(rows, key=lambda s: s["id"])])


async def get_schedule(call: Call) -> Response:
    found = _schedule_in_path(call)
    return found if isinstance(found, Response) else JSONResponse(schedule_entity(call, found[1], detail=True))


async def create_schedule(call: Call) -> Response:
    for name in ("description", "ref", "cron"):
        if call.arg(name) is None:
            return missing_param(name)
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if _level(call, project) < DEVELOPER:
        return forbidden()  # create_pipeline_schedule
    rows, when = call.world.table("pipeline_schedules"), now()
    schedule = {"id": _next_id(rows), "description": "", "ref": "", "cron": "", "cron_timezone": "UTC"}
    schedule |= {"next_run_at": None, "active": True, "created_at": when, "updated_at": when}
    schedule |= {"owner": call.world.user_ref(call.user_id or 0), "_project_id": project["id"]}
    schedule |= {"_last_pipeline": None, "_variables": []}
    problem = _schedule_errors(call, project, schedule)
    if problem:
        return problem
    rows.append(schedule)
    return JSONResponse(schedule_entity(call, schedule, detail=True), status_code=201)


async def update_schedule(call: Call) -> Response:
    found = _schedule_in_path(call)
    if isinstance(found, Response):
        return found
    project, schedule = found
    if schedule["owner"]["id"] != call.user_id or _level(call, project) < DEVELOPER:
        return forbidden()  # update_pipeline_schedule: the schedule's owner only
    draft = dict(schedule)
    problem = _schedule_errors(call, project, draft)
    if problem:
        return problem
    schedule.update(draft, updated_at=now())
    return JSONResponse(schedule_entity(call, schedule, detail=True))


async def delete_schedule(call: Call) -> Response:
    found = _schedule_in_path(call)
    if isinstance(found, Response):
        return found
    project, schedule = found
    owner = schedule["owner"]["id"] == call.user_id and _level(call, project) >= DEVELOPER
    if not owner and _level(call, project) < MAINTAINER:
        return forbidden()  # admin_pipeline_schedule
    call.world.table("pipeline_schedules").remove(schedule)
    return Response(status_code=204)


async def play_schedule(call: Call) -> Response:
    found = _schedule_in_path(call)
    if isinstance(found, Response):
        return found
    project, schedule = found
    if _level(call, project) < DEVELOPER:
        return forbidden()  # play_pipeline_schedule = create_pipeline
    ref = schedule["ref"].removeprefix("refs/heads/").removeprefix("refs/tags/")
    resolved = _resolve_ref(call.world, project, ref)
    if resolved is not None:  # PlayService queues the run; a bad ref fails later, unseen by the caller
        pipeline = new_pipeline(
            call.world, project, ref, resolved[0], tag=resolved[1], source="schedule", user_id=schedule["owner"]["id"]
        )
        schedule["_last_pipeline"] = pipeline["id"]
    return JSONResponse({"message": "201 Created"}, status_code=201)


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
        row |= {"next_run_at": _next_run(cron), "active": active, "created_at": "2024-04-01T09:00:00.000Z"}
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
