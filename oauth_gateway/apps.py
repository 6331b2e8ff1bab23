from __future__ import annotations

from django.apps import AppConfig


class OAuthGatewayConfig(AppConfig):
    name = "oauth_gateway"
    verbose_name = "OAuth gateway"

    def ready(self) -> None:
        from oauth_gateway import admin, checks  # noqa: F401  (checks registers the configuration checks)

        admin.install()
