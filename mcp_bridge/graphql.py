"""GraphQL for the tools that need it (work items live in GitLab's GraphQL API only): the documents kept
in mcp_bridge/queries/, the operation a document runs, and GraphQL's errors as tool errors.

Whether a request reads or writes is the operation's type, not the HTTP method (every GraphQL request is
a POST): gitlab.GitLab.graphql() finds it with `operation()`, which tokenizes the document as the GraphQL
spec does (October 2021, §2.1: comments, strings and block strings cannot hide a keyword) and reads
its top-level definitions; a query is a read and a mutation is a write.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_bridge.errors import GitLabError, GitLabRefused

QUERIES = Path(__file__).parent / "queries"
PATH = "/graphql"  # POST <GitLab>/api/graphql (doc/api/graphql/_index.md), declared as "POST /graphql"
# GraphQL spec §2.1: tokens are punctuators, names, numbers and strings; whitespace, commas and
# comments are ignored.
TOKEN = re.compile(
    r'(?P<ignored>[\s,\ufeff]+|#[^\n\r]*)|(?P<block>"""(?:\\"""|[^"]|"(?!""))*""")|(?P<string>"(?:\\.|[^"\\\n\r])*")'
    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<number>-?\d[\d.eE+-]*)|(?P<punct>\.\.\.|[!$&():=@\[\]{|}])"
)
OPERATION_TYPES = ("query", "mutation", "subscription")


class GraphQLError(GitLabError):
    """GitLab answered (HTTP 200) with `errors`, or a mutation's payload held `errors`; or the
    document itself cannot be run. The message is GitLab's own words."""


class BadDocument(GitLabRefused):
    """The document is not one this server can send (malformed, ambiguous, a subscription)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} Nothing was sent to GitLab.", refused="graphql document")


@dataclass(frozen=True, slots=True)
class Operation:
    type: str  # query | mutation | subscription
    name: str | None

    @property
    def writes(self) -> bool:
        return self.type != "query"

    def __str__(self) -> str:
        return f"{self.type} {self.name or '(anonymous)'}"


@functools.cache
def document(name: str) -> str:
    """mcp_bridge/queries/<name>.graphql, with the fragments it spreads (queries/<Fragment>.graphql)
    appended; read once per process."""
    text = (QUERIES / f"{name}.graphql").read_text()
    for fragment in sorted(set(re.findall(r"\.\.\.\s*([A-Z]\w*)", text))):
        path = QUERIES / f"{fragment}.graphql"
        if path.exists():
            text += "\n" + path.read_text()
    return text


def operation(text: str, operation_name: str | None = None) -> Operation:
    """The operation `text` runs: the one named `operation_name`, or its only one (GraphQL spec §6.1)."""
    operations = _operations(_tokens(text))
    if operation_name is not None:
        named = [op for op in operations if op.name == operation_name]
        if not named:
            raise BadDocument(f"The document has no operation named {operation_name!r}.")
        chosen = named[0]
    elif len(operations) == 1:
        chosen = operations[0]
    else:
        raise BadDocument(f"The document has {len(operations)} operations; pass operation_name to pick one.")
    if chosen.type == "subscription":
        raise BadDocument("Subscriptions are not served over HTTP; send a query.")
    return chosen


def _tokens(text: str) -> list[str]:
    tokens, at = [], 0
    while at < len(text):
        found = TOKEN.match(text, at)
        if found is None:
            raise BadDocument(f"The document is not valid GraphQL (unexpected {text[at : at + 10]!r}).")
        at = found.end()
        if found.lastgroup == "ignored":
            continue
        # Strings only matter as something to skip: a keyword inside one is not a keyword.
        tokens.append('""' if found.lastgroup in ("block", "string") else found.group())
    return tokens


def _operations(tokens: list[str]) -> list[Operation]:
    """Top-level definitions: `{…}` (a query), `query|mutation|subscription [Name] … {…}`, or a fragment."""
    operations, at = [], 0
    while at < len(tokens):
        word = tokens[at]
        if word == "{":
            operations.append(Operation("query", None))
        elif word in OPERATION_TYPES or word == "fragment":
            following = tokens[at + 1] if at + 1 < len(tokens) else ""
            if word != "fragment":
                named = re.fullmatch(r"[_A-Za-z]\w*", following) is not None
                operations.append(Operation(word, following if named else None))
            at = _next_brace(tokens, at)
        else:
            raise BadDocument(f"The document is not valid GraphQL (a definition cannot start with {word!r}).")
        at = _skip_braces(tokens, at)
    if not operations:
        raise BadDocument("The document has no operation.")
    return operations


def _next_brace(tokens: list[str], at: int) -> int:
    """The index of the selection set's `{` (variable definitions and directives come before it)."""
    depth = 0
    for index in range(at, len(tokens)):
        if tokens[index] in ("(", "["):
            depth += 1
        elif tokens[index] in (")", "]"):
            depth -= 1
        elif tokens[index] == "{" and depth == 0:
            return index
    raise BadDocument("The document is not valid GraphQL (a definition has no selection set).")


def _skip_braces(tokens: list[str], at: int) -> int:
    depth = 0
    for index in range(at, len(tokens)):
        depth += {"{": 1, "}": -1}.get(tokens[index], 0)
        if depth == 0:
            return index + 1
    raise BadDocument("The document is not valid GraphQL (unbalanced braces).")


def raise_for_errors(body: Any, *, what: str) -> dict[str, Any]:
    """`data` of a GraphQL response, or GraphQLError with GitLab's messages (doc/api/graphql/_index.md:
    errors come back with HTTP 200, in `errors[]`, each with a `message`)."""
    if not isinstance(body, dict):
        raise GraphQLError(f"GitLab's GraphQL API gave no JSON object for {what}.")
    errors = body.get("errors") or []
    if errors:
        messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors[:5])
        raise GraphQLError(f"GitLab's GraphQL API refused {what}: {messages[:800]}")
    data = body.get("data")
    return data if isinstance(data, dict) else {}


def payload(data: dict[str, Any], field: str, *, what: str) -> dict[str, Any]:
    """A mutation's payload; its own `errors` (validation, e.g. "Title can't be blank") raise."""
    result = data.get(field) or {}
    if result.get("errors"):
        raise GraphQLError(f"GitLab could not change {what}: {'; '.join(map(str, result['errors']))[:800]}")
    return result
