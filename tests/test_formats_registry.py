"""Meta-test of the format registry: every format is documented, tested and uniquely named."""

from __future__ import annotations

import inspect
from pathlib import PurePath

import pytest

from breachscope.formats import all_formats, get_format, sniff_format
from breachscope.schema import TABLES
from tests.conftest import PROJECT


@pytest.mark.parametrize("name", sorted(all_formats()))
def test_each_format_has_a_docstring_a_test_module_and_known_tables(name: str) -> None:
    cls = all_formats()[name]
    assert (cls.__doc__ or "").strip(), f"{name} needs a docstring"
    module = inspect.getmodule(cls)
    assert module is not None and (module.__doc__ or "").strip()
    stem = module.__name__.rsplit(".", 1)[-1]
    assert (PROJECT / "tests" / "formats" / f"test_{stem}.py").is_file()
    assert set(cls.tables) <= set(TABLES)
    assert isinstance(cls.version, str)


def test_an_unknown_format_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"known formats: .*linux_auth"):
        get_format("linux-auth-typo")


def test_random_bytes_are_not_recognised() -> None:
    assert sniff_format(bytes(range(256)) * 4, PurePath("blob.bin")) is None
