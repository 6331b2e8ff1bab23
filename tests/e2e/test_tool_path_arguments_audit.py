"""delete_label(project="alice/notes", label="..") once deleted the project alice/notes: through a real
server, the refusal is audited as denied, naming the argument (tests/test_tool_path_arguments.py has
the rest, in process)."""

from __future__ import annotations

import json

from tests.harness import server_rows


async def test_delete_label_dot_dot_leaves_the_project_alone(mcp, sim, server, text_of):
    result = await mcp.call("delete_label", project="alice/notes", label="..")
    assert result.is_error
    assert "Argument 'label' may not be '..'" in text_of(result)
    assert sim.requests() == []
    assert not (await mcp.call("get_project", project="alice/notes")).is_error
    [(outcome, detail)] = server_rows(
        server.env["DATABASE_URL"],
        "SELECT outcome, detail FROM oauth_gateway_auditevent WHERE tool = 'delete_label' ORDER BY id DESC LIMIT 1",
    )
    assert outcome == "denied"
    detail = json.loads(detail) if isinstance(detail, str) else detail  # SQLite text, PostgreSQL jsonb
    assert detail == {"refused": "unsafe path", "arguments": ["label"]}
