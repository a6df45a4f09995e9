"""Small helpers shared by the chart modules: escaping, numbers, colours, ticks.

Every chart is built from these so that all text is escaped in one place and no
element ever carries a ``style=`` attribute (the Content-Security-Policy forbids
inline styles): presentation is given by SVG presentation attributes and classes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from html import escape

# NHS identity colours for text and lines; Making Data Count colours for variation.
TEXT = "#212b32"
SECONDARY = "#4c6272"
GRID = "#d8dde0"
FAINT = "#aeb7bd"
WHITE = "#ffffff"
IMPROVEMENT_BLUE = "#41b6e6"
CONCERN_ORANGE = "#ed8b00"
COMMON_GREY = "#a6a6a6"
NEUTRAL_PURPLE = "#490092"
FONT = "Frutiger W01, Arial, Helvetica, sans-serif"

IMPROVEMENTS = ("increase", "decrease", "neutral")

#: Every chart is drawn twice: WIDE for screens of 720 px and up (and the PDF), where
#: reports.css shows it at exactly its viewBox width, and NARROW for phones, where it is
#: shown between 288 px (a 320 px phone) and 480 px wide.  Text is sized in viewBox units
#: so that it renders at 12 px or more at the smallest of those widths.
WIDE = 640
NARROW = 320
PHONE_BREAKPOINT = 720

# Characters XML 1.0 does not allow, even escaped: dropped so the SVG stays well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> str:
    """`value` without the characters XML cannot hold."""
    return _NOT_XML.sub("", value)


def text(value: str) -> str:
    """`value` escaped for an element's content."""
    return escape(clean(value), quote=False)


def num(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros."""
    if not math.isfinite(value):
        raise ValueError(f"a coordinate must be finite, got {value!r}")
    out = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if out == "-0" else out


def element(tag: str, attrs: Mapping[str, object] | None = None, *children: str) -> str:
    """``<tag attrs>children</tag>``; attribute values are escaped, None ones left out.

    `children` are markup already (built by this function or :func:`text`).
    """
    parts = [tag]
    for name, value in (attrs or {}).items():
        if value is None:
            continue
        if isinstance(value, float):
            shown = num(value)
        else:
            shown = escape(clean(str(value)), quote=True)
        parts.append(f'{name}="{shown}"')
    opening = " ".join(parts)
    if not children:
        return f"<{opening}/>"
    return f"<{opening}>{''.join(children)}</{tag}>"


def titled(tag: str, attrs: Mapping[str, object], tooltip: str) -> str:
    """An element whose ``<title>`` child names it on hover and to assistive technology."""
    return element(tag, attrs, element("title", None, text(tooltip)))


def make_id(prefix: str, *parts: object) -> str:
    """A stable id for a chart, so the same chart renders to the same markup."""
    digest = hashlib.sha1(repr(parts).encode("utf-8", "surrogatepass"),
                          usedforsecurity=False).hexdigest()[:10]
    return f"{prefix}-{digest}"


def svg_root(
    *,
    chart_id: str,
    title: str,
    description: str,
    width: float,
    height: float,
    css_class: str,
    body: Iterable[str],
    fixed_size: bool = False,
) -> str:
    """The ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``.

    Charts scale to their container (``width="100%"`` with a viewBox); icons
    (`fixed_size`) keep their pixel size.
    """
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    attrs: dict[str, object] = {
        "xmlns": "http://www.w3.org/2000/svg",
        "viewBox": f"0 0 {num(width)} {num(height)}",
        "width": num(width) if fixed_size else "100%",
        "height": num(height) if fixed_size else None,
        "preserveAspectRatio": "xMidYMid meet",
        "role": "img",
        "aria-labelledby": f"{title_id} {desc_id}",
        "class": css_class,
        "id": chart_id,
        "font-family": FONT,
        "fill": TEXT,
    }
    return element(
        "svg",
        attrs,
        element("title", {"id": title_id}, text(title)),
        element("desc", {"id": desc_id}, text(description)),
        *body,
    )


def check_improvement(improvement: str) -> str:
    """`improvement` if it is one of ``increase``, ``decrease``, ``neutral``."""
    if improvement not in IMPROVEMENTS:
        raise ValueError(
            f"improvement must be one of {', '.join(IMPROVEMENTS)}, got {improvement!r}"
        )
    return improvement


def check_size(width: int, height: int) -> None:
    """Raise ValueError unless the chart is big enough to draw in."""
    if width < 200:
        raise ValueError(f"width must be at least 200, got {width}")
    if height < 80:
        raise ValueError(f"height must be at least 80, got {height}")


def font_size(width: int) -> int:
    """The chart text size, in viewBox units, for a chart drawn `width` wide.

    A WIDE chart is never shown narrower than its viewBox, so 12 units are 12 px; a
    narrower one may be shown at 288 / 320 of its width, so 14 units are 12.6 px.
    """
    return 12 if width >= WIDE else 14


def wrap(words: str, characters: int) -> list[str]:
    """`words` broken into lines of at most `characters`, at spaces where there are any."""
    lines: list[str] = []
    for word in words.split():
        if lines and len(lines[-1]) + 1 + len(word) <= characters:
            lines[-1] += " " + word
        else:
            # A single word longer than a line is broken, never cut off.
            while len(word) > characters:
                lines.append(word[:characters])
                word = word[characters:]
            lines.append(word)
    return lines or [""]


def for_every_width(draw: Callable[..., str], *, chart_id: str, **arguments: object) -> str:
    """The chart `draw` makes, drawn WIDE and NARROW, each in its own wrapper.

    reports.css shows the wide one on screens from PHONE_BREAKPOINT up and in print,
    the narrow one below it, so chart text is never smaller than 12 px.  The narrow
    copy's ids end in ``-narrow``, so the two never clash.
    """
    wide = draw(width=WIDE, chart_id=chart_id, **arguments)
    narrow = draw(width=NARROW, chart_id=f"{chart_id}-narrow", **arguments)
    return (f'<div class="pulse-chart-wide">{wide}</div>'
            f'<div class="pulse-chart-narrow">{narrow}</div>')


def text_width(value: str, font_size: float) -> float:
    """A generous estimate of rendered text width (no font metrics on the server)."""
    return len(value) * font_size * 0.6


def truncate(value: str, limit: int) -> str:
    """`value` cut to `limit` characters, ending in an ellipsis when cut."""
    return value if len(value) <= limit else value[: max(limit - 1, 0)].rstrip() + "…"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``lo..hi``: steps of 1, 2 or 5 times a power of ten."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.floor(lo / step + 1e-9) * step
    ticks = []
    tick = first
    while tick < hi + step * 0.999:
        ticks.append(round(tick, 10))
        tick += step
    return ticks


def format_number(value: float, step: float | None = None) -> str:
    """`value` with the decimals `step` needs (one decimal when no step is given)."""
    decimals = 1
    if step is not None:
        decimals = 0
        while decimals < 6 and abs(round(step, decimals) - step) > 1e-9:
            decimals += 1
    out = f"{value:.{decimals}f}"
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out == "-0" else out


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_on(fill: str) -> str:
    """The text colour (NHS text or white) with the better contrast on `fill`."""
    return max((TEXT, WHITE), key=lambda colour: contrast_ratio(colour, fill))
