"""``python -m breachscope``: the same as the ``breachscope`` command."""

from __future__ import annotations

from breachscope.cli import main

main()
