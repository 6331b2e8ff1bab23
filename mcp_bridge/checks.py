"""Configuration checks of the MCP tool settings: a bad value stops start-up with a message naming
the variable (oauth_gateway.checks has the rest; the ids kept their oauth_gateway. prefix, which the
README's Troubleshooting section and operators' notes cite)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.compatibility)
def check_tool_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    return _denied_tools_problems() + _toolset_problems()


def _denied_tools_problems() -> list[Error | Warning]:
    if not settings.GITLAB_DENIED_TOOLS_REGEX:
        return []
    try:
        re.compile(settings.GITLAB_DENIED_TOOLS_REGEX)
    except re.error as exc:
        return [
            Error(
                f"GITLAB_DENIED_TOOLS_REGEX is not a valid regular expression: {exc}.",
                hint="Use a Python regular expression such as ^(delete_|create_).",
                id="oauth_gateway.E004",
            )
        ]
    return []


def _toolset_problems() -> list[Error | Warning]:
    from mcp_bridge.toolsets import TOOLSETS

    unknown = [name for name in settings.GITLAB_TOOLSETS if name not in TOOLSETS and name not in ("all", "default")]
    if not unknown:
        return []
    return [
        Error(
            f"GITLAB_TOOLSETS names unknown toolsets: {', '.join(unknown)}.",
            hint=f"Use 'default', 'all' or a comma-separated list of: {', '.join(TOOLSETS)}.",
            id="oauth_gateway.E005",
        )
    ]
