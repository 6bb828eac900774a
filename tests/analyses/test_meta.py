"""Every analysis module opens with its question and has a test module of its own."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import breachscope.analyses as analyses
from tests.conftest import PROJECT

QUESTIONS = sorted(
    m.name for m in pkgutil.iter_modules(analyses.__path__) if m.name not in ("run",)
)


@pytest.mark.parametrize("name", QUESTIONS)
def test_each_analysis_states_its_question_and_is_tested(name: str) -> None:
    module = importlib.import_module(f"breachscope.analyses.{name}")
    doc = (module.__doc__ or "").strip()
    assert "?" in doc[:120], f"{name} should open with its question"
    assert "not covered" in doc.lower(), f"{name} should say what it does not cover"
    assert (PROJECT / "tests" / "analyses" / f"test_{name}.py").is_file()
