"""`python manage.py readme_tools`: regenerate the README's table of tools."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from mcp_bridge.catalog import update_readme


class Command(BaseCommand):
    help = "Rewrite the tool table in README.md from the registered tools."
    requires_system_checks = []  # type: ignore[assignment]  # runs without GitLab settings

    def handle(self, *args: Any, **options: Any) -> None:
        changed = update_readme(settings.BASE_DIR / "README.md")
        self.stdout.write("README.md updated" if changed else "README.md already current")
