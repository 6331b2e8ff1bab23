"""Refuse to serve with a broken configuration, whatever started the process."""

from __future__ import annotations

import sys

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def daphne_argv(host: str, port: int) -> list[str]:
    """How Daphne is started, by `manage.py serve` and by the tests alike: config.serving, which adds
    the graceful stop and keeps Daphne's access log off (it prints query strings, which carry
    authorization codes; config.asgi logs requests without them)."""
    return [sys.executable, "-m", "config.serving", host, str(port)]


def assert_configured() -> None:
    """Run the system checks (as `manage.py` does) and stop on errors, naming each variable."""
    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if errors:
        lines = "\n".join(f"  {m.msg}\n    {m.hint or ''}" for m in errors)
        raise ImproperlyConfigured(f"gitlab-mcp cannot start:\n{lines}")
