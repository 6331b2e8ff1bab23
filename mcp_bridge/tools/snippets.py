"""Tools: snippets (being written)."""

from __future__ import annotations
