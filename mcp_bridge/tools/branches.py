"""Tools: branches (being written)."""

from __future__ import annotations
