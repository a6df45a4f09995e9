"""The demo INT's logo, drawn in code: three overlapping circles (the teams of one
neighbourhood) beside two river lines, in NHS blues and aqua green. Synthetic, like the rest
of the demo, and stored the way an upload is (survey_app.pulse.branding)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from survey_app.pulse.branding import Logo, prepare_logo

BLUE, DARK_BLUE, AQUA = (0, 94, 184, 255), (0, 48, 135, 255), (0, 164, 153, 255)


def demo_logo() -> Logo:
    image = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for centre, colour in ((40, BLUE), (80, AQUA), (120, DARK_BLUE)):
        draw.ellipse((centre - 30, 8, centre + 30, 68), outline=colour, width=8)
    # The river: two bands beside the circles.
    draw.rounded_rectangle((160, 22, 232, 34), radius=6, fill=BLUE)
    draw.rounded_rectangle((160, 46, 232, 58), radius=6, fill=AQUA)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return prepare_logo(buffer.getvalue())
