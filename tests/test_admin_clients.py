"""Registering a client by hand in the admin: no secret is ever shown, no risky field is offered."""

from __future__ import annotations

import pytest

from oauth_gateway.models import Application
from tests.test_admin import CLIENTS, gateway  # noqa: F401  (gateway: the admin tests' settings)

pytestmark = pytest.mark.filterwarnings("ignore:No directory at")  # STATIC_ROOT before collectstatic


def test_an_admin_registers_a_client_without_ever_seeing_a_secret(admin_client, db):
    form = {"name": "Team bot", "client_type": "confidential", "authorization_grant_type": "authorization-code"}
    form |= {"redirect_uris": "https://bot.example.com/callback", "skip_authorization": "on"}
    response = admin_client.post(f"{CLIENTS}add/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    client = Application.objects.get(name="Team bot")
    assert client.registration_source == "manual" and client.client_secret  # stored hashed
    page = admin_client.get(f"{CLIENTS}{client.pk}/change/").content.decode()
    assert "Manual" in page and client.client_secret[:24] not in page and "•••" in page
    assert not client.skip_authorization  # the field is not in the form: a forged one is ignored
    add_page = admin_client.get(f"{CLIENTS}add/").content.decode()
    for risky in ("skip_authorization", "algorithm", 'value="password"', 'value="implicit"', "client-credentials"):
        assert risky not in add_page, risky
    assert (
        'value="authorization-code"' in add_page and 'value="urn:ietf:params:oauth:grant-type:device_code"' in add_page
    )
