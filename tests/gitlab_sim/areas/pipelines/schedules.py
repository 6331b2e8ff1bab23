"""Pipeline schedules: list, get, create, update, delete and play (doc/api/pipeline_schedules.md)."""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import UTC, datetime, timedelta

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.pipelines.jobs import member_level, new_pipeline, next_id, resolve_ref
from tests.gitlab_sim.areas.pipelines.reads import Row
from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    bad_request,
    forbidden,
    invalid_param,
    invalid_value,
    missing_param,
    not_found,
    paginate,
)
from tests.gitlab_sim.world import DEVELOPER, MAINTAINER, REPORTER, World, now

CRON_FIELD = re.compile(
    r"\A(\*|\d{1,2}(-\d{1,2})?|[A-Za-z]{3})(/\d{1,2})?(,(\*|\d{1,2}(-\d{1,2})?|[A-Za-z]{3})(/\d{1,2})?)*\Z"
)


# ActiveSupport::TimeZone names are accepted beside IANA ones; a few of them will do here.
RAILS_ZONES = {"UTC", "Pacific Time (US & Canada)", "Eastern Time (US & Canada)", "London", "Berlin", "Paris", "Tokyo"}


# --- pipeline schedules ------------------------------------------------------------------------
SCHEDULE_LIST_FIELDS = ("id", "description", "ref", "cron", "cron_timezone", "next_run_at", "active")


SCHEDULE_LIST_FIELDS += ("created_at", "updated_at", "owner")


def _can_read_schedules(call: Call, project: Row) -> bool:
    return project["visibility"] == "public" or member_level(call, project) >= REPORTER


def schedule_entity(call: Call, schedule: Row, *, detail: bool) -> Row:
    out = {k: schedule[k] for k in SCHEDULE_LIST_FIELDS} | {"inputs": []}
    if detail:
        pipeline = next((p for p in call.world.table("pipelines") if p["id"] == schedule["_last_pipeline"]), None)
        out["last_pipeline"] = {k: pipeline[k] for k in ("id", "sha", "ref", "status")} if pipeline else None
        owner = schedule["owner"]["id"] == call.user_id
        if owner or member_level(call, call.world.projects[schedule["_project_id"]]) >= MAINTAINER:
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
    schedule["next_run_at"] = next_run(schedule["cron"])
    return None


@functools.cache
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _full_ref(world: World, project: Row, ref: str) -> str:
    """Short refs become refs/heads/… or refs/tags/…; unknown ones stay as given."""
    if ref.startswith("refs/"):
        return ref
    found = resolve_ref(world, project, ref)
    return ref if found is None else f"refs/{'tags' if found[1] else 'heads'}/{ref}"


def next_run(cron: str) -> str:
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
    if member_level(call, project) < DEVELOPER:
        return forbidden()  # create_pipeline_schedule
    rows, when = call.world.table("pipeline_schedules"), now()
    schedule = {"id": next_id(rows), "description": "", "ref": "", "cron": "", "cron_timezone": "UTC"}
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
    if schedule["owner"]["id"] != call.user_id or member_level(call, project) < DEVELOPER:
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
    owner = schedule["owner"]["id"] == call.user_id and member_level(call, project) >= DEVELOPER
    if not owner and member_level(call, project) < MAINTAINER:
        return forbidden()  # admin_pipeline_schedule
    call.world.table("pipeline_schedules").remove(schedule)
    return Response(status_code=204)


async def play_schedule(call: Call) -> Response:
    found = _schedule_in_path(call)
    if isinstance(found, Response):
        return found
    project, schedule = found
    if member_level(call, project) < DEVELOPER:
        return forbidden()  # play_pipeline_schedule = create_pipeline
    ref = schedule["ref"].removeprefix("refs/heads/").removeprefix("refs/tags/")
    resolved = resolve_ref(call.world, project, ref)
    if resolved is not None:  # PlayService queues the run; a bad ref fails later, unseen by the caller
        pipeline = new_pipeline(
            call.world, project, ref, resolved[0], tag=resolved[1], source="schedule", user_id=schedule["owner"]["id"]
        )
        schedule["_last_pipeline"] = pipeline["id"]
    return JSONResponse({"message": "201 Created"}, status_code=201)
