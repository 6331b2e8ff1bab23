"""What a tool may send to GitLab: its declared routes (mcp_bridge.context), one path segment per
argument (gitlab.path_id), and the refusals, in process, against an httpx MockTransport.

The finding these guard against: delete_label(project="alice/notes", label="..") sent
DELETE /api/v4/projects/alice%2Fnotes/labels/.., which httpx turned into DELETE /projects/alice%2Fnotes.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from mcp.server.mcpserver.exceptions import ToolError

from mcp_bridge import context, gitlab
from mcp_bridge.audit_writer import tool_call_rows
from mcp_bridge.context import compile_routes
from mcp_bridge.errors import UnsafePathSegment
from mcp_bridge.gitlab import Credentials, GitLabClient
from mcp_bridge.paths import path_id, path_of
from mcp_bridge.registry import REGISTRY
from mcp_bridge.tools import labels_milestones
from oauth_gateway.models import AuditEvent

DOT_SEGMENTS = ["..", ".", "%2e%2E", ".%2e", "%2E.", "%252e%252e", " .. ", "a/../b", "..\\x", ""]
DOTTED_NAMES = ["v1.0", "a..b", ".gitlab-ci.yml", "...", "release/1.0", "..hidden"]


class GitLabSees:
    """Every request that reached the (mock) GitLab, as 'METHOD /raw/path' below /api/v4."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.raw_path.decode().split('?')[0].removeprefix('/api/v4')}")
        return httpx.Response(200, json=[] if request.method == "GET" else {"id": 1, "name": "bug"})


@pytest.fixture
def gitlab_sees(monkeypatch: pytest.MonkeyPatch) -> GitLabSees:
    """Tools called in process talk to a mock GitLab that records what reached it."""
    seen = GitLabSees()
    client = GitLabClient("https://gitlab.test/api/v4", transport=httpx.MockTransport(seen))
    monkeypatch.setattr(gitlab, "gitlab_client", lambda: client)
    monkeypatch.setattr(gitlab, "_static_credentials", lambda: Credentials("glpat-test"))
    return seen


def recording() -> list[context.CallRecord]:
    records: list[context.CallRecord] = []
    context.current_calls.set(records)  # this test's own context
    return records


# --- the route matcher -------------------------------------------------------------------------
def test_a_param_is_exactly_one_segment_and_never_a_dot_segment():
    routes = compile_routes(["DELETE /projects/:id/labels/:label_id", "GET /projects/:id"])
    assert routes.allows("DELETE", "/projects/alice%2Fnotes/labels/bug")
    assert routes.allows("DELETE", "/projects/1/labels/a..b")
    assert routes.allows("GET", "/projects/alice%2Fnotes?statistics=true")  # the query is not the route
    assert not routes.allows("DELETE", "/projects/alice%2Fnotes")  # GET only
    assert not routes.allows("GET", "/projects/alice/notes")  # two segments
    assert not routes.allows("DELETE", "/projects/1/labels/..")
    assert not routes.allows("DELETE", "/projects/1/labels/.")
    assert not routes.allows("DELETE", "/projects/1/labels/")
    assert not routes.allows("DELETE", "/projects/1/labels/bug/extra")


def test_a_wildcard_is_one_or_more_segments_none_of_them_dots():
    routes = compile_routes(["GET /projects/:id/jobs/:job_id/artifacts/*artifact_path"])
    assert routes.allows("GET", "/projects/1/jobs/7/artifacts/reports/junit.xml")
    assert routes.allows("GET", "/projects/1/jobs/7/artifacts/.gitlab-ci.yml")
    assert not routes.allows("GET", "/projects/1/jobs/7/artifacts")
    assert not routes.allows("GET", "/projects/1/jobs/7/artifacts/a/../../x")


def test_no_declared_route_allows_nothing():
    assert not compile_routes([]).allows("GET", "/user")


@pytest.mark.parametrize(
    "template", ["get /projects", "GET projects/:id", "GET /projects/:id?x=1", "FETCH /user", "GET /a/../b", "GET /"]
)
def test_a_malformed_template_fails_when_declared(template):
    with pytest.raises(ValueError, match="route"):
        compile_routes([template])


def test_every_tool_declares_its_routes():
    undeclared = sorted(name for name, spec in REGISTRY.items() if not spec.routes.templates)
    assert len(REGISTRY) == 235
    assert not undeclared, f"tools without routes=: {undeclared}"


# --- one segment per argument ------------------------------------------------------------------
@pytest.mark.parametrize("value", DOT_SEGMENTS)
def test_path_id_refuses_dot_segments_even_encoded(value):
    with pytest.raises(UnsafePathSegment):
        path_id(value)
    with pytest.raises(UnsafePathSegment):
        path_of(value)


@pytest.mark.parametrize("value", DOTTED_NAMES)
def test_names_with_dots_stay_one_segment(value):
    assert path_id(value) == value.replace("/", "%2F")
    assert path_of(value) == value


def test_path_of_keeps_slashes_but_refuses_dot_parts():
    assert path_of("/reports/junit.xml") == "reports/junit.xml"
    for value in ("a/../../x", "reports/%2e%2e/secret", "a//b", "./x"):
        with pytest.raises(UnsafePathSegment):
            path_of(value)


@pytest.mark.parametrize("path", ["/projects/1/labels/..", "/projects/1/labels/%2E%2e", "/projects/a%2F..%2Fb"])
async def test_the_client_refuses_a_dot_segment_whoever_built_the_path(path, gitlab_sees):
    with pytest.raises(UnsafePathSegment):
        await gitlab.gitlab_client().request("DELETE", path, Credentials("t"), what="x")
    assert gitlab_sees.sent == []


# --- enforcement while a tool runs -------------------------------------------------------------
async def test_an_undeclared_route_is_refused_and_recorded_as_denied(gitlab_sees, monkeypatch):
    # delete_label as the finding made it behave: its label segment gone, the project's path left.
    monkeypatch.setattr(labels_milestones, "_label", lambda project, label: f"/projects/{path_id(project)}")
    records = recording()
    with pytest.raises(ToolError, match=r"delete_label may not send DELETE /projects/alice%2Fnotes to GitLab"):
        await REGISTRY["delete_label"].fn(project="alice/notes", label="bug")
    assert gitlab_sees.sent == []
    [record] = records
    assert record.outcome == "denied"
    assert record.detail == {"refused": "undeclared route", "request": "DELETE /projects/alice%2Fnotes"}
    # Outside a tool (the OAuth code paths, a test's own client) nothing is enforced but dot segments.
    await gitlab.gitlab().delete("/projects/alice%2Fnotes", what="Project alice/notes")
    assert gitlab_sees.sent == ["DELETE /projects/alice%2Fnotes"]


async def test_a_tool_sends_what_it_declares(gitlab_sees):
    records = recording()
    result = await REGISTRY["delete_label"].fn(project="alice/notes", label="a..b")
    assert not result.is_error
    assert gitlab_sees.sent == ["DELETE /projects/alice%2Fnotes/labels/a..b"]
    assert records[0].outcome == "ok" and records[0].detail == {}


async def test_a_dot_segment_argument_is_refused_by_name(gitlab_sees):
    records = recording()
    with pytest.raises(ToolError, match=r"^Argument 'label' may not be '\.\.': a name that is empty"):
        await REGISTRY["delete_label"].fn(project="alice/notes", label="..")
    with pytest.raises(ToolError, match=r"^Arguments 'project' and 'sha' may not be '\.\.'"):
        await REGISTRY["get_commit"].fn(project="..", sha="..")
    assert gitlab_sees.sent == []
    assert [(r.outcome, r.detail) for r in records] == [
        ("denied", {"refused": "unsafe path", "arguments": ["label"]}),
        ("denied", {"refused": "unsafe path", "arguments": ["project", "sha"]}),
    ]


async def test_read_only_mode_refuses_a_write_operation_whatever_the_tool(gitlab_sees, settings):
    # Read-only mode also hides write tools; should one still run, its write is refused where it is sent.
    settings.GITLAB_READ_ONLY_MODE = True
    records = recording()
    with pytest.raises(ToolError, match=r"read-only, so delete_label may not send DELETE /projects/alice%2Fnotes/"):
        await REGISTRY["delete_label"].fn(project="alice/notes", label="bug")
    assert gitlab_sees.sent == []
    assert records[0].detail == {"refused": "read-only", "request": "DELETE /projects/alice%2Fnotes/labels/bug"}
    assert not (await REGISTRY["list_labels"].fn(project="alice/notes")).is_error  # reads still go
    assert gitlab_sees.sent == ["GET /projects/alice%2Fnotes/labels"]


@pytest.mark.django_db
def test_a_denied_call_is_audited_with_what_was_refused(gitlab_sees, monkeypatch):
    monkeypatch.setattr(labels_milestones, "_label", lambda project, label: f"/projects/{path_id(project)}")

    async def denied_call() -> list[context.CallRecord]:
        records = recording()
        with pytest.raises(ToolError):
            await REGISTRY["delete_label"].fn(project="alice/notes", label="bug")
        return records

    AuditEvent.objects.bulk_create(tool_call_rows(asyncio.run(denied_call()), caller=None, ip="192.0.2.1"))
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.TOOL_CALL)
    assert (event.tool, event.outcome, event.project) == ("delete_label", "denied", "alice/notes")
    assert event.detail == {"refused": "undeclared route", "request": "DELETE /projects/alice%2Fnotes"}
    assert "glpat-test" not in json.dumps(event.detail)
