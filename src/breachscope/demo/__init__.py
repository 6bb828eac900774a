"""The demo case generator: a realistic, fictional case with its known answer.

Why: breachscope needs a case that exercises every rule end to end, that anyone may
publish (every name, domain and address is fictional), and whose answer is known exactly,
so that tests, benchmarks and the ``breachscope demo`` command share one source. The case
follows the incident the tool was built for (July 2011: a conference programme RTF, Office
2007 SP2, five weeks of beaconing, passwords changed after isolation). See `generate_case`.

The generator never imports `breachscope.analyses`: its truth is computed from the evidence
it wrote, by rules.md, so it can judge the analyses.
"""

from __future__ import annotations

from breachscope.demo.generate import generate_case
from breachscope.demo.scenario import VARIANTS
from breachscope.demo.truth import Truth

__all__ = ["VARIANTS", "Truth", "generate_case"]
