"""CI/CD, one module per topic; importing this package records their tools.

runs (pipelines), jobs (and their logs), artifacts (and test reports), schedules, ci (lint a
configuration, wait for a pipeline).
"""

from __future__ import annotations

from mcp_bridge.tools.pipelines import (  # noqa: F401  (importing a module records its tools)
    artifacts,
    ci,
    jobs,
    runs,
    schedules,
)
