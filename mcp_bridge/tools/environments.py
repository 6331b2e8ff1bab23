"""Tools: environments (being written)."""

from __future__ import annotations
