from __future__ import annotations

import warnings

from django.apps import AppConfig


class ServerConfig(AppConfig):
    """The project itself, as an app: what must happen once Django is set up, before any request."""

    name = "config"
    verbose_name = "gitlab-mcp server"

    def ready(self) -> None:
        # WhiteNoise warns that STATIC_ROOT is missing until collectstatic has run (local runs);
        # WHITENOISE_USE_FINDERS serves the admin's assets meanwhile.
        warnings.filterwarnings("ignore", message="No directory at")
