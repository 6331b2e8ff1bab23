"""Tools: wiki (being written)."""

from __future__ import annotations
