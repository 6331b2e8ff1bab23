"""Simulated GitLab API: CI/CD configuration lint and pipeline inputs (doc/api/lint.md,
doc/ci/inputs/_index.md), and a runner that moves a pipeline's jobs along (doc/ci/runners).

Lint reads YAML as GitLab does: a syntax error, unknown job keywords, a stage that is not declared and a
config without a visible job are errors; `rules:when` without `workflow:rules` is a warning. Lint
answers 200 with `valid: false` for a bad config, never an HTTP error.

The runner is off: pipelines created through the API stay pending, as with no runner registered. A test
starts one for a pipeline with POST /_sim/runner {"pipeline_id", "step" (seconds), "fail": [job names]}:
from then on, each `step` runs the next job (pending -> running -> success or failed) in stage order,
read whenever the pipeline or its jobs are read. Manual jobs wait, as in GitLab.

acme/website (102) has a .gitlab-ci.yml with a `spec:inputs` header (environment, dry_run).
"""

from __future__ import annotations

import time
from typing import Any

import yaml
from starlette.responses import JSONResponse, Response

from tests.gitlab_sim.areas.projects import readable_project
from tests.gitlab_sim.areas.repository import resolve, tree_at
from tests.gitlab_sim.http import Call, Router, forbidden, not_found, param_error
from tests.gitlab_sim.world import DEVELOPER, REPORTER, World

SITE_CI = b"""spec:
  inputs:
    environment:
      default: staging
      options: [staging, production]
    dry_run:
      type: boolean
      default: false
---
stages: [build, deploy]

build:
  stage: build
  script:
    - make site

pages:
  stage: deploy
  script:
    - make publish ENV=$[[ inputs.environment ]]
  rules:
    - if: $CI_COMMIT_BRANCH == "main"
      when: always
"""
GLOBAL_KEYS = {"default", "include", "stages", "variables", "workflow", "image", "services", "cache"}
GLOBAL_KEYS |= {"before_script", "after_script"}
JOB_KEYS = {
    "after_script", "allow_failure", "artifacts", "before_script", "cache", "coverage", "dependencies",
    "environment", "except", "extends", "hooks", "id_tokens", "image", "inherit", "interruptible", "needs",
    "only", "pages", "parallel", "release", "resource_group", "retry", "rules", "script", "secrets", "services",
    "stage", "start_in", "tags", "timeout", "trigger", "variables", "when", "run", "identity",
}  # fmt: skip
DEFAULT_STAGES = [".pre", "build", "test", "deploy", ".post"]
RULES_WARNING = (
    "jobs:{name} may allow multiple pipelines to run for a single action due to `rules:when` clause with no "
    "`workflow:rules` - read more: https://docs.gitlab.com/ee/ci/troubleshooting.html#pipeline-warnings"
)


def register(router: Router) -> None:
    router.route("POST", "/projects/:id/ci/lint")(lint_content)
    router.route("GET", "/projects/:id/ci/lint")(lint_project)


def seed(world: World) -> None:
    for files in world.files.get(102, {}).values():
        files[".gitlab-ci.yml"] = SITE_CI


# --- lint ----------------------------------------------------------------------------------------
def _project(call: Call, level: int) -> dict[str, Any] | Response:
    """lib/api/lint.rb: POST needs :create_pipeline (Developer), GET :read_code (public code, or Reporter)."""
    project = readable_project(call)
    if project is None:
        return not_found("Project")
    public_code = level == REPORTER and project["visibility"] == "public"
    if call.world.access_level(call.user_id, project["id"]) < level and not public_code:
        return forbidden()
    return project


async def lint_content(call: Call) -> Response:
    """POST /projects/:id/ci/lint: lint `content` in the project's context (Developer: it may run it)."""
    project = _project(call, DEVELOPER)
    if isinstance(project, Response):
        return project
    content = call.arg("content")
    if not isinstance(content, str):
        return param_error("content is missing")
    return JSONResponse(lint(content, include_jobs=bool(call.flag("include_jobs"))))


async def lint_project(call: Call) -> Response:
    """GET /projects/:id/ci/lint: the project's .gitlab-ci.yml at `content_ref` (or `sha`), default branch."""
    project = _project(call, REPORTER)
    if isinstance(project, Response):
        return project
    ref = call.arg("content_ref") or call.arg("sha") or project.get("default_branch") or "HEAD"
    commit = resolve(call.world, project, ref)
    if commit is None:
        return JSONResponse({"valid": False, "errors": [f"Reference not found: {ref}"], "warnings": []})
    content = tree_at(call.world, project["id"], commit["id"]).get(".gitlab-ci.yml")
    if content is None:
        return JSONResponse({"valid": False, "errors": ["Please provide content of .gitlab-ci.yml"], "warnings": []})
    return JSONResponse(lint(content.decode(), include_jobs=bool(call.flag("include_jobs"))))


def _documents(content: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, config): a config may start with a `spec:` header document (doc/ci/yaml/_index.md#spec)."""
    docs = [d for d in yaml.safe_load_all(content)]
    if len(docs) == 2 and isinstance(docs[0], dict) and set(docs[0]) == {"spec"}:
        return docs[0], docs[1] if isinstance(docs[1], dict) else {}
    if len(docs) > 1:
        raise ValueError("Invalid configuration format")
    if docs and docs[0] is not None and not isinstance(docs[0], dict):
        raise ValueError("Invalid configuration format")
    return {}, docs[0] if docs else {}


def lint(content: str, *, include_jobs: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"valid": False, "errors": [], "warnings": [], "merged_yaml": None, "includes": None}
    try:
        _, config = _documents(content)
    except yaml.YAMLError as exc:
        result["errors"] = [f"(<unknown>): {str(exc).splitlines()[0]}"]
        return result
    except ValueError as exc:
        result["errors"] = [str(exc)]
        return result
    stages = config.get("stages", DEFAULT_STAGES)
    stages = [".pre", *[s for s in stages if s not in (".pre", ".post")], ".post"]
    jobs = {k: v for k, v in config.items() if k not in GLOBAL_KEYS}
    errors, warnings, found = [], [], []
    for name, job in jobs.items():
        if name.startswith("."):
            continue  # a hidden job (a template)
        if not isinstance(job, dict):
            errors.append(f"jobs:{name} config should be a hash")
            continue
        unknown = sorted(set(job) - JOB_KEYS)
        if unknown:
            errors.append(f"jobs:{name} config contains unknown keys: {', '.join(unknown)}")
        if not ({"script", "trigger", "extends", "run"} & set(job)):
            errors.append(f"jobs:{name} config should implement the script:, run:, or trigger: keyword")
        stage = job.get("stage", "test")
        if stage not in stages:
            errors.append(f"{name} job: chosen stage {stage} does not exist; available stages are {', '.join(stages)}")
        if any(isinstance(r, dict) and "when" in r for r in job.get("rules") or []) and "workflow" not in config:
            warnings.append(RULES_WARNING.format(name=name))
        found.append({"name": name, "stage": stage, "script": job.get("script"), "when": job.get("when", "on_success")})
    if not found and not errors:
        errors.append("jobs config should contain at least one visible job")
    result |= {"valid": not errors, "errors": errors, "warnings": warnings}
    if not errors:
        result |= {"merged_yaml": yaml.safe_dump(config, sort_keys=False), "includes": []}
    if include_jobs:
        result["jobs"] = found
    return result


# --- pipeline inputs -----------------------------------------------------------------------------
def input_errors(world: World, project: dict[str, Any], sha: str, inputs: Any) -> list[str]:
    """Errors of `inputs` against the spec:inputs header of .gitlab-ci.yml at `sha` (Ci::Inputs)."""
    if inputs is None:
        return []
    if not isinstance(inputs, dict):
        return ["inputs must be a hash"]
    content = tree_at(world, project["id"], sha).get(".gitlab-ci.yml")
    header: dict[str, Any] = {}
    if content is not None:
        try:
            header, _ = _documents(content.decode())
        except (yaml.YAMLError, ValueError):
            header = {}
    spec = (header.get("spec") or {}).get("inputs") or {}
    unknown = sorted(set(inputs) - set(spec))
    if unknown:
        return [f"unknown input arguments: {', '.join(unknown)}"]
    errors = []
    for name, rule in spec.items():
        rule = rule or {}
        if name not in inputs:
            if "default" not in rule:
                errors.append(f"`{name}` input: required value has not been provided")
            continue
        value, kind = inputs[name], rule.get("type", "string")
        if kind == "boolean" and not isinstance(value, bool):
            errors.append(f"`{name}` input: provided value is not a boolean")
        elif kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            errors.append(f"`{name}` input: provided value is not a number")
        elif kind == "string" and not isinstance(value, str):
            errors.append(f"`{name}` input: provided value is not a string")
        elif "options" in rule and value not in rule["options"]:
            errors.append(f"`{name}` input: `{value}` cannot be used because it is not in the list of allowed options")
    return errors


# --- the runner ----------------------------------------------------------------------------------
def start_runner(world: World, pipeline_id: int, step: float, fail: list[str] | None = None) -> None:
    world.extra.setdefault("runners", {})[pipeline_id] = {
        "step": float(step), "fail": set(fail or ()), "started": time.monotonic(), "done": 0,
    }  # fmt: skip


def advance(world: World, pipeline: dict[str, Any]) -> None:
    """Run the jobs a started runner has had time for since the pipeline was last read."""
    from tests.gitlab_sim.areas.pipelines import refresh_status

    runner = world.extra.get("runners", {}).get(pipeline["id"])
    if runner is None:
        return
    due = int((time.monotonic() - runner["started"]) / runner["step"])
    jobs = [j for j in world.table("jobs") if j["_pipeline_id"] == pipeline["id"] and not j["_retried"]]
    order = {stage: n for n, stage in enumerate(DEFAULT_STAGES)}
    jobs.sort(key=lambda j: (order.get(j["stage"], 2), j["id"]))
    while runner["done"] < due and _tick(jobs, runner["fail"]):
        runner["done"] += 1
    refresh_status(world, pipeline)


def _tick(jobs: list[dict[str, Any]], fail: set[str]) -> bool:
    """One runner step: finish the running job, else start the next waiting one. False when idle."""
    from tests.gitlab_sim.world import now

    for job in jobs:
        if job["status"] == "running":
            failed = job["name"] in fail
            job |= {"status": "failed" if failed else "success", "finished_at": now(), "duration": 1.0}
            job["failure_reason"] = "script_failure" if failed else None
            return True
    for job in jobs:
        if job["status"] in ("created", "pending"):
            job |= {"status": "running", "started_at": now(), "queued_duration": 0.5}
            return True
    return False
