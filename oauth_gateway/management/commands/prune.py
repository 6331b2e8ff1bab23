"""`python manage.py prune [--audit-older-than 90d] [--dry-run]`: delete what can no longer be used.

Expired authorization codes; expired sign-ins (and failed ones after an hour, once their page has
shown the failure); MCP tokens that can never work again, following django-oauth-toolkit's own
`cleartokens` rules so a live connection is never cut; audit rows older than the horizon, and connections
ended before it that no remaining audit row points at. Prints what it removed (or would remove),
and records the pruning in the audit log.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from oauth_gateway.models import AccessToken, AuditEvent, GitLabConnection, Grant, PendingSignIn, RefreshToken
from oauth_gateway.services.audit import audit

AGE = re.compile(r"(\d+)([dh])")
FAILED_KEPT = timedelta(hours=1)  # a failed sign-in's page may still be polling for its status


def parse_age(raw: str) -> timedelta:
    """ "90d" or "12h"."""
    match = AGE.fullmatch(raw.strip().lower())
    if match is None:
        raise CommandError(f"--audit-older-than must be a number of days or hours such as 90d or 12h, got {raw!r}.")
    number, unit = int(match.group(1)), match.group(2)
    return timedelta(days=number) if unit == "d" else timedelta(hours=number)


def prunable(horizon: timedelta) -> list[tuple[str, QuerySet[Any]]]:
    """What pruning removes, in a safe order (audit rows before the connections they point at)."""
    now = timezone.now()
    # A refresh token lives OAUTH_REFRESH_TOKEN_TTL after its access token expired; a revoked one is
    # kept as long, since reuse detection needs to recognise it (DOT's clear_expired, same rules).
    refresh_dead = now - timedelta(seconds=settings.OAUTH_REFRESH_TOKEN_TTL)
    failed = Q(status=PendingSignIn.Status.FAILED, created__lt=now - FAILED_KEPT)
    refresh = RefreshToken.objects.filter(
        Q(revoked__lt=refresh_dead)
        | Q(revoked__isnull=True, access_token__isnull=True)  # orphans: nothing to refresh
        | Q(revoked__isnull=True, access_token__expires__lt=refresh_dead)
    )
    # An expired access token stays while its refresh token lives: the refresh needs it.
    access = AccessToken.objects.filter(Q(refresh_token__isnull=True) | Q(refresh_token__in=refresh), expires__lt=now)
    # A connection the audit trail still points at stays (on_delete=PROTECT): rows newer than the horizon
    # survive this run, older ones are deleted just before.
    cited = AuditEvent.objects.filter(connection=OuterRef("pk"), created__gte=now - horizon)
    return [
        ("audit events", AuditEvent.objects.filter(created__lt=now - horizon)),
        ("ended connections", GitLabConnection.objects.filter(~Exists(cited), revoked__lt=now - horizon)),
        ("authorization codes", Grant.objects.filter(expires__lt=now)),
        ("pending sign-ins", PendingSignIn.objects.filter(Q(expires__lt=now) | failed)),
        ("refresh tokens", refresh),
        ("access tokens", access),
    ]


class Command(BaseCommand):
    help = "Delete expired codes, sign-ins and tokens, connections ended long ago, and old audit rows."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--audit-older-than",
            default="90d",
            help="Delete audit rows, and connections ended, longer ago than this (Nd or Nh; default 90d).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        horizon = parse_age(options["audit_older_than"])
        dry_run = options["dry_run"]
        removed: dict[str, int] = {}
        for label, queryset in prunable(horizon):
            removed[label] = queryset.count() if dry_run else queryset.delete()[1].get(queryset.model._meta.label, 0)
        verb = "Would delete" if dry_run else "Deleted"
        for label, count in removed.items():
            self.stdout.write(f"{verb} {count} {label}")
        if not dry_run:
            audit(AuditEvent.Kind.MAINTENANCE_PRUNED, horizon=options["audit_older_than"], removed=removed)
