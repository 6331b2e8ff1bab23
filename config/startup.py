"""Refuse to serve with a broken configuration, whatever started the process."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def assert_configured() -> None:
    """Run the system checks (as `manage.py` does) and stop on errors, naming each variable."""
    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if errors:
        lines = "\n".join(f"  {m.msg}\n    {m.hint or ''}" for m in errors)
        raise ImproperlyConfigured(f"gitlab-mcp cannot start:\n{lines}")
