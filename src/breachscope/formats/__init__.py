"""Evidence formats: one module per format family, each registering itself.

`get_format` looks a format up by name (a manifest ``format:`` override); `sniff_format`
recognises one from content. Importing this package imports every format module.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Collection
from pathlib import PurePath
from typing import Any

from breachscope.formats.base import REGISTRY, EvidenceItem, Problem, Row, register

__all__ = ["REGISTRY", "EvidenceItem", "Problem", "Row", "all_formats", "get_format", "register"]

_LOADED = False


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base" and not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    _LOADED = True


def all_formats() -> dict[str, type[Any]]:
    """Every registered format by name."""
    _load_all()
    return dict(REGISTRY)


def get_format(name: str) -> Any:
    """An instance of the format called ``name``; KeyError lists the valid names."""
    formats = all_formats()
    if name not in formats:
        raise KeyError(f"unknown format {name!r}; known formats: {', '.join(sorted(formats))}")
    return formats[name]()


def sniff_format(head: bytes, path: PurePath, tables: Collection[str] | None = None) -> Any | None:
    """The first format that recognises ``head``: by ``sniff_priority`` (specific before
    generic), then name. With ``tables``, only formats that write nothing else are tried."""
    formats = all_formats()
    ordered = sorted(formats.values(), key=lambda f: (getattr(f, "sniff_priority", 50), f.name))
    for cls in ordered:
        if tables is not None and not set(cls.tables) <= set(tables):
            continue
        instance = cls()
        if instance.sniff(head, path):
            return instance
    return None
