"""Merge requests, one module per topic; importing this package records their tools.

requests (find, read, open, change), changes (diffs), discussions (threads and comments), drafts
(a review's pending notes), review (conflicts, reviewers, diff versions), approvals, merging,
related (commits, pipelines, closed issues, participants).
"""

from __future__ import annotations

from mcp_bridge.tools.merge_requests import (  # noqa: F401  (importing a module records its tools)
    approvals,
    changes,
    discussions,
    drafts,
    merging,
    related,
    requests,
    review,
)
