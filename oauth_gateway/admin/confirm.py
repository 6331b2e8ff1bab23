"""The page every admin action shows before it acts: what will happen, with counts and names
("Revoke 3 connections of 2 users?"), and a button that posts the same action again, confirmed.

A list action is confirmed by posting back to the changelist (same filters) with the selected ids
made concrete, so "select all" across pages cannot grow between the question and the answer. An
object page's button posts to its own URL. Cancelling is a plain link back: nothing was changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.http import HttpRequest
from django.template.response import TemplateResponse

CONFIRMED = "confirmed"
SHOWN = 50  # rows named on the page; the rest are counted
# Ids posted back stay under Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1000) with the form's own
# fields; a bigger "select all" is posted back as "select all" of the same filtered list.
MAX_POSTED_IDS = 900


def confirmed(request: HttpRequest) -> bool:
    return request.POST.get(CONFIRMED) == "yes"


def count(n: int, noun: str) -> str:
    """'1 connection', '3 connections'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def confirmation(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    question: str,
    consequences: Iterable[str],
    objects: Iterable[Any],
    selected: Iterable[Any],
    button: str,
    back: str,
) -> TemplateResponse:
    """The confirmation page of the action being posted; `selected` are the ids it will act on and
    `back` the page Cancel returns to."""
    opts = model_admin.opts
    action = request.POST.get("action", "")
    listed = [str(obj) for obj in objects]
    ids = [str(pk) for pk in selected]
    across = len(ids) > MAX_POSTED_IDS
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": question,
        "question": question,
        "consequences": list(consequences),
        "objects": listed[:SHOWN],
        "total": len(listed),
        "more": max(0, len(listed) - SHOWN),
        "action": action,
        # Django runs a posted-back action only with a row ticked, select-all or not.
        "selected": ids[:1] if across else ids,
        "select_across": across,
        "checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "confirmed_field": CONFIRMED,
        "button": button,
        "post_url": request.get_full_path(),
        "back": back,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/oauth_gateway/confirm_action.html", context)
