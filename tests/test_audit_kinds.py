"""AuditEvent.Kind and AuditEvent.Actor: the stored values are the audit trail's vocabulary, so
existing rows keep their meaning only while no value changes."""

from __future__ import annotations

from oauth_gateway.models import AuditEvent

STORED_KINDS = {
    "signin.started", "signin.completed", "signin.failed", "signin.abandoned", "signin.switched",
    "browser.signin", "browser.signout", "admin.granted", "admin.removed",
    "consent.given", "consent.denied", "connection.revoked", "user.sessions_revoked",
    "token.issued", "token.refreshed", "token.refused", "token.revoked",
    "code.replay_detected", "refresh.reuse_detected", "gitlab.refreshed", "gitlab.refresh_failed",
    "client.registered", "client.read", "client.updated", "client.renamed", "client.unregistered",
    "client.management_refused", "client.disabled", "client.enabled", "client.verified", "client.unverified",
    "tool.call", "maintenance.pruned",
}  # fmt: skip

STORED_ACTORS = {
    "admin", "self_service", "command", "gitlab_identity", "gitlab_refused_refresh",
    "code_replay", "refresh_reuse", "rfc7592_delete", "rfc7592_rename",
}  # fmt: skip


def test_every_kind_keeps_its_stored_value():
    assert set(AuditEvent.Kind.values) == STORED_KINDS


def test_every_actor_keeps_its_stored_value():
    assert set(AuditEvent.Actor.values) == STORED_ACTORS


def test_a_kind_fits_the_column():
    assert max(len(kind) for kind in AuditEvent.Kind.values) <= AuditEvent._meta.get_field("kind").max_length


def test_the_audit_rows_store_the_plain_values(db):
    from oauth_gateway.services.audit import audit

    audit(AuditEvent.Kind.CONNECTION_REVOKED, by=AuditEvent.Actor.SELF_SERVICE)
    row = AuditEvent.objects.values("kind", "detail").get()
    assert row == {"kind": "connection.revoked", "detail": {"by": "self_service"}}
    assert type(row["kind"]) is str and type(row["detail"]["by"]) is str
