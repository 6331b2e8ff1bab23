"""Tools: discussions (being written)."""

from __future__ import annotations
