"""Making Data Count variation and assurance icons as small labelled SVGs.

The icons keep the NHS shapes' meaning: a circle coloured blue for improvement,
orange for concern and grey for common cause, with "H" or "L" for a high or low
special cause; assurance "P" (pass), "F" (fail) or "?" (inconsistent).  The
letter and a visible text label carry the meaning, never the colour alone, and
each SVG has ``role="img"`` with the meaning in words as its ``aria-label``.
"""

from __future__ import annotations

from analysis.spc import (
    COMMON_CAUSE,
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    INCONSISTENT,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
)
from survey_app.reporting.charts._svg import (
    COMMON_GREY,
    CONCERN_ORANGE,
    FONT,
    IMPROVEMENT_BLUE,
    NEUTRAL_PURPLE,
    TEXT,
    WHITE,
    check_improvement,
    element,
    readable_on,
    text,
    text_width,
)

__all__ = [
    "MDC_NO_TARGET",
    "MDC_VARIATION",
    "assurance_icon_svg",
    "assurance_words",
    "variation_icon_svg",
    "variation_words",
]

_SIZE = 32
_LABEL_SIZE = 13
_DIRECTION = {
    "increase": "higher is better",
    "decrease": "lower is better",
    "neutral": "neither direction is better",
}


def _high_or_low(variation: str, improvement: str) -> str:
    """"H" or "L": which side of the mean the special cause lies on."""
    if variation == SPECIAL_CAUSE_NEUTRAL_HIGH:
        return "H"
    if variation == SPECIAL_CAUSE_NEUTRAL_LOW:
        return "L"
    improving = variation == SPECIAL_CAUSE_IMPROVEMENT
    return "H" if improving == (improvement == "increase") else "L"


#: The Making Data Count term of each variation, shown after the plain words.
MDC_VARIATION: dict[str, str] = {
    COMMON_CAUSE: "Common cause variation",
    SPECIAL_CAUSE_IMPROVEMENT: "Special cause improving variation",
    SPECIAL_CAUSE_CONCERN: "Special cause concerning variation",
    SPECIAL_CAUSE_NEUTRAL_HIGH: "Special cause variation, neither better nor worse",
    SPECIAL_CAUSE_NEUTRAL_LOW: "Special cause variation, neither better nor worse",
}
#: The Making Data Count term for a measure with no target.
MDC_NO_TARGET = "Assurance: not assessed without a target"


def variation_words(variation: str, improvement: str) -> tuple[str, str]:
    """(plain words, full sentence) for a variation label, e.g. for a table cell.

    The plain words are issue 13's agreed ones ("No unusual change", "Unusual rise,
    better", "Unusual fall, worse", "Unusual rise"...); the sentence adds the Making
    Data Count term and which direction is better, e.g. "Unusual rise, better
    (Special cause improving variation; higher is better)".

    Raises
    ------
    ValueError
        If `variation` or `improvement` is unknown, or a neutral measure has an
        improvement or concern label (or the reverse).
    """
    check_improvement(improvement)
    neutral = improvement == "neutral"
    if variation == COMMON_CAUSE:
        short = "No unusual change"
    elif variation in (SPECIAL_CAUSE_IMPROVEMENT, SPECIAL_CAUSE_CONCERN) and not neutral:
        side = "rise" if _high_or_low(variation, improvement) == "H" else "fall"
        better = "better" if variation == SPECIAL_CAUSE_IMPROVEMENT else "worse"
        short = f"Unusual {side}, {better}"
    elif variation in (SPECIAL_CAUSE_NEUTRAL_HIGH, SPECIAL_CAUSE_NEUTRAL_LOW) and neutral:
        short = "Unusual rise" if variation == SPECIAL_CAUSE_NEUTRAL_HIGH else "Unusual fall"
    else:
        raise ValueError(f"variation {variation!r} does not fit improvement {improvement!r}")
    return short, f"{short} ({MDC_VARIATION[variation]}; {_DIRECTION[improvement]})"


def assurance_words(assurance: str | None) -> tuple[str, str]:
    """(plain words, full sentence) for an assurance result (None: no target).

    Raises
    ------
    ValueError
        If `assurance` is not one of the :mod:`analysis.spc` assurance values.
    """
    words = {
        CONSISTENT_PASS: ("Target met", "Target met (Assurance: the target will "
                                        "consistently be met)"),
        CONSISTENT_FAIL: ("Target missed", "Target missed (Assurance: the target will "
                                           "consistently be missed)"),
        INCONSISTENT: (
            "Target sometimes met",
            "Target sometimes met (Assurance: the target may or may not be met, "
            "inconsistent)",
        ),
        None: ("No target set", f"No target set ({MDC_NO_TARGET})"),
    }
    if assurance not in words:
        raise ValueError(f"assurance must be one of {sorted(map(str, words))}, got {assurance!r}")
    return words[assurance]


def _icon(css_class: str, fill: str, mark: str, short: str, full: str) -> str:
    """A circle with `mark` in it (a letter, or "~" for the common-cause zigzag), labelled."""
    centre, radius = _SIZE / 2, _SIZE / 2 - 2
    ink = readable_on(fill)
    if mark == "~":
        symbol = element(
            "polyline",
            {"points": "7,18 11,13 15,19 19,13 23,19 26,14", "fill": "none",
             "stroke": ink, "stroke-width": 2.0, "stroke-linejoin": "round"},
        )
    else:
        symbol = element(
            "text",
            {"x": centre, "y": centre + 6, "text-anchor": "middle", "font-size": 17,
             "font-weight": "bold", "fill": ink},
            text(mark),
        )
    width = _SIZE + 6 + text_width(short, _LABEL_SIZE) + 2
    return element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "viewBox": f"0 0 {width:.0f} {_SIZE}",
            "width": f"{width:.0f}",
            "height": str(_SIZE),
            "role": "img",
            "aria-label": full,
            "class": f"icon {css_class}",
            "font-family": FONT,
        },
        element("title", None, text(full)),
        element(
            "circle",
            {"cx": centre, "cy": centre, "r": radius, "fill": fill, "stroke": TEXT,
             "stroke-width": 1.0},
        ),
        symbol,
        element(
            "text",
            {"x": float(_SIZE + 6), "y": centre + 5, "font-size": _LABEL_SIZE, "fill": TEXT},
            text(short),
        ),
    )


def variation_icon_svg(variation: str, improvement: str) -> str:
    """The Making Data Count variation icon for `variation`, with its label in text.

    Improvement is blue, concern orange, common cause grey (a zigzag instead of a
    letter), a neutral special cause purple; "H"/"L" says whether the special cause
    is high or low.  Example aria-label: "Unusual rise, better (Special cause
    improving variation; higher is better)".

    Raises
    ------
    ValueError
        As :func:`variation_words`.
    """
    short, full = variation_words(variation, improvement)
    if variation == COMMON_CAUSE:
        return _icon("icon--common_cause", COMMON_GREY, "~", short, full)
    fill = {
        SPECIAL_CAUSE_IMPROVEMENT: IMPROVEMENT_BLUE,
        SPECIAL_CAUSE_CONCERN: CONCERN_ORANGE,
        SPECIAL_CAUSE_NEUTRAL_HIGH: NEUTRAL_PURPLE,
        SPECIAL_CAUSE_NEUTRAL_LOW: NEUTRAL_PURPLE,
    }[variation]
    return _icon(f"icon--{variation}", fill, _high_or_low(variation, improvement), short, full)


def assurance_icon_svg(assurance: str | None) -> str:
    """The Making Data Count assurance icon: "P" blue, "F" orange, "?" grey.

    None (no target, or a neutral measure) draws an empty white circle labelled
    "No target set".

    Raises
    ------
    ValueError
        As :func:`assurance_words`.
    """
    short, full = assurance_words(assurance)
    fill, mark = {
        CONSISTENT_PASS: (IMPROVEMENT_BLUE, "P"),
        CONSISTENT_FAIL: (CONCERN_ORANGE, "F"),
        INCONSISTENT: (COMMON_GREY, "?"),
    }.get(assurance or "", (WHITE, "–"))
    css = f"icon--{assurance or 'no_target'}"
    return _icon(css, fill, mark, short, full)
