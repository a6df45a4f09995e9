"""How a test reads a figure off a page without depending on a float's last digit.

A test that recomputes a figure (a rate, a mean) and formats it can land on the other
side of a rounding edge from the page's own arithmetic: 0.725 and 0.7250000000000001
print as "72%" and "73%". `renderings` gives every string the page may fairly show for
the value, so the assertion checks the figure, not the order of the page's operations.
"""

from __future__ import annotations

# Relative slack: far above the few ulps that two orders of float operations differ
# by, far below any difference a reader could see in a figure printed to 1 or 2 places.
SLACK = 1e-9


def renderings(value: float, spec: str) -> set[str]:
    """`format(value, spec)`, and the neighbouring rounding too when value sits on an edge."""
    return {format(value * (1 + d), spec) for d in (-SLACK, 0.0, SLACK)}


def shows(text: str, value: float, spec: str, template: str = "{}") -> bool:
    """True when `text` contains `template` filled with one of value's renderings."""
    return any(template.format(shown) in text for shown in renderings(value, spec))
