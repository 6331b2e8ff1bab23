"""Changing pipelines and jobs: create, retry, cancel, delete; a job's retry, cancel and play; artifacts and
the test report summary (doc/api/pipelines.md, doc/api/jobs.md, doc/api/job_artifacts.md)."""

from __future__ import annotations

import mimetypes
from xml.etree import ElementTree

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas import ci
from tests.gitlab_sim.areas.pipelines.reads import FINISHED, Row, find_pipeline, job_row, render_job
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    error,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import DEVELOPER, OWNER, World, now

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


def member_level(call: Call, project: Row) -> int:
    return call.world.access_level(call.user_id, project["id"])


def next_id(rows: list[Row]) -> int:
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
    if member_level(call, project) < level:
        return forbidden()
    return project, pipeline


def _job_in_path(call: Call, level: int = 0) -> tuple[Row, Row] | Response:
    """(project, job); the role is checked first, as authorize_update_builds! does."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if not call.params["job_id"].isdigit():
        return invalid_param("job_id")
    if member_level(call, project) < level:
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


def resolve_ref(world: World, project: Row, ref: str) -> tuple[str, bool] | None:
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
    pid = next_id(rows)
    iid = 1 + max((p["iid"] for p in rows if p["project_id"] == project["id"]), default=0)
    pipeline = {"id": pid, "iid": iid, "project_id": project["id"], "name": "Build pipeline", "sha": sha, "ref": ref}
    pipeline |= {"status": "pending", "source": source, "created_at": when, "updated_at": when}
    pipeline |= {"web_url": f"{project['web_url']}/-/pipelines/{pid}", "before_sha": "0" * 40, "tag": tag}
    pipeline |= {"yaml_errors": None, "user": world.user_ref(user_id), "started_at": None, "finished_at": None}
    pipeline |= {"committed_at": None, "duration": None, "queued_duration": None, "coverage": None}
    rows.append(pipeline)
    for name, stage, status, extra in NEW_PIPELINE_JOBS:
        job = job_row(world, next_id(world.table("jobs")), pid, name, stage, status, extra)
        world.table("jobs").append(job | {"created_at": when})
    return pipeline


async def create_pipeline(call: Call) -> Response:
    ref = call.arg("ref")
    if ref is None:
        return missing_param("ref")
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if member_level(call, project) < DEVELOPER:
        return forbidden()
    variables = call.body.get("variables") or []
    if not isinstance(variables, list) or not all(isinstance(v, dict) for v in variables):
        return invalid_param("variables")
    for n, var in enumerate(variables):
        if var.get("variable_type", "env_var") not in VARIABLE_TYPES:
            return invalid_value(f"variables[{n}][variable_type]")
    found = resolve_ref(call.world, project, str(ref))
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
    new_id = next_id(jobs)
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
    if member_level(call, project) < DEVELOPER:
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
