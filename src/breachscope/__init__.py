"""breachscope: investigate a computer compromise from its evidence."""

from __future__ import annotations

__version__ = "0.1.0"
