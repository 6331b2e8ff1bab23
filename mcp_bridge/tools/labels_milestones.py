"""Tools: labels_milestones (being written)."""

from __future__ import annotations
