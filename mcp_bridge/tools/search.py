"""Tools: search (being written)."""

from __future__ import annotations
