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

from tests.gitlab_sim.areas.pipelines.jobs import (
    cancel_job,
    cancel_pipeline,
    create_pipeline,
    delete_pipeline,
    get_artifact_file,
    get_job,
    get_test_report_summary,
    list_pipeline_variables,
    new_pipeline,
    play_job,
    refresh_status,
    retry_job,
    retry_pipeline,
)
from tests.gitlab_sim.areas.pipelines.reads import get_job_trace, get_pipeline, list_pipeline_jobs, list_pipelines
from tests.gitlab_sim.areas.pipelines.schedules import (
    create_schedule,
    delete_schedule,
    get_schedule,
    list_schedules,
    play_schedule,
    update_schedule,
)
from tests.gitlab_sim.areas.pipelines.seeded import seed
from tests.gitlab_sim.http import Router

__all__ = ["new_pipeline", "refresh_status", "register", "seed"]


def register(router: Router) -> None:
    router.route("GET", "/projects/:id/pipelines")(list_pipelines)
    router.route("GET", "/projects/:id/pipelines/:pipeline_id")(get_pipeline)
    router.route("GET", "/projects/:id/pipelines/:pipeline_id/jobs")(list_pipeline_jobs)
    router.route("GET", "/projects/:id/jobs/:job_id/trace")(get_job_trace)
    register_ci(router)


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
