"""Server-side SVG charts for the report pages: pure functions, no Flask, no database.

Every chart is an ``<svg role="img">`` labelled by its own ``<title>`` and
``<desc>``, draws no script and carries no ``style=`` attribute (the
Content-Security-Policy forbids inline styles), and never shows meaning by colour
alone: shapes, letters and text legends say the same thing.
"""

from __future__ import annotations

from survey_app.reporting.charts._svg import for_every_width
from survey_app.reporting.charts.heatmap import Cell, heatmap_svg
from survey_app.reporting.charts.icons import (
    assurance_icon_svg,
    assurance_words,
    variation_icon_svg,
    variation_words,
)
from survey_app.reporting.charts.xmr import (
    ChartEvent,
    XmRTableRow,
    response_rate_svg,
    x_positions,
    xmr_chart_svg,
    xmr_table_rows,
)

__all__ = [
    "Cell",
    "ChartEvent",
    "XmRTableRow",
    "assurance_icon_svg",
    "assurance_words",
    "for_every_width",
    "heatmap_svg",
    "response_rate_svg",
    "variation_icon_svg",
    "variation_words",
    "x_positions",
    "xmr_chart_svg",
    "xmr_table_rows",
]
