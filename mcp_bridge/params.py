"""Parameter types shared by the tool modules, and parameter lists shared by several tools; the
descriptions are what the model reads."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import Field

Fn = TypeVar("Fn", bound=Callable[..., Any])

ProjectRef = Annotated[str, Field(description="Project id or full path, e.g. 'group/project'.", min_length=1)]
Iid = Annotated[int, Field(description="The project-level number shown in GitLab (#12 or !12).", ge=1)]
Page = Annotated[int, Field(description="Page number, from 1.", ge=1)]
PerPage = Annotated[int, Field(description="Items per page (1-100).", ge=1, le=100)]
Ref = Annotated[str, Field(description="Branch, tag or commit SHA.", min_length=1)]
GroupRef = Annotated[str, Field(description="Group id or full path, e.g. 'my-group/subgroup'.", min_length=1)]

# Issues, merge requests and work items: finding, changing and commenting on them.
Search = Annotated[str | None, Field(description="Text to find in title or description.")]
NewTitle = Annotated[str | None, Field(description="New title.", min_length=1, max_length=255)]
NewDescription = Annotated[str | None, Field(description="New description.")]
Body = Annotated[str | None, Field(description="Body, in GitLab Markdown.")]
NewBody = Annotated[str | None, Field(description="New body (replaces it), in Markdown.")]
AddLabels = Annotated[list[str] | None, Field(description="Labels to add.")]
RemoveLabels = Annotated[list[str] | None, Field(description="Labels to remove.")]
Comment = Annotated[str, Field(description="The comment, in GitLab Markdown.", min_length=1)]
Internal = Annotated[bool, Field(description="Internal note, visible only to reporters and up.")]
Date = Annotated[str | None, Field(description="YYYY-MM-DD.", pattern=r"^\d{4}-\d{2}-\d{2}$")]

# A window of lines of a long text (a file, a log, a wiki page): see shaping.line_window.
StartLine = Annotated[int | None, Field(description="First line to show, from 1.", ge=1)]
LineCount = Annotated[int, Field(description="How many lines to show (1-2000).", ge=1, le=2000)]


def shared_parameters(template: Callable[..., Any], after: str | None = None) -> Callable[[Fn], Fn]:
    """Give a tool, after its own parameters, the parameters of `template` (a list several tools take
    alike; with `after`, only those that follow that one); the tool receives them in its **keywords.
    The schema is built from the signature set here."""
    shared = list(inspect.signature(template, eval_str=True).parameters.values())
    if after is not None:
        shared = shared[[p.name for p in shared].index(after) + 1 :]

    def decorate(function: Fn) -> Fn:
        signature = inspect.signature(function, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
        function.__signature__ = signature.replace(parameters=[*own, *shared])  # type: ignore[attr-defined]
        return function

    return decorate
