"""The audit log: one cheap insert per event, never a secret in it."""

from __future__ import annotations

from typing import Any

from oauth_gateway.models import AuditEvent


def audit(
    kind: AuditEvent.Kind,
    *,
    user_id: int | None = None,
    application_id: int | None = None,
    connection_id: int | None = None,
    ip: str | None = None,
    outcome: str = "ok",
    **detail: Any,
) -> AuditEvent:
    """Record `kind` (an AuditEvent.Kind); `detail` holds small, non-secret facts."""
    fields = {k: storable(detail.pop(k)) for k in ("tool", "project", "gitlab_status", "duration_ms") if k in detail}
    return AuditEvent.objects.create(
        kind=kind,
        user_id=user_id,
        application_id=application_id,
        connection_id=connection_id,
        ip=ip,
        outcome=outcome,
        detail=storable(detail),
        **{k: v for k, v in fields.items() if v is not None},
    )


def storable(value: Any) -> Any:
    """`value` with every NUL character replaced (U+FFFD): PostgreSQL's text and jsonb cannot hold
    one, and a client's input recorded as it came (a refused grant_type, a tool's project) must
    never turn the audit insert, and with it the request, into an error."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def client_ip(request: Any) -> str | None:
    """The client's address: the peer's, or the one a trusted proxy forwarded (config.proxy)."""
    return request.META.get("REMOTE_ADDR") or None


def audit_tool_calls(calls: list[Any], *, caller: Any, ip: str | None, acting_as: str | None = None) -> None:
    """One row per tool call of an MCP request, in one insert."""
    AuditEvent.objects.bulk_create(tool_call_rows(calls, caller=caller, ip=ip, acting_as=acting_as))


def tool_call_rows(calls: list[Any], *, caller: Any, ip: str | None, acting_as: str | None = None) -> list[AuditEvent]:
    """The audit rows of an MCP request's tool calls; a denied call's detail says why (e.g.
    {"refused": "undeclared route", "request": "DELETE /projects/alice%2Fnotes"}). In static-token
    mode `acting_as` is the GitLab user of GITLAB_TOKEN, kept as detail.gitlab_user."""
    extra = {"gitlab_user": acting_as} if acting_as else {}
    return [
        AuditEvent(
            kind=AuditEvent.Kind.TOOL_CALL,
            user_id=caller.user_id if caller else None,
            application_id=caller.application_id if caller else None,
            connection_id=caller.connection_id if caller else None,
            ip=ip,
            outcome=call.outcome,
            tool=storable(call.tool),
            project=storable(call.project),
            gitlab_status=call.gitlab_status,
            duration_ms=call.duration_ms,
            detail=storable({**call.detail, **extra}),
        )
        for call in calls
    ]
