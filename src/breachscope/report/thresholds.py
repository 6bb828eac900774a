"""The method notes' threshold registry: every numeric UPPER_CASE constant of the analyses.

Gathered by importing `breachscope.analyses` modules, so the report cannot drift from the
code: a new threshold constant appears in the method notes without touching the report.
Each module's ``THRESHOLDS`` dict (its own formatted view) is read as well.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import breachscope.analyses as analyses_package


@dataclass(frozen=True, order=True)
class Threshold:
    name: str
    value: str
    modules: tuple[str, ...]


def format_value(value: Any) -> str:
    """A constant as people read it.

    >>> format_value(dt.timedelta(hours=1)), format_value(dt.timedelta(seconds=120))
    ('1 h', '120 s')
    >>> format_value(dt.timedelta(hours=72))
    '72 h'
    >>> format_value(0.2), format_value(30)
    ('0.2', '30')
    """
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        if seconds and seconds % 3600 == 0:
            return f"{seconds // 3600} h"
        return f"{seconds} s"
    return str(value)


def _is_threshold(name: str, value: Any) -> bool:
    if not name.isupper() or name.startswith("_"):
        return False
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float | dt.timedelta)


def analysis_modules() -> list[ModuleType]:
    """The question modules of `breachscope.analyses`, by name."""
    names = sorted(m.name for m in pkgutil.iter_modules(analyses_package.__path__))
    return [importlib.import_module(f"{analyses_package.__name__}.{name}") for name in names]


def collect_thresholds(modules: list[ModuleType] | None = None) -> list[Threshold]:
    """Every threshold constant with its value; one row per (name, value), sorted by name."""
    found: dict[tuple[str, str], set[str]] = {}
    for module in analysis_modules() if modules is None else modules:
        short = module.__name__.rsplit(".", 1)[-1]
        values: dict[str, str] = {}
        for name, value in vars(module).items():
            if _is_threshold(name, value):
                values[name] = format_value(value)
        declared = vars(module).get("THRESHOLDS")
        if isinstance(declared, dict):
            for name, value in declared.items():
                values.setdefault(str(name), format_value(value))
        for name, value in values.items():
            found.setdefault((name, value), set()).add(short)
    return sorted(
        Threshold(name, value, tuple(sorted(modules_))) for (name, value), modules_ in found.items()
    )
