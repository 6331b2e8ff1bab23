"""Parameter types shared by the tool modules; the descriptions are what the model reads."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

ProjectRef = Annotated[str, Field(description="Project id or full path, e.g. 'group/project'.", min_length=1)]
Iid = Annotated[int, Field(description="The project-level number shown in GitLab (#12 or !12).", ge=1)]
Page = Annotated[int, Field(description="Page number, from 1.", ge=1)]
PerPage = Annotated[int, Field(description="Items per page (1-100).", ge=1, le=100)]
Ref = Annotated[str, Field(description="Branch, tag or commit SHA.", min_length=1)]
GroupRef = Annotated[str, Field(description="Group id or full path, e.g. 'my-group/subgroup'.", min_length=1)]
