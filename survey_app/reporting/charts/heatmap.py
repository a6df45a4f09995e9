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
    WIDE,
    element,
    font_size,
    format_number,
    make_id,
    readable_on,
    svg_root,
    text,
    titled,
    wrap,
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
_LABEL_WIDTH = 240
_RIGHT = 8
_MIN_CELL = 28.0
_MAX_HEADER_LINES = 3


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


@dataclass(frozen=True, slots=True)
class _Grid:
    """Where a heatmap's parts go.

    On a wide heatmap each question sits in a column on the left of its cells; on
    a narrow one (a phone) it is written across the top of its row of cells, so the
    cells get the whole width.
    """

    width: int
    font: int
    stacked: bool
    columns: int

    @property
    def line(self) -> float:
        return self.font + 4.0

    @property
    def left(self) -> float:
        return 4.0 if self.stacked else float(_LABEL_WIDTH)

    @property
    def cell_width(self) -> float:
        return (self.width - self.left - _RIGHT) / self.columns

    def characters(self, width: float) -> int:
        return max(int(width / (self.font * 0.6)), 3)


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


def _text_lines(lines: Sequence[str], x: float, y: float, grid: _Grid, **attrs: object) -> str:
    return element(
        "text",
        {"x": x, "y": y, "font-size": grid.font, **attrs},
        *(
            element("tspan", {"x": x, "dy": 0.0 if i == 0 else grid.line}, text(line))
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


def _headers(columns: Sequence[str], grid: _Grid) -> tuple[list[list[str]], bool]:
    """Each column's header wrapped to its cell, or numbers when a header will not fit.

    Numbered headers (1, 2, ...) are spelt out in the legend, so no header is cut.
    """
    fit = grid.characters(grid.cell_width - 4)
    headers = [wrap(column, fit) for column in columns]
    if all(len(lines) <= _MAX_HEADER_LINES for lines in headers):
        return headers, False
    return [[str(c + 1)] for c in range(len(columns))], True


def _column_labels(columns: Sequence[str], grid: _Grid, row_title: str,
                   column_title: str) -> tuple[str, float, bool]:
    """The axis titles and the column headers; returns them, their height, and if numbered."""
    headers, numbered = _headers(columns, grid)
    title_y = 4.0 + grid.font
    bold = {"class": "axis-title", "font-weight": "bold"}
    if grid.stacked:
        # One title a line: there is no column of questions to put the first over.
        titles = [_text_lines([row_title], 4.0, title_y, grid, **bold),
                  _text_lines([column_title], 4.0, title_y + grid.line, grid, **bold)]
        heads_y = title_y + 2 * grid.line + 4
    else:
        middle = grid.left + (grid.width - grid.left - _RIGHT) / 2
        titles = [_text_lines([row_title], 4.0, title_y, grid, **bold),
                  _text_lines([column_title], middle, title_y, grid,
                              **bold, **{"text-anchor": "middle"})]
        heads_y = title_y + grid.line + 4
    heads = [
        _text_lines(lines, grid.left + grid.cell_width * (c + 0.5), heads_y, grid, **{
            "text-anchor": "middle"})
        for c, lines in enumerate(headers)
    ]
    height = heads_y + (max(len(lines) for lines in headers) - 1) * grid.line + 10
    return (element("g", {"class": "axis-titles", "aria-hidden": "true"}, *titles)
            + element("g", {"class": "column-labels"}, *heads), height, numbered)


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
                 grid: _Grid, y: float, hatch_fill: str) -> tuple[str, float]:
    """One item: its wrapped text, then a cell per column; returns it and its height.

    The text wraps to as many lines as it needs: a question is never cut short.
    """
    if grid.stacked:
        lines = wrap(row_text, grid.characters(grid.width - 8))
        text_height = len(lines) * grid.line + 4
        label = _text_lines(lines, 4.0, y + grid.font, grid)
        cells_y, cell_height = y + text_height, 30.0
        row_height = text_height + cell_height + 6
    else:
        lines = wrap(row_text, grid.characters(_LABEL_WIDTH - 12))
        row_height = max(30.0, len(lines) * grid.line + 12.0)
        label = _text_lines(lines, 4.0, y + (row_height - (len(lines) - 1) * grid.line) / 2
                            + grid.font / 3, grid)
        cells_y, cell_height = y, row_height
    parts = [element("title", None, text(row_text)), label]
    for c, (column, cell) in enumerate(zip(columns, row_cells, strict=True)):
        x = grid.left + grid.cell_width * c
        box: dict[str, object] = {"x": x, "y": cells_y, "width": grid.cell_width,
                                  "height": cell_height, "stroke": WHITE, "stroke-width": 2.0}
        centre: dict[str, object] = {"x": x + grid.cell_width / 2,
                                     "y": cells_y + cell_height / 2 + grid.font / 3,
                                     "text-anchor": "middle", "font-size": grid.font}
        name = f"{row_text} – {column}"
        if cell.value is None:
            parts.append(_hidden_cell(name, cell.hidden_reason or "", box, centre, hatch_fill))
        else:
            parts.append(_score_cell(name, cell.value, box, centre))
    return element("g", {"class": "heatmap-row"}, *parts), row_height


def _cell_rows(rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[Cell]],
               grid: _Grid, top: float, hatch_fill: str) -> tuple[str, float]:
    """Every item's row, stacked from `top`; returns them and the y where they end."""
    y = top
    drawn = []
    for row_text, row_cells in zip(rows, cells, strict=True):
        row, row_height = _heatmap_row(row_text, columns, row_cells, grid, y, hatch_fill)
        drawn.append(row)
        y += row_height
    return element("g", {"class": "cells"}, *drawn), y


def _band_swatches(top: float, grid: _Grid) -> tuple[list[str], float]:
    """A swatch and its range in words per band, flowed into rows; returns the last row's y."""
    parts: list[str] = []
    x, y = 4.0, top
    row = grid.line + 10
    bands = [*(low for low, _ in SCALE[1:]), _MAX_SCORE]
    for (low, fill), high in zip(SCALE, bands, strict=True):
        under = "under " if high < _MAX_SCORE else ""
        words = f"{format_number(low, 1)} to {under}{format_number(high, 1)}"
        needed = 20 + len(words) * grid.font * 0.6 + 14
        if x + needed > grid.width and x > 4.0:
            x, y = 4.0, y + row
        parts.append(element("rect", {"x": x, "y": y, "width": 16.0, "height": 16.0,
                                      "fill": fill, "stroke": TEXT, "stroke-width": 0.5}))
        parts.append(element("text", {"x": x + 20, "y": y + 8 + grid.font / 3,
                                      "font-size": grid.font}, text(words)))
        x += needed
    return parts, y


def _reason_swatches(cells: Sequence[Sequence[Cell]], top: float, grid: _Grid,
                     hatch_fill: str) -> tuple[list[str], float]:
    """A hatched swatch per distinct hidden reason, one a row below `top`; returns the last y."""
    parts: list[str] = []
    y = top
    for reason in sorted({cell.hidden_reason for row in cells for cell in row
                          if cell.hidden_reason}):
        lines = wrap(f"– Hidden: {reason}", grid.characters(grid.width - 28))
        y += grid.line + 10
        parts.append(element("rect", {"x": 4.0, "y": y, "width": 16.0, "height": 16.0,
                                      "fill": hatch_fill, "stroke": TEXT, "stroke-width": 0.5}))
        parts.append(_text_lines(lines, 24.0, y + 8 + grid.font / 3, grid))
        y += (len(lines) - 1) * grid.line
    return parts, y


def _column_key(columns: Sequence[str], top: float, grid: _Grid) -> tuple[list[str], float]:
    """"1: Jan 2025 to Mar 2025"... for numbered column headers; returns the last y."""
    parts: list[str] = []
    y = top
    for c, column in enumerate(columns):
        lines = wrap(f"{c + 1}: {column}", grid.characters(grid.width - 8))
        y += grid.line
        parts.append(_text_lines(lines, 4.0, y + grid.font, grid))
        y += (len(lines) - 1) * grid.line
    return parts, y


def _legend(cells: Sequence[Sequence[Cell]], columns: Sequence[str], numbered: bool,
            top: float, grid: _Grid, hatch_fill: str) -> tuple[str, float]:
    """The score bands in words, each hidden reason, then the column key if numbered."""
    heading = element("text", {"x": 4.0, "y": top + 12 + grid.font, "font-size": grid.font,
                               "font-weight": "bold"}, text("Mean score out of 10"))
    bands, y = _band_swatches(top + 20 + grid.font, grid)
    reasons, y = _reason_swatches(cells, y, grid, hatch_fill)
    key: list[str] = []
    if numbered:
        key, y = _column_key(columns, y + 16, grid)
    return element("g", {"class": "legend"}, heading, *bands, *reasons, *key), y


def heatmap_svg(
    *,
    title: str,
    description: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: Sequence[Sequence[Cell]],
    width: int = WIDE,
    chart_id: str | None = None,
    row_title: str = "Question",
    column_title: str = "Pulses pooled",
) -> str:
    """An accessible SVG heatmap: `rows` (item texts) by `columns` (wave windows).

    Each shown cell is shaded by its score and has the score written in it
    (one decimal); a hidden cell is hatched and shows "–".  A text legend names
    the score bands and each hidden reason.  `row_title` heads the questions and
    `column_title` the columns.  Item texts wrap to as many lines as they need.
    Below WIDE, each question is written above its row of cells, and column
    headers that do not fit their cells are numbered and spelt out in the legend.

    Raises
    ------
    ValueError
        If `rows` or `columns` is empty, `cells` is not `rows` x `columns`, a
        cell has both or neither of a value and a hidden reason, a score is
        outside 0..10, or `width` is too small for the columns.
    """
    _check_cells(rows, columns, cells)
    grid = _Grid(width, font_size(width), width < WIDE, len(columns))
    if grid.cell_width < _MIN_CELL:
        raise ValueError(f"width {width} is too small for {len(columns)} columns")
    chart_id = chart_id or make_id("heatmap", title, description, rows, columns, cells)
    hatch_id = f"{chart_id}-hatch"
    hatch_fill = f"url(#{hatch_id})"
    column_labels, header_height, numbered = _column_labels(columns, grid, row_title,
                                                            column_title)
    drawn, grid_bottom = _cell_rows(rows, columns, cells, grid, header_height, hatch_fill)
    legend, legend_bottom = _legend(cells, columns, numbered, grid_bottom, grid, hatch_fill)
    return svg_root(
        chart_id=chart_id,
        title=title,
        description=description,
        width=width,
        height=legend_bottom + 24,
        css_class="chart chart--heatmap",
        body=[_hatch_defs(hatch_id), column_labels, drawn, legend],
    )
