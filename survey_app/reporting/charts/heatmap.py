"""A heatmap of item scores (0-10) over rolling windows of waves.

Each cell is shaded on a five-step sequential blue scale *and* has its score
written in it, in whichever of dark or white text contrasts better with its
shade; a hidden cell is hatched and shows "–" with no number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from survey_app.reporting.charts._svg import (
    FAINT,
    TEXT,
    WHITE,
    element,
    format_number,
    make_id,
    readable_on,
    svg_root,
    text,
    titled,
    truncate,
)

__all__ = ["SCALE", "Cell", "heatmap_svg", "shade"]

#: (lowest score of the band, fill) from 0 to 10: ColorBrewer "Blues", 5 classes.
SCALE: tuple[tuple[float, str], ...] = (
    (0.0, "#eff3ff"),
    (2.0, "#bdd7e7"),
    (4.0, "#6baed6"),
    (6.0, "#2171b5"),
    (8.0, "#08519c"),
)
_MAX_SCORE = 10.0
_FONT_SIZE = 12
_LABEL_WIDTH = 240
_RIGHT = 8
_LINE = 14


@dataclass(frozen=True, slots=True)
class Cell:
    """One item in one window: its mean score, or why it is hidden.

    Attributes
    ----------
    value : float or None
        Mean score from 0 to 10; None when hidden.
    hidden_reason : str or None
        Why the cell is hidden (e.g. ``"too few answers"``); None when shown.
    """

    value: float | None
    hidden_reason: str | None = None


def shade(value: float) -> str:
    """The fill of a score on :data:`SCALE` (10 falls in the top band).

    Raises
    ------
    ValueError
        If `value` is not a finite number from 0 to 10.
    """
    if not (math.isfinite(value) and 0.0 <= value <= _MAX_SCORE):
        raise ValueError(f"a score must be between 0 and 10, got {value!r}")
    return [fill for low, fill in SCALE if value >= low][-1]


def _wrap(words: str, characters: int, max_lines: int) -> list[str]:
    lines: list[str] = []
    for word in words.split():
        if lines and len(lines[-1]) + 1 + len(word) <= characters:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [truncate(line, characters) for line in lines] or [""]


def _text_lines(lines: Sequence[str], x: float, y: float, **attrs: object) -> str:
    return element(
        "text",
        {"x": x, "y": y, "font-size": _FONT_SIZE, **attrs},
        *(
            element("tspan", {"x": x, "dy": 0.0 if i == 0 else float(_LINE)}, text(line))
            for i, line in enumerate(lines)
        ),
    )


def _check_cells(
    rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[Cell]]
) -> None:
    if not rows or not columns:
        raise ValueError("rows and columns must not be empty")
    if len(cells) != len(rows):
        raise ValueError(f"cells has {len(cells)} rows for {len(rows)} row labels")
    for r, row in enumerate(cells):
        if len(row) != len(columns):
            raise ValueError(f"cells[{r}] has {len(row)} cells for {len(columns)} columns")
        for c, cell in enumerate(row):
            if (cell.value is None) == (cell.hidden_reason is None):
                raise ValueError(f"cells[{r}][{c}] must have a value or a hidden_reason, not both")
            if cell.value is not None:
                shade(cell.value)  # raises for a score outside 0..10


def _hatch_defs(hatch_id: str) -> str:
    """The hatch pattern that fills hidden cells and their legend swatch."""
    return element(
        "defs",
        None,
        element(
            "pattern",
            {"id": hatch_id, "width": 6.0, "height": 6.0, "patternUnits": "userSpaceOnUse",
             "patternTransform": "rotate(45)"},
            element("rect", {"width": 6.0, "height": 6.0, "fill": WHITE}),
            element("line", {"x1": 0.0, "y1": 0.0, "x2": 0.0, "y2": 6.0, "stroke": FAINT,
                             "stroke-width": 2.0}),
        ),
    )


def _column_labels(columns: Sequence[str], cell_width: float) -> tuple[str, float]:
    """The column headers, wrapped to two lines; returns them and the height they take."""
    column_chars = max(int(cell_width / (_FONT_SIZE * 0.6)), 3)
    headers = [_wrap(column, column_chars, 2) for column in columns]
    header_height = max(len(lines) for lines in headers) * _LINE + 10
    heads = [
        _text_lines(lines, _LABEL_WIDTH + cell_width * (c + 0.5), 14.0, **{
            "text-anchor": "middle", "font-weight": "bold"})
        for c, lines in enumerate(headers)
    ]
    return element("g", {"class": "column-labels"}, *heads), float(header_height)


def _hidden_cell(name: str, reason: str, box: dict[str, object],
                 centre: dict[str, object], hatch_fill: str) -> str:
    return element(
        "g", {"class": "cell cell--hidden"},
        titled("rect", {**box, "fill": hatch_fill}, f"{name}: hidden, {reason}"),
        element("text", {**centre, "fill": TEXT, "font-weight": "bold"}, text("–")),
    )


def _score_cell(name: str, value: float, box: dict[str, object],
                centre: dict[str, object]) -> str:
    fill = shade(value)
    score = format_number(value, 0.1)
    return element(
        "g", {"class": "cell"},
        titled("rect", {**box, "fill": fill}, f"{name}: {score} out of 10"),
        element("text", {**centre, "fill": readable_on(fill)}, text(score)),
    )


def _heatmap_row(row_text: str, columns: Sequence[str], row_cells: Sequence[Cell],
                 cell_width: float, y: float, hatch_fill: str) -> tuple[str, float]:
    """One item: its wrapped text, then a cell per column; returns it and its height."""
    lines = _wrap(row_text, int((_LABEL_WIDTH - 12) / (_FONT_SIZE * 0.6)), 3)
    row_height = max(30.0, len(lines) * _LINE + 12.0)
    parts = [
        element("title", None, text(row_text)),
        _text_lines(lines, 4.0, y + (row_height - (len(lines) - 1) * _LINE) / 2 + 4),
    ]
    for c, (column, cell) in enumerate(zip(columns, row_cells, strict=True)):
        x = _LABEL_WIDTH + cell_width * c
        box: dict[str, object] = {"x": x, "y": y, "width": cell_width, "height": row_height,
                                  "stroke": WHITE, "stroke-width": 2.0}
        centre: dict[str, object] = {"x": x + cell_width / 2, "y": y + row_height / 2 + 4,
                                     "text-anchor": "middle", "font-size": _FONT_SIZE}
        name = f"{row_text} – {column}"
        if cell.value is None:
            parts.append(_hidden_cell(name, cell.hidden_reason or "", box, centre, hatch_fill))
        else:
            parts.append(_score_cell(name, cell.value, box, centre))
    return element("g", {"class": "heatmap-row"}, *parts), row_height


def _cell_rows(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[Cell]],
               cell_width: float, top: float, hatch_fill: str) -> tuple[str, float]:
    """Every item's row, stacked from `top`; returns them and the y where they end."""
    y = top
    grid = []
    for row_text, row_cells in zip(rows, cells, strict=True):
        row, row_height = _heatmap_row(row_text, columns, row_cells, cell_width, y, hatch_fill)
        grid.append(row)
        y += row_height
    return element("g", {"class": "cells"}, *grid), y


def _band_swatches(top: float, width: int) -> tuple[list[str], float]:
    """A swatch and its range in words per band, flowed into rows; returns the last row's y."""
    parts: list[str] = []
    x, y = 4.0, top
    bands = [*(low for low, _ in SCALE[1:]), _MAX_SCORE]
    for (low, fill), high in zip(SCALE, bands, strict=True):
        under = "under " if high < _MAX_SCORE else ""
        words = f"{format_number(low, 1)} to {under}{format_number(high, 1)}"
        needed = 20 + len(words) * _FONT_SIZE * 0.6 + 14
        if x + needed > width and x > 4.0:
            x, y = 4.0, y + 24
        parts.append(element("rect", {"x": x, "y": y, "width": 16.0, "height": 16.0,
                                      "fill": fill, "stroke": TEXT, "stroke-width": 0.5}))
        parts.append(element("text", {"x": x + 20, "y": y + 12, "font-size": _FONT_SIZE},
                             text(words)))
        x += needed
    return parts, y


def _reason_swatches(cells: Sequence[Sequence[Cell]], top: float,
                     hatch_fill: str) -> tuple[list[str], float]:
    """A hatched swatch per distinct hidden reason, one a row below `top`; returns the last y."""
    parts: list[str] = []
    y = top
    for reason in sorted({cell.hidden_reason for row in cells for cell in row
                          if cell.hidden_reason}):
        y += 24
        parts.append(element("rect", {"x": 4.0, "y": y, "width": 16.0, "height": 16.0,
                                      "fill": hatch_fill, "stroke": TEXT, "stroke-width": 0.5}))
        parts.append(element("text", {"x": 24.0, "y": y + 12, "font-size": _FONT_SIZE},
                             text(f"– Hidden: {reason}")))
    return parts, y


def _legend(cells: Sequence[Sequence[Cell]], top: float, width: int,
            hatch_fill: str) -> tuple[str, float]:
    """The score bands in words, then each hidden reason; returns it and the y where it ends."""
    heading = element("text", {"x": 4.0, "y": top + 24, "font-size": _FONT_SIZE,
                               "font-weight": "bold"}, text("Mean score out of 10"))
    bands, y = _band_swatches(top + 32, width)
    reasons, y = _reason_swatches(cells, y, hatch_fill)
    return element("g", {"class": "legend"}, heading, *bands, *reasons), y


def heatmap_svg(
    *,
    title: str,
    description: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[Cell]],
    width: int = 640,
    chart_id: str | None = None,
) -> str:
    """An accessible SVG heatmap: `rows` (item texts) by `columns` (wave windows).

    Each shown cell is shaded by its score and has the score written in it
    (one decimal); a hidden cell is hatched and shows "–".  A text legend names
    the score bands and each hidden reason.  Long item texts wrap to three lines
    (the full text is the row's tooltip).

    Raises
    ------
    ValueError
        If `rows` or `columns` is empty, `cells` is not `rows` x `columns`, a
        cell has both or neither of a value and a hidden reason, a score is
        outside 0..10, or `width` is too small for the columns.
    """
    _check_cells(rows, columns, cells)
    cell_width = (width - _LABEL_WIDTH - _RIGHT) / len(columns)
    if cell_width < 28:
        raise ValueError(f"width {width} is too small for {len(columns)} columns")
    chart_id = chart_id or make_id("heatmap", title, description, rows, columns, cells)
    hatch_id = f"{chart_id}-hatch"
    hatch_fill = f"url(#{hatch_id})"
    column_labels, header_height = _column_labels(columns, cell_width)
    grid, grid_bottom = _cell_rows(rows, columns, cells, cell_width, header_height, hatch_fill)
    legend, legend_bottom = _legend(cells, grid_bottom, width, hatch_fill)
    return svg_root(
        chart_id=chart_id,
        title=title,
        description=description,
        width=width,
        height=legend_bottom + 24,
        css_class="chart chart--heatmap",
        body=[_hatch_defs(hatch_id), column_labels, grid, legend],
    )
