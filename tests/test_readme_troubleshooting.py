"""The README's Troubleshooting section lists every message a user can meet: each system check id in
the code, the start-up log lines, the status codes /mcp answers, and every message of the sign-in
error pages. Read from the code, so a new check or message without its row fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.harness import ROOT

README = (ROOT / "README.md").read_text()
SERVER_CODE = [p for d in ("config", "oauth_gateway", "mcp_bridge") for p in (ROOT / d).rglob("*.py")]
# Calls that put their message on a page the browser shows, and which argument holds it.
PAGE_MESSAGES = {"error_page": 1, "SignInError": 0, "TooManySignIns": 0, "_fail": 2}
PAGE_CONSTANTS = {"DENIED", "EXPIRED"}  # oauth_gateway.denials: what the page and the client are told


def troubleshooting() -> str:
    start = README.index("\n## Troubleshooting\n")
    return README[start : README.index("\n## ", start + 1)]


def leading_text(node: ast.expr) -> str:
    """A literal message, or an f-string's text up to its first placeholder."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return ""


def first_sentence(message: str) -> str:
    return re.split(r"(?<=[.?])\s|\(|:\s|\{", message)[0].strip().rstrip(".")


def page_messages() -> set[str]:
    found = set()
    for path in (ROOT / "oauth_gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                position = PAGE_MESSAGES.get(name)
                if position is not None and len(node.args) > position:
                    found.add(leading_text(node.args[position]))
                # The page's headline, what a person reads first (oauth_gateway.views.errors).
                found.update(leading_text(k.value) for k in node.keywords if k.arg == "headline")
            elif isinstance(node, ast.FunctionDef) and node.name == "error_page":
                found.update(leading_text(d) for d in node.args.kw_defaults if d is not None)
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") in PAGE_CONSTANTS for t in node.targets):
                found.add(leading_text(node.value))
    return {first_sentence(m) for m in found if first_sentence(m)}


def test_every_system_check_id_has_a_row():
    ids = {i for path in SERVER_CODE for i in re.findall(r'id="(oauth_gateway\.[EW]\d{3})"', path.read_text())}
    assert len(ids) >= 15
    section = troubleshooting()
    missing = sorted(i for i in ids if f"`{i}`" not in section)
    assert not missing, f"README Troubleshooting lacks {missing}"


def test_every_sign_in_page_message_has_a_row():
    messages = page_messages()
    assert len(messages) >= 12, messages  # the parse found the messages at all
    section = troubleshooting()
    missing = sorted(m for m in messages if m not in section)
    assert not missing, f"README Troubleshooting lacks the page messages {missing}"


def test_the_start_up_lines_and_answers_are_there():
    code = "\n".join(Path(p).read_text() for p in SERVER_CODE)
    section = troubleshooting()
    for phrase in (
        "cannot listen on",
        "GitLab refused GITLAB_TOKEN at",
        "could not reach GitLab at",
        "GitLab did not answer as GitLab at",
        "mcp_stdio acts with one token",
        "This origin may not call this server.",
        "Misdirected request",
        "too_many_requests",
        "which this server does not allow (its OAUTH_REDIRECT_SCHEMES)",
    ):
        assert phrase in code, f"the code no longer says {phrase!r}: update this test and the README"
        assert phrase in section, phrase
    for answer in ("`401`", "`421 ", "`403 ", "`429 "):
        assert answer in section
