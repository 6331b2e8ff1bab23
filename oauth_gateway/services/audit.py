"""The audit log: one cheap insert per event, never a secret in it."""

from __future__ import annotations

from typing import Any

from mcp_bridge.audit_writer import storable
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


def client_ip(request: Any) -> str | None:
    """The client's address: the peer's, or the one a trusted proxy forwarded (config.proxy)."""
    return request.META.get("REMOTE_ADDR") or None
