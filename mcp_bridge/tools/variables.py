"""Tools: variables (being written)."""

from __future__ import annotations
