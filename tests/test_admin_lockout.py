"""The admin's password form is throttled (django-axes): five wrong passwords for one username from
one address lock that pair for an hour, the right password included, until an admin unlocks it
(README "Signing in as an admin"). In-process, on the OAuth-mode login page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("tests.oauth_urls"),
    pytest.mark.filterwarnings("ignore:No directory at"),  # STATIC_ROOT before collectstatic
]

PASSWORD = "correct horse battery staple"
ATTACKER, ELSEWHERE = "198.51.100.7", "203.0.113.9"


def log_in(password: str, address: str = ATTACKER) -> Any:
    form = {"username": "root", "password": password, "next": "/admin/"}
    return Client(REMOTE_ADDR=address).post("/admin/login/?next=/admin/", form)


def test_the_sixth_attempt_is_refused_even_with_the_right_password_until_unlocked() -> None:
    User.objects.create_superuser("root", "root@example.test", PASSWORD)
    for _ in range(5):
        assert log_in("a-wrong-guess").status_code in (200, 429)  # the form again; the 5th locks

    locked = log_in(PASSWORD)
    assert locked.status_code == 429 and "location" not in locked.headers
    assert log_in(PASSWORD, ELSEWHERE).status_code == 302  # username and address together: no lockout by others

    call_command("axes_reset_username", "root")
    unlocked = log_in(PASSWORD)
    assert unlocked.status_code == 302 and unlocked["location"] == "/admin/"
