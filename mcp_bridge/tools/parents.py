"""Twin tools: where GitLab has the same API for projects and groups (labels, milestones, variables,
webhooks, wikis), one implementation taking a Parent is registered as two tools, list_labels and
list_group_labels say. Each twin keeps its own name, description and first argument (`project` or
`group`); only the implementation is shared."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from mcp_types import ToolAnnotations

from mcp_bridge.params import GroupRef, ProjectRef
from mcp_bridge.paths import path_id
from mcp_bridge.registry import tool

Impl = TypeVar("Impl", bound=Callable[..., Awaitable[Any]])
Kind = Literal["project", "group"]


@dataclass(frozen=True, slots=True)
class Parent:
    """Where the parent's API lives, and how error messages name it."""

    kind: Kind
    path: str  # "/projects/acme%2Fapp", "/groups/acme"
    name: str  # "acme/app", "group acme"

    @classmethod
    def project(cls, project: str) -> Parent:
        return cls("project", f"/projects/{path_id(project)}", project)

    @classmethod
    def group(cls, group: str) -> Parent:
        return cls("group", f"/groups/{path_id(group)}", f"group {group}")


@dataclass(frozen=True, slots=True)
class Twin:
    """One of the two tools: its name, its description, and the types of any arguments that differ
    for this parent (a group webhook has more event kinds than a project's)."""

    name: str
    description: str
    types: Mapping[str, Any] = field(default_factory=dict)


REFERENCES: dict[Kind, Any] = {"project": ProjectRef, "group": GroupRef}


def twins(
    annotations: ToolAnnotations, toolset: str, *, routes: Iterable[str], project: Twin, group: Twin
) -> Callable[[Impl], Impl]:
    """Register `impl(parent, ...)` as a project tool and a group tool. `routes` write the parent as
    `/{parents}/:id/...`, which becomes /projects/:id/... for one and /groups/:id/... for the other."""
    routes = tuple(routes)

    def decorate(impl: Impl) -> Impl:
        signature = inspect.signature(impl, eval_str=True)
        _, *rest = signature.parameters.values()
        sides: tuple[tuple[Kind, Twin], ...] = (("project", project), ("group", group))
        for kind, twin in sides:
            first = inspect.Parameter(kind, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=REFERENCES[kind])
            arguments = [p.replace(annotation=twin.types.get(p.name, p.annotation)) for p in rest]
            declared = [route.format(parents=f"{kind}s") for route in routes]
            function = _one_twin(impl, kind, twin, signature.replace(parameters=[first, *arguments]))
            tool(annotations, toolset, routes=declared)(function)
        return impl

    return decorate


def _one_twin(impl: Impl, kind: Kind, twin: Twin, signature: inspect.Signature) -> Callable[..., Awaitable[Any]]:
    """The tool function the SDK sees: its name, description and signature, calling `impl` with a Parent."""
    parent_of = Parent.project if kind == "project" else Parent.group

    async def call(**arguments: Any) -> Any:
        return await impl(parent_of(arguments.pop(kind)), **arguments)

    call.__name__ = call.__qualname__ = twin.name
    call.__doc__ = twin.description
    call.__module__ = impl.__module__
    call.__signature__ = signature  # type: ignore[attr-defined]  # what the SDK builds the schema from
    return call
