"""Users: who the caller is in GitLab."""

from __future__ import annotations

from typing import Any

from mcp_bridge.toolkit import READ, gitlab, pick, tool

USER_FIELDS = ("id", "username", "name", "state", "email", "web_url", "is_admin", "bot", "created_at")


@tool(READ, "users")
async def get_current_user() -> dict[str, Any]:
    """Who you are in GitLab: id, username, name and email of the account the tools act as.
    Use it to resolve "me" before filtering issues or merge requests by author or assignee."""
    return pick(await gitlab().get("/user", what="The current user"), USER_FIELDS)
