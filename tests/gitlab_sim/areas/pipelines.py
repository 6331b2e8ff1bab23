"""Simulated GitLab API: pipelines and jobs (doc/api/pipelines.md, doc/api/jobs.md).

Rows: "pipelines" hold the Pipeline entity as GitLab returns it; "jobs" hold the Job entity plus private
keys (`_project_id`, `_pipeline_id`, `_retried`) that are never sent. Logs live in
`world.extra["job_traces"]` (job id -> raw runner output); a job without one has no log yet.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import Call, Router, invalid_param, invalid_value, not_found, paginate
from tests.gitlab_sim.world import SIM_URL, World

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
)
# (id, pipeline id, name, stage, status, extra)
JOBS: tuple[tuple[int, int, str, str, str, dict[str, Any]], ...] = (
    (5001, 501, "compile", "build", "success", {}),
    (5002, 501, "rspec", "test", "success", {"coverage": 87.5}),
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
