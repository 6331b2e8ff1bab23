"""Who may use /admin/ when GitLab says so (ADMIN_GITLAB_USERS / ADMIN_GITLAB_GROUP): staff in one
group holding exactly what this admin needs, never superusers (a superuser could also edit users'
rights, tokens' tables and clients' security fields)."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission, User
from django.db.models import Q

from oauth_gateway.models import AuditEvent
from oauth_gateway.services.audit import audit

GROUP = "GitLab MCP admins"
# See connections, users and clients; revoke connections, disable or verify clients, register one; read the
# audit log; unlock an address or user locked out by django-axes.
PERMISSIONS = {
    "oauth_gateway": (
        "view_gitlabconnection",
        "change_gitlabconnection",
        "view_application",
        "add_application",
        "change_application",
        "view_auditevent",
        "view_gitlabidentity",
    ),
    "auth": ("view_user",),
    "axes": ("view_accessattempt", "delete_accessattempt"),
}


def admins_group() -> Group:
    """The group, its permissions brought up to date (apps add permissions as they migrate)."""
    group, _ = Group.objects.get_or_create(name=GROUP)
    wanted = Q()
    for app, codenames in PERMISSIONS.items():
        wanted |= Q(content_type__app_label=app, codename__in=codenames)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def admin_rights_set(user: User, admin: bool | None) -> None:
    """Grant or take back admin rights at every sign-in, as the GitLab settings say now (None: the
    settings name nobody, so rights are managed in the admin by hand)."""
    if admin is None:
        return
    group = admins_group()
    member = user.groups.filter(pk=group.pk).exists()
    if user.is_staff == admin and member == admin and not user.is_superuser:
        return
    user.is_staff, user.is_superuser = admin, False
    user.save(update_fields=["is_staff", "is_superuser"])
    if admin:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    audit(
        AuditEvent.Kind.ADMIN_GRANTED if admin else AuditEvent.Kind.ADMIN_REMOVED,
        user_id=user.pk,
        by=AuditEvent.Actor.GITLAB_IDENTITY,
    )
