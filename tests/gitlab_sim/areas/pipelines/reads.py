"""Reading pipelines and jobs: list and get pipelines, a pipeline's jobs, a job's log (doc/api/pipelines.md,
doc/api/jobs.md); the pipeline and job rows as GitLab shows them."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response

from tests.gitlab_sim.areas import ci
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    invalid_param,
    invalid_value,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import SIM_URL, World

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


FINISHED = {"success", "failed", "canceled", "skipped"}


def job_row(
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
