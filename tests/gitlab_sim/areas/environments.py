"""Simulated GitLab API: environments and deployments (doc/api/environments.md, doc/api/deployments.md).

Rows: "environments" hold Entities::Environment plus private keys (`_project_id`, `_on_stop`: the
environment has an on_stop job, so stopping it leaves it "stopping" until that job runs);
"deployments" hold Entities::Deployment plus `_project_id`. Seed: acme/app has production, staging,
review/feature-login (with an on_stop job) and the stopped review/fix-typo, and six deployments;
acme/website has production; bob/secret has production (hidden from alice).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.http import (
    Call,
    Router,
    bad_request,
    forbidden,
    invalid_param,
    invalid_value,
    not_found,
    paginate,
    param_error,
)
from tests.gitlab_sim.world import DEVELOPER, REPORTER, World

STATES = ("available", "stopping", "stopped")  # Environment.valid_states
DEPLOYMENT_STATUSES = ("created", "running", "success", "failed", "canceled", "skipped", "blocked")
DEPLOYMENT_ORDERS = ("id", "iid", "created_at", "updated_at", "finished_at", "ref")  # DeploymentsFinder
MIN_SEARCH_LENGTH = 3


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/environments")(list_environments)
    router.route("GET", "/projects/:id/environments/:environment_id")(get_environment)
    router.route("POST", "/projects/:id/environments/:environment_id/stop")(stop_environment)
    router.route("GET", "/projects/:id/deployments")(list_deployments)
    router.route("GET", "/projects/:id/deployments/:deployment_id")(get_deployment)


# --- rules ---------------------------------------------------------------------------------------
def environments_project(call: Call) -> dict[str, Any] | Response:
    """read_environment / read_deployment: anyone on a public project, reporters and up otherwise."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    if project["visibility"] != "public" and call.world.access_level(call.user_id, project["id"]) < REPORTER:
        return forbidden()
    return project


def public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def _rows(world: World, kind: str, project: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in world.table(kind) if r["_project_id"] == project["id"]]


def _find(call: Call, kind: str, key: str, project: dict[str, Any]) -> dict[str, Any] | Response:
    if not call.params[key].isdigit():
        return invalid_param(key)
    row = next((r for r in _rows(call.world, kind, project) if r["id"] == int(call.params[key])), None)
    return row if row is not None else not_found()  # ActiveRecord::RecordNotFound: "404 Not found"


# --- environments --------------------------------------------------------------------------------
async def list_environments(call: Call) -> Response:
    name, search, states = call.arg("name"), call.arg("search"), call.arg("states")
    if name is not None and search is not None:
        return param_error("name, search cannot be used together")
    if states is not None and states not in STATES:
        return invalid_value("states")
    project = environments_project(call)
    if isinstance(project, Response):
        return project
    if search and len(search) < MIN_SEARCH_LENGTH:
        return bad_request(f"400 Bad request - Search query is less than {MIN_SEARCH_LENGTH} characters")
    rows = _rows(call.world, "environments", project)
    if name is not None:
        rows = [e for e in rows if e["name"] == name]
    if search:
        rows = [e for e in rows if e["name"].lower().startswith(search.lower())]  # Environment.for_name_like
    if states:
        rows = [e for e in rows if e["state"] == states]
    return paginate(call, [public(e) for e in rows])


async def get_environment(call: Call) -> Response:
    project = environments_project(call)
    if isinstance(project, Response):
        return project
    environment = _find(call, "environments", "environment_id", project)
    if isinstance(environment, Response):
        return environment
    return JSONResponse({**public(environment), "last_deployment": last_deployment(call.world, environment)})


def last_deployment(world: World, environment: dict[str, Any]) -> dict[str, Any] | None:
    """Environment#last_deployment: its latest successful deployment."""
    done = [d for d in world.table("deployments") if d["environment"]["id"] == environment["id"]]
    done = [d for d in done if d["status"] == "success"]
    return public(max(done, key=lambda d: d["id"])) if done else None


async def stop_environment(call: Call) -> Response:
    project = environments_project(call)
    if isinstance(project, Response):
        return project
    environment = _find(call, "environments", "environment_id", project)
    if isinstance(environment, Response):
        return environment
    if call.world.access_level(call.user_id, project["id"]) < DEVELOPER:
        return forbidden()  # authorize! :stop_environment
    if environment["state"] != "available":
        # Environments::StopService: the state machine has no transition out of stopping/stopped.
        return bad_request("400 Bad request - Attempted to stop the environment but failed to change the status")
    # An on_stop job runs first (state "stopping"); force skips it (doc/api/environments.md#stop-an-environment).
    environment["state"] = "stopping" if environment["_on_stop"] and not call.flag("force") else "stopped"
    environment["updated_at"] = "2024-06-01T12:00:00.000Z"
    return JSONResponse(public(environment))


# --- deployments ---------------------------------------------------------------------------------
async def list_deployments(call: Call) -> Response:
    order, sort, status = call.arg("order_by", "id"), call.arg("sort", "asc"), call.arg("status")
    for key, value, allowed in (("order_by", order, DEPLOYMENT_ORDERS), ("sort", sort, ("asc", "desc"))):
        if value not in allowed:
            return invalid_value(key)
    if status is not None and status not in DEPLOYMENT_STATUSES:
        return invalid_value("status")
    project = environments_project(call)
    if isinstance(project, Response):
        return project
    if order == "finished_at":
        # DeploymentsFinder#validate! (the finished_after/before filters are not simulated).
        return bad_request("400 Bad request - `finished_at` filter and `finished_at` sorting must be paired")
    rows = _rows(call.world, "deployments", project)
    if environment := call.arg("environment"):
        rows = [d for d in rows if d["environment"]["name"] == environment]
    if status:
        rows = [d for d in rows if d["status"] == status]
    rows.sort(key=lambda d: (d[order], d["id"]), reverse=sort == "desc")
    return paginate(call, [public(d) for d in rows])


async def get_deployment(call: Call) -> Response:
    project = environments_project(call)
    if isinstance(project, Response):
        return project
    deployment = _find(call, "deployments", "deployment_id", project)
    if isinstance(deployment, Response):
        return deployment
    return JSONResponse(public(deployment))


# --- seed ----------------------------------------------------------------------------------------
# (id, project id, name, tier, state, external url, has an on_stop job)
ENVIRONMENTS = (
    (701, 101, "production", "production", "available", "https://app.acme.example", False),
    (702, 101, "staging", "staging", "available", "https://staging.app.acme.example", False),
    (703, 101, "review/feature-login", "development", "available", "https://feature-login.review.acme.example", True),
    (704, 101, "review/fix-typo", "development", "stopped", None, True),
    (711, 102, "production", "production", "available", "https://www.acme.example", False),
    (721, 104, "production", "production", "available", "https://secret.bob.example", False),
)
# (id, environment id, iid, ref, status, user id, day of May 2024, the job that deployed it)
DEPLOYMENTS = (
    (801, 701, 1, "v1.0.0", "success", 1, 11, 5401),
    (802, 702, 2, "main", "success", 2, 12, None),
    (803, 703, 3, "feature/login", "success", 2, 13, None),
    (804, 701, 4, "main", "failed", 1, 14, None),
    (805, 702, 5, "main", "running", 1, 15, None),
    (806, 704, 6, "fix/typo", "success", 2, 16, None),
    (811, 711, 1, "main", "success", 1, 11, None),
    (821, 721, 1, "main", "success", 2, 11, None),
)


def seed(world: World) -> None:
    for eid, pid, name, tier, state, url, on_stop in ENVIRONMENTS:
        slug, full_path = name.replace("/", "-"), world.projects[pid]["path_with_namespace"]
        world.table("environments").append(
            {
                "id": eid,
                "name": name,
                "slug": slug,
                "description": None,
                "external_url": url,
                "state": state,
                "tier": tier,
                "created_at": "2024-04-01T09:00:00.000Z",
                "updated_at": "2024-05-16T09:00:00.000Z" if state == "stopped" else "2024-04-01T09:00:00.000Z",
                "enable_advanced_logs_querying": False,
                "logs_api_path": f"/{full_path}/-/logs/k8s.json?environment_name={slug}",
                "auto_stop_at": None,
                "kubernetes_namespace": None,
                "flux_resource_path": None,
                "auto_stop_setting": "always",
                "_project_id": pid,
                "_on_stop": on_stop,
            }
        )
    for did, eid, iid, ref, status, user_id, day, job_id in DEPLOYMENTS:
        world.table("deployments").append(_deployment(world, did, eid, iid, ref, status, user_id, day, job_id))


def _deployment(
    world: World, did: int, eid: int, iid: int, ref: str, status: str, user_id: int, day: int, job_id: int | None
) -> dict[str, Any]:
    environment = next(e for e in world.table("environments") if e["id"] == eid)
    pid = environment["_project_id"]
    deployable = _deployable(world, job_id)
    commits = [c for c in world.rows.get("commits", []) if c["project_id"] == pid]
    sha = deployable["pipeline"]["sha"] if deployable else commits[-1]["id"] if commits else f"{did:040d}"
    return {
        "id": did,
        "iid": iid,
        "ref": ref,
        "sha": sha,
        "created_at": f"2024-05-{day:02d}T10:00:00.000Z",
        "updated_at": f"2024-05-{day:02d}T10:05:00.000Z",
        "status": status,
        "user": world.user_ref(user_id),
        "environment": {"id": eid, "name": environment["name"], "external_url": environment["external_url"]},
        "deployable": deployable,
        "_project_id": pid,
    }


def _deployable(world: World, job_id: int | None) -> dict[str, Any] | None:
    """The job that deployed (Entities::Ci::Job), or null for a deployment created through the API."""
    job = next((j for j in world.rows.get("jobs", []) if j["id"] == job_id), None)
    if job is None:
        return None
    pipeline = next((p for p in world.rows.get("pipelines", []) if p["id"] == job["_pipeline_id"]), {})
    keys = ("id", "project_id", "sha", "ref", "status", "source", "created_at", "updated_at", "web_url")
    return {**{k: v for k, v in job.items() if not k.startswith("_")}, "pipeline": {k: pipeline.get(k) for k in keys}}
