"""Who is asking: an INT's logo, checked and re-encoded, and the contact its pages show.

An uploaded logo is never served as sent. It must be a single still PNG that Pillow
decodes; it is then redrawn into a fresh image (so no text, EXIF, ICC or other chunk
of the original survives), scaled down to fit :data:`LOGO_BOX` and saved optimised,
with fewer colours if that is what it takes to stay within :data:`MAX_LOGO_BYTES`.
That cap keeps the staff pulse page, with everything it loads, within its 14 KB
budget (``bench/page_weight.py``).
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
import zlib
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session, select

from survey_app.models import Neighbourhood

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What an admin may send: a logo exported for print is often a few hundred KB.
MAX_UPLOAD_BYTES = 1024 * 1024
# Decoding a larger image costs memory for nothing: it is shrunk to LOGO_BOX anyway.
MAX_SOURCE_SIDE = 4000
# Shown 40 CSS pixels tall in the header: 80 pixels is sharp on a 2x phone screen.
LOGO_BOX = (240, 80)
MIN_HEIGHT = 20
MAX_LOGO_BYTES = 2048
# Tried in turn until the logo fits MAX_LOGO_BYTES; None keeps every colour.
PALETTES: tuple[int | None, ...] = (None, 256, 64, 16)


class LogoError(ValueError):
    """An uploaded file that cannot be an INT's logo; the message says why, in plain words."""


@dataclass(frozen=True, slots=True)
class Logo:
    png: bytes
    width: int
    height: int
    sha256: str


def prepare_logo(data: bytes) -> Logo:
    """Check an uploaded file and re-encode it as a small, clean PNG.

    Raises
    ------
    LogoError
        Empty, larger than MAX_UPLOAD_BYTES, not a PNG, damaged, animated, too large
        or too small in pixels, or still over MAX_LOGO_BYTES at 16 colours.
    """
    if not data:
        raise LogoError("The file is empty: choose the PNG file of your logo")
    if len(data) > MAX_UPLOAD_BYTES:
        raise LogoError(f"The file is {len(data) / 1024 / 1024:.1f} MB: choose a logo "
                        f"file under {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    if not data.startswith(PNG_SIGNATURE):
        raise LogoError("The logo must be a PNG file: export or save it as PNG "
                        "(JPEG, GIF and SVG files are not accepted)")
    if not _chunks_complete(data):
        raise LogoError(DAMAGED)
    image = _decode(data)
    return _encode(_flatten(image))


DAMAGED = ("The PNG file is damaged or incomplete: export it again from the original "
           "and upload the new file")


def _chunks_complete(data: bytes) -> bool:
    """Every chunk whole with a matching CRC, ending at IEND.

    Checked here rather than left to Pillow: WeasyPrint, once imported, sets Pillow's
    process-wide ``LOAD_TRUNCATED_IMAGES``, after which Pillow decodes a cut-off file
    without complaint (grey where the pixels are missing).
    """
    at = len(PNG_SIGNATURE)
    while at + 12 <= len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind = data[at + 4:at + 8]
        body_end = at + 8 + length
        if body_end + 4 > len(data):
            return False
        (crc,) = struct.unpack(">I", data[body_end:body_end + 4])
        if zlib.crc32(data[at + 4:body_end]) != crc:
            return False
        if kind == b"IEND":
            return True
        at = body_end + 4
    return False


def _decode(data: bytes) -> Image.Image:
    try:
        # Pillow warns (and our tests make warnings errors) on huge images; the size
        # check below gives the clearer message, so its warning is not needed.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=["PNG"])
        width, height = image.size
        if width > MAX_SOURCE_SIDE or height > MAX_SOURCE_SIDE:
            raise LogoError(f"The logo is {width} × {height} pixels: use a version under "
                            f"{MAX_SOURCE_SIDE} pixels each way")
        if getattr(image, "is_animated", False):
            raise LogoError("The logo must be a still image, not an animated PNG")
        if height < MIN_HEIGHT:
            raise LogoError(f"The logo is only {height} pixels tall: use a version at "
                            f"least {MIN_HEIGHT} pixels tall, so it can be read")
        image.load()
    except LogoError:
        raise
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError,
            Image.DecompressionBombError) as error:
        raise LogoError(DAMAGED) from error
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """A fresh image of the pixels only, scaled into LOGO_BOX (never enlarged)."""
    rgba = image.convert("RGBA")
    rgba.thumbnail(LOGO_BOX, Image.Resampling.LANCZOS)
    # A new image from the raw pixels carries none of the original's metadata
    # (tEXt/iTXt/zTXt, eXIf, iCCP, tIME...), whatever Pillow would copy across.
    clean = Image.frombytes("RGBA", rgba.size, rgba.tobytes())
    alpha = clean.getchannel("A")
    if alpha.getextrema() == (255, 255):  # fully opaque: an alpha channel is only bytes
        return clean.convert("RGB")
    return clean


def _encode(image: Image.Image) -> Logo:
    for colours in PALETTES:
        candidate = image if colours is None else image.quantize(
            colors=colours, method=Image.Quantize.FASTOCTREE)
        buffer = io.BytesIO()
        candidate.save(buffer, format="PNG", optimize=True)
        png = buffer.getvalue()
        if len(png) <= MAX_LOGO_BYTES:
            return Logo(png=png, width=image.width, height=image.height,
                        sha256=hashlib.sha256(png).hexdigest())
    raise LogoError(f"The logo is too detailed to load quickly on a phone: even with 16 "
                    f"colours it is {len(png) / 1024:.1f} KB at {image.width} × "
                    f"{image.height} pixels, and the limit is {MAX_LOGO_BYTES // 1024} KB. "
                    "Use a simpler version (flat colours, no photograph or shading)")


def set_logo(neighbourhood: Neighbourhood, logo: Logo | None) -> None:
    """Give the INT this logo, or none. The caller adds and commits."""
    neighbourhood.logo_png = logo.png if logo else None
    neighbourhood.logo_sha256 = logo.sha256 if logo else None
    neighbourhood.logo_width = logo.width if logo else None
    neighbourhood.logo_height = logo.height if logo else None


def logo_version(neighbourhood: Neighbourhood) -> str | None:
    """The part of the logo's URL that changes with the logo (so it can be cached for
    ever), or None when the INT has no logo."""
    return neighbourhood.logo_sha256[:16] if neighbourhood.logo_sha256 else None


def find_logo(session: Session, *, slug: str, version: str) -> Logo | None:
    """The INT's current logo if ``version`` names it; None for an old or unknown one."""
    neighbourhood = session.exec(select(Neighbourhood).where(Neighbourhood.slug == slug)).first()
    if (neighbourhood is None or neighbourhood.logo_png is None
            or logo_version(neighbourhood) != version or neighbourhood.logo_sha256 is None
            or neighbourhood.logo_width is None or neighbourhood.logo_height is None):
        return None
    return Logo(png=neighbourhood.logo_png, width=neighbourhood.logo_width,
                height=neighbourhood.logo_height, sha256=neighbourhood.logo_sha256)


def phone_uri(phone: str) -> str:
    """A ``tel:`` link for a phone number as people write it ("0113 496 0000")."""
    # RFC 3966 allows "-", "." and brackets as visual separators but not spaces.
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch in "+-().")
