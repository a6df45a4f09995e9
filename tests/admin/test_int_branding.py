"""Who is asking: an INT's display name, contact and logo, set on its settings page and
shown on its staff pulse, patient and poster pages; the logo re-encoded and cacheable."""

from __future__ import annotations

import hashlib
import io
import random
import re
import struct
import zlib

import pytest
from itsdangerous import URLSafeSerializer
from PIL import Image, ImageDraw, PngImagePlugin
from sqlmodel import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from survey_app.models import Neighbourhood, Site, StaffMember
from survey_app.pulse import branding
from survey_app.scheduling.tick import UNSUBSCRIBE_SALT

SETTINGS = {"invitation_gap_days": "21", "max_messages_per_wave": "2",
            "action_stages": "Plan,Do,Study,Act"}
DISPLAY = "Test Integrated Neighbourhood Team, part of NHS North Example ICB"
CONTACT = {"display_name": DISPLAY, "contact_text": "INT office, Test Health Centre",
           "contact_email": "int.office@example.test", "contact_phone": "0113 496 0999"}
# Only these chunks may survive re-encoding: pixels, palette, transparency, nothing else.
PIXEL_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


def _png(size=(600, 200), mode="RGBA", **save) -> bytes:
    image = Image.new(mode, size, (255, 255, 255, 0) if mode == "RGBA" else "white")
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse((width // 10, height // 10, width // 2, height * 9 // 10), fill="#005eb8")
    draw.rectangle((width * 6 // 10, height // 4, width * 9 // 10, height * 3 // 4),
                   fill="#00a499")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **save)
    return buffer.getvalue()


def _with_metadata() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone Real")
    info.add_text("Comment", "x" * 500, zip=True)  # zTXt
    info.add_itxt("Description", "An internal note", lang="en")
    exif = Image.Exif()
    exif[0x013B] = "Artist Name"
    return _png(pnginfo=info, exif=exif.tobytes(), icc_profile=b"\0" * 128, dpi=(300, 300))


def _chunks(png: bytes) -> list[bytes]:
    assert png[:8] == branding.PNG_SIGNATURE
    found, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        kind = png[offset + 4:offset + 8]
        body = png[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        found.append(kind)
        offset += 12 + length
    return found


def _noise(size=(240, 80)) -> bytes:
    rng = random.Random(13)
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(size[0]
                                                                             * size[1] * 3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _animated() -> bytes:
    frames = [Image.new("RGB", (120, 40), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:], duration=200)
    return buffer.getvalue()


def _other_format(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), "blue").save(buffer, format=kind)
    return buffer.getvalue()


def test_a_good_png_is_re_encoded_as_a_small_clean_png_within_the_box():
    upload = _with_metadata()
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"pHYs"} <= set(_chunks(upload))

    logo = branding.prepare_logo(upload)

    assert set(_chunks(logo.png)) <= PIXEL_CHUNKS
    assert b"Someone Real" not in logo.png and b"internal note" not in logo.png
    # 600 x 200 scaled into 240 x 80 keeps its 3:1 shape exactly.
    assert (logo.width, logo.height) == (240, 80)
    assert len(logo.png) <= branding.MAX_LOGO_BYTES == 2048
    assert logo.sha256 == hashlib.sha256(logo.png).hexdigest()
    decoded = Image.open(io.BytesIO(logo.png))
    decoded.load()
    assert decoded.format == "PNG" and decoded.size == (240, 80)
    assert set(decoded.info) <= {"transparency"}
    # The transparent corner stays transparent, the blue circle stays NHS blue (#005eb8,
    # give or take the palette's rounding).
    rgba = decoded.convert("RGBA")
    assert rgba.getpixel((2, 2))[3] == 0
    red, green, blue, alpha = rgba.getpixel((70, 40))
    assert alpha >= 250 and abs(red - 0) + abs(green - 94) + abs(blue - 184) <= 3


def test_a_small_logo_is_not_enlarged_and_an_opaque_one_loses_its_alpha():
    logo = branding.prepare_logo(_png(size=(90, 30), mode="RGB"))
    assert (logo.width, logo.height) == (90, 30)
    assert Image.open(io.BytesIO(logo.png)).mode in ("RGB", "P")


@pytest.fixture
def admin(client, make_team, make_user, login):
    make_team()  # the INT "test-int"
    make_user("admin")
    login(client, "admin@example.test")
    return client


def _post(client, hidden_fields, *, logo: bytes | None = None, **data):
    fields = hidden_fields(client.get("/admin/ints/test-int").data)
    values = {**fields, **SETTINGS, **data}
    if logo is not None:
        values["logo"] = FileStorage(io.BytesIO(logo), filename="logo.png",
                                     content_type="image/png")
    # Encoded here, in memory: the test client would spool a large upload to a temporary
    # file it never closes (a ResourceWarning, an error under this suite's settings).
    boundary, body = encode_multipart(values)
    return client.post("/admin/ints/test-int", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def _int(session) -> Neighbourhood:
    session.expire_all()
    return session.exec(select(Neighbourhood).where(Neighbourhood.slug == "test-int")).one()


def test_an_admin_sets_the_display_name_contact_and_logo(admin, session, hidden_fields):
    page = admin.get("/admin/ints/test-int").data.decode()
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    assert "Remove the logo" not in page  # nothing to remove yet

    saved = _post(admin, hidden_fields, **CONTACT, logo=_png())
    assert saved.status_code == 302

    neighbourhood = _int(session)
    assert (neighbourhood.display_name, neighbourhood.contact_text, neighbourhood.contact_email,
            neighbourhood.contact_phone) == tuple(CONTACT.values())
    assert neighbourhood.public_name == DISPLAY
    assert (neighbourhood.logo_width, neighbourhood.logo_height) == (240, 80)
    assert set(_chunks(neighbourhood.logo_png)) <= PIXEL_CHUNKS
    page = admin.get("/admin/ints/test-int").data.decode()
    assert "Remove the logo" in page
    assert f"/ints/test-int/logo/{neighbourhood.logo_sha256[:16]}.png" in page

    # Saving the other settings again keeps the logo; emptied fields fall back.
    assert _post(admin, hidden_fields, display_name=" ").status_code == 302
    neighbourhood = _int(session)
    assert neighbourhood.logo_png is not None and neighbourhood.display_name is None
    assert neighbourhood.public_name == "test-int INT"


BAD_FILES = {
    "empty": (b"", "The file is empty"),
    "jpeg": (_other_format("JPEG"), "The logo must be a PNG file"),
    "gif": (_other_format("GIF"), "The logo must be a PNG file"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "The logo must be a PNG file"),
    "corrupt": (branding.PNG_SIGNATURE + b"not really a png" * 20, "damaged or incomplete"),
    "truncated": (_png()[:400], "damaged or incomplete"),
    "animated": (_animated(), "a still image, not an animated PNG"),
    "too-large-file": (branding.PNG_SIGNATURE + b"\0" * branding.MAX_UPLOAD_BYTES,
                       "choose a logo file under 1 MB"),
    "too-many-pixels": (_png(size=(5000, 40), mode="RGB"), "5000 × 40 pixels"),
    "too-short": (_png(size=(120, 12), mode="RGB"), "only 12 pixels tall"),
    "too-detailed": (_noise(), "too detailed to load quickly on a phone"),
}


@pytest.mark.parametrize(("data", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_each_bad_file_gets_its_message_and_nothing_is_stored(admin, session, hidden_fields,
                                                              data, message):
    with pytest.raises(branding.LogoError, match=re.escape(message)):
        branding.prepare_logo(data)
    if data:  # an empty file part is "no file chosen": the form has nothing to check
        refused = _post(admin, hidden_fields, logo=data)
        assert refused.status_code == 400
        page = refused.data.decode().replace("&#39;", "'")
        assert "There is a problem" in page and message in page
        assert _int(session).logo_png is None


def test_a_new_logo_and_remove_together_is_refused(admin, session, hidden_fields):
    refused = _post(admin, hidden_fields, logo=_png(), remove_logo="y")
    assert refused.status_code == 400
    assert b"Choose a new logo or tick Remove the logo, not both" in refused.data


@pytest.mark.parametrize(("field", "value", "message"), [
    ("contact_email", "not-an-address", "Enter an email address like team@example.nhs.uk"),
    ("contact_phone", "call us", "Enter a phone number in digits"),
    ("contact_phone", "0" * 33, "32 characters or fewer"),
    ("display_name", "x" * 201, "Keep the name to 200 characters or fewer"),
    ("contact_text", "x" * 301, "Keep it to 300 characters or fewer"),
])
def test_bad_contact_details_get_their_message(admin, session, hidden_fields, field, value,
                                               message):
    refused = _post(admin, hidden_fields, **{field: value})
    assert refused.status_code == 400 and message in refused.data.decode()
    assert getattr(_int(session), field) is None


def test_removing_the_logo_leaves_the_name_alone(admin, session, hidden_fields):
    assert _post(admin, hidden_fields, logo=_png()).status_code == 302
    old = f"/ints/test-int/logo/{_int(session).logo_sha256[:16]}.png"
    assert admin.get(old).status_code == 200

    assert _post(admin, hidden_fields, remove_logo="y").status_code == 302
    neighbourhood = _int(session)
    assert (neighbourhood.logo_png, neighbourhood.logo_sha256, neighbourhood.logo_width) == (
        None, None, None)
    assert admin.get(old).status_code == 404


# --- the pages that speak for the INT --------------------------------------------


@pytest.fixture
def branded(session, make_site):
    """INT test-int with a display name, contact and logo, and its site RMP."""
    if session.exec(select(Site).where(Site.code == "RMP")).first() is None:
        make_site("RMP")  # unless the kiosk fixture made it
    neighbourhood = _int(session)
    for name, value in CONTACT.items():
        setattr(neighbourhood, name, value)
    branding.set_logo(neighbourhood, branding.prepare_logo(_png()))
    session.add(neighbourhood)
    session.commit()
    return neighbourhood


def _header(html: str) -> str:
    match = re.search(r"<header.*?</header>", html, re.S)
    assert match is not None
    return match.group(0)


def _footer(html: str) -> str:
    match = re.search(r"<footer.*?</footer>", html, re.S)
    assert match is not None
    return match.group(0)


@pytest.fixture
def pages(app, client, session, branded, open_wave, make_user, login, hidden_fields):
    """Each kind of page that speaks for the INT: name -> its HTML."""
    wave = open_wave(slug="district-nursing-2")
    member = session.get(StaffMember, next(iter(wave.tokens)))
    signed = URLSafeSerializer(app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT).dumps(member.id)
    found = {
        "staff pulse page": client.get(wave.url(member.id)),
        "staff thank-you page": client.get("/thank-you/test-int/district-nursing-2"),
        "staff unsubscribe page": client.get(f"/unsubscribe/{signed}"),
        "patient QR page": client.get("/q/RMP"),
        "patient QR thank-you page": client.get("/q/RMP/thanks"),
    }
    make_user("recorder", sites=("RMP",))
    login(client, "recorder@example.test")
    found["QR poster"] = client.get("/sites/RMP/poster")
    for name, response in found.items():
        assert response.status_code == 200, name
    return {name: response.data.decode() for name, response in found.items()}


PAGE_KINDS = ["staff pulse page", "staff thank-you page", "staff unsubscribe page",
              "patient QR page", "patient QR thank-you page", "QR poster"]


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_the_header_names_the_int_with_its_logo(pages, branded, kind):
    header = _header(pages[kind])
    assert f'<span class="nhsuk-header__service-name">{DISPLAY}</span>' in header
    assert ">Pulse<" not in header
    logo = f'src="/ints/test-int/logo/{branded.logo_sha256[:16]}.png" width="240" height="80"'
    assert logo in header


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_the_footer_gives_the_ints_contact(pages, kind):
    footer = _footer(pages[kind])
    assert f"Questions? Contact {DISPLAY}" in footer
    assert "INT office, Test Health Centre" in footer
    assert '<a href="mailto:int.office@example.test">int.office@example.test</a>' in footer
    assert '<a href="tel:01134960999">0113 496 0999</a>' in footer


def test_the_printed_poster_names_the_int_and_shows_its_logo(pages, branded):
    poster = re.search(r'<div class="pulse-poster__from pulse-poster__from--logo">.*?<h1',
                       pages["QR poster"], re.S)
    assert poster is not None
    assert f'<p class="pulse-poster__int">{DISPLAY}</p>' in poster.group(0)
    assert f"/ints/test-int/logo/{branded.logo_sha256[:16]}.png" in poster.group(0)


@pytest.mark.parametrize("url", ["/kiosk", "/kiosk/thanks"])
def test_the_kiosk_header_names_the_int(kiosk, session, branded, url):
    # Full screen, a kiosk has one line of contact in place of the page footer.
    html = kiosk.get(url).data.decode()
    header = _header(html)
    assert f'<span class="nhsuk-header__service-name">{DISPLAY}</span>' in header
    assert f"/ints/test-int/logo/{branded.logo_sha256[:16]}.png" in header
    assert '<footer class="nhsuk-footer">' not in html
    line = re.search(r'<footer class="pulse-kiosk-contact">(.*?)</footer>', html, re.S)
    assert line is not None
    assert " ".join(re.sub(r"<[^>]+>", " ", line.group(1)).split()) == (
        f"Questions? Contact {DISPLAY}: phone 0113 496 0999, or email int.office@example.test. "
        "Privacy notice")


def test_an_int_without_display_settings_shows_its_name_and_no_contact(client, make_site):
    make_site("RMP")
    html = client.get("/q/RMP").data.decode()
    assert '<span class="nhsuk-header__service-name">test-int INT</span>' in _header(html)
    assert "<img" not in _header(html)
    footer = _footer(html)
    assert "Asked by test-int INT" in footer and "mailto:" not in footer


@pytest.mark.parametrize("url", ["/login", "/p"])
def test_pages_of_no_int_keep_the_generic_header_and_footer(client, branded, url):
    html = client.get(url).data.decode()
    assert '<span class="nhsuk-header__service-name">Pulse</span>' in _header(html)
    footer = _footer(html)
    assert DISPLAY not in footer and "Pulse: light, anonymous measurement" in footer


# --- the logo's own address -----------------------------------------------------


def test_the_logo_is_served_cacheable_for_a_year_without_a_session(client, branded):
    url = f"/ints/test-int/logo/{branded.logo_sha256[:16]}.png"
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == branded.logo_png
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["ETag"] == f'"{branded.logo_sha256}"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response.headers

    again = client.get(url, headers={"If-None-Match": f'"{branded.logo_sha256}"'})
    assert again.status_code == 304 and again.data == b""


@pytest.mark.parametrize("url", ["/ints/test-int/logo/0000000000000000.png",
                                 "/ints/no-such-int/logo/0000000000000000.png"])
def test_an_old_or_unknown_logo_address_is_not_found(client, branded, url):
    assert client.get(url).status_code == 404


def test_an_int_without_a_logo_has_no_logo_address(client, make_site, session):
    make_site("RMP")
    assert _int(session).logo_sha256 is None
    assert client.get("/ints/test-int/logo/none.png").status_code == 404


@pytest.mark.parametrize("damage", ["cut short", "bad checksum", "no end"])
def test_a_damaged_png_is_refused_even_after_weasyprint_relaxes_pillow(monkeypatch, damage):
    # WeasyPrint sets this process-wide on import, and a PDF may be drawn before an upload.
    from PIL import ImageFile
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    good = _png()
    damaged = {"cut short": good[:400],
               "bad checksum": good[:-20] + bytes([good[-20] ^ 1]) + good[-19:],
               "no end": good[:-12]}[damage]  # IEND is the last 12 bytes
    with pytest.raises(branding.LogoError, match="damaged or incomplete"):
        branding.prepare_logo(damaged)
    assert branding.prepare_logo(good).png.startswith(branding.PNG_SIGNATURE)
