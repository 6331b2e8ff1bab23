"""A job's artifacts and a pipeline's test report summary (doc/api/job_artifacts.md,
doc/api/pipelines.md#get-a-test-report-summary-for-a-pipeline)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_bridge.gitlab import gitlab
from mcp_bridge.params import ProjectRef, shared_parameters
from mcp_bridge.paths import path_of
from mcp_bridge.registry import READ, tool
from mcp_bridge.shaping import pick, text_window
from mcp_bridge.tools.pipelines.jobs import JobId, job_path
from mcp_bridge.tools.pipelines.runs import PipelineId, pipeline_path
from mcp_bridge.tools.repository import decode_text

ARTIFACT_FIELDS = ("file_type", "filename", "size", "file_format")
MAX_ARTIFACT_CHARS = 40_000  # per window, about 10k tokens


@tool(READ, "pipelines", routes=("GET /projects/:id/jobs/:job_id",))
async def list_job_artifacts(project: ProjectRef, job_id: JobId) -> dict[str, Any]:
    """List a job's artifacts (archive, reports, log) with sizes and expiry. Read a file inside the
    archive with get_job_artifact_file."""
    data = await gitlab().get(job_path(project, job_id), what=f"Job {job_id} in {project}")
    artifacts = [pick(a, ARTIFACT_FIELDS) for a in data.get("artifacts") or []]
    return {"job_id": job_id, "artifacts": artifacts, "artifacts_expire_at": data.get("artifacts_expire_at")}


@tool(READ, "pipelines", routes=("GET /projects/:id/jobs/:job_id/artifacts/*artifact_path",))
@shared_parameters(text_window, after="max_chars")
async def get_job_artifact_file(
    project: ProjectRef,
    job_id: JobId,
    artifact_path: Annotated[
        str, Field(description="Path inside the archive, e.g. 'reports/junit.xml'.", min_length=1)
    ],
    **reading: Any,
) -> dict[str, Any]:
    """Read one file from a job's artifacts archive. Text comes as a window of lines with total_lines and
    a hint to read on; binary files give metadata only."""
    # *artifact_path is a wildcard route: its slashes stay (doc/api/job_artifacts.md).
    response = await gitlab().raw(
        f"{job_path(project, job_id)}/artifacts/{path_of(artifact_path)}",
        what=f"Artifact {artifact_path} of job {job_id} in {project}",
    )
    raw, found = response.content, {"job_id": job_id, "artifact_path": artifact_path, "size": len(response.content)}
    text = decode_text(raw)
    if text is None:
        content_type = response.headers.get("content-type", "application/octet-stream")
        return {**found, "binary": True, "content_type": content_type, "hint": "Binary file: content not shown."}
    window = text_window(text, MAX_ARTIFACT_CHARS, **reading)
    return {**found, "binary": False, **window}


SUITE_FIELDS = ("name", "total_count", "success_count", "failed_count", "skipped_count", "error_count", "total_time")


@tool(READ, "pipelines", routes=("GET /projects/:id/pipelines/:pipeline_id/test_report_summary",))
async def get_pipeline_test_report_summary(project: ProjectRef, pipeline_id: PipelineId) -> dict[str, Any]:
    """Test totals of a pipeline from its JUnit reports: count, passed, failed, skipped, errors, time,
    per suite (one per job, with build_ids). Read a job's report with get_job_artifact_file."""
    data = await gitlab().get(
        f"{pipeline_path(project, pipeline_id)}/test_report_summary",
        what=f"Test report of pipeline {pipeline_id} in {project}",
    )
    suites = [pick(s, (*SUITE_FIELDS, "build_ids", "suite_error")) for s in data.get("test_suites") or []]
    return {"pipeline_id": pipeline_id, "total": data.get("total"), "test_suites": suites}
