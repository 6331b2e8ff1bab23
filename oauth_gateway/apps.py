from __future__ import annotations

from django.apps import AppConfig


class OAuthGatewayConfig(AppConfig):
    name = "oauth_gateway"
    verbose_name = "OAuth gateway"

    def ready(self) -> None:
        from oauth_gateway import checks  # noqa: F401  (registers the configuration checks)
