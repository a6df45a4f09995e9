"""The clinician's record page: the site is chosen, never guessed, and a mistyped NHS
number is kept on the re-shown page (only there) with a plain reason (test client)."""

from __future__ import annotations

import logging
import re

import pytest
from sqlmodel import select

from survey_app.models import ActivationRating, Site

CHOOSE_FIRST = "Choose your site first"


@pytest.fixture
def sites(make_site):
    for code in ("RMP", "HUB", "ALD"):  # ALD sorts first: the site the old page guessed
        make_site(code)
    make_site("FAR", int_slug="other-int")


@pytest.fixture
def several(client, sites, make_user, login):
    make_user("recorder", sites=("RMP", "HUB", "ALD"))
    assert login(client, "recorder@example.test").status_code == 302
    return client


@pytest.fixture
def one(client, sites, make_user, login):
    make_user("recorder", sites=("RMP",))
    assert login(client, "recorder@example.test").status_code == 302
    return client


def _ratings(session):
    session.expire_all()
    return list(session.exec(select(ActivationRating)).all())


def _site_code(session, rating):
    return session.get(Site, rating.site_id).code


def _shown_site(html: str) -> str | None:
    """The site shown large as chosen, if any."""
    found = re.search(r'<p class="nhsuk-heading-m[^"]*">([^<]*)</p>', html)
    return found[1] if found else None


def _rating_form(html: str) -> str:
    """The form that holds the rating buttons."""
    [form] = [f for f in re.findall(r"<form\b.*?</form>", html, re.S) if 'name="rating"' in f]
    return form


def _inputs(form_html: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', form_html))


def _rating_data(client, **answers):
    page = client.get("/activation/record")
    assert page.status_code == 200
    return {**_inputs(_rating_form(page.data.decode())), "consultation_type": "gp", **answers}


def _choose(client, hidden_fields, code):
    fields = hidden_fields(client.get("/activation/record").data)
    return client.post("/activation/record",
                       data={"csrf_token": fields["csrf_token"], "site": code,
                             "choose_site": ""})


# --- one site: fixed --------------------------------------------------------------


def test_a_recorder_with_one_site_has_it_fixed_and_shown(one, session):
    html = one.get("/activation/record").data.decode()
    assert "Site RMP" in html
    assert '<select class="nhsuk-select" id="site"' not in html  # not a choice
    assert CHOOSE_FIRST not in html and "disabled" not in _rating_form(html)
    assert one.post("/activation/record", data=_rating_data(one, rating="3")).status_code == 302
    [rating] = _ratings(session)
    assert _site_code(session, rating) == "RMP"


# --- several sites: chosen at each sign-in -------------------------------------------


def test_several_sites_nothing_is_preselected_and_rating_waits_for_a_choice(several):
    html = several.get("/activation/record").data.decode()
    select_html = re.search(r'<select[^>]*name="site".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([A-Z]*)"', select_html) == ["", "ALD", "HUB", "RMP"]
    assert "selected" not in select_html
    form = _rating_form(html)
    assert CHOOSE_FIRST in form
    assert 'name="site"' not in form  # no site travels with a rating until one is chosen
    buttons = re.findall(r'<button[^>]*name="rating"[^>]*>', form)
    assert len(buttons) == 4 and all(" disabled" in button for button in buttons)


@pytest.mark.parametrize("site", [None, ""])
def test_a_rating_without_a_chosen_site_is_refused_and_nothing_stored(several, session,
                                                                    site):
    data = _rating_data(several, rating="2")
    if site is not None:
        data["site"] = site
    result = several.post("/activation/record", data=data)
    assert result.status_code == 400
    html = result.data.decode()
    assert 'class="nhsuk-error-summary"' in html and CHOOSE_FIRST in html
    assert _ratings(session) == []
    # Still nothing chosen, nothing guessed.
    assert 'name="site"' not in _rating_form(html)


def test_the_chosen_site_is_shown_large_with_change_and_ratings_go_to_it(
        several, session, hidden_fields):
    assert _choose(several, hidden_fields, "HUB").status_code == 302
    html = several.get("/activation/record").data.decode()
    assert _shown_site(html) == "Site HUB"
    assert re.search(r'<a [^>]*href="/activation/record\?change=site"[^>]*>Change', html)
    form = _rating_form(html)
    assert CHOOSE_FIRST not in form and " disabled" not in form
    assert _inputs(form)["site"] == "HUB"
    for value in ("4", "1"):  # remembered: each next patient is one tap
        assert several.post("/activation/record",
                            data=_rating_data(several, rating=value)).status_code == 302
    assert [_site_code(session, r) for r in _ratings(session)] == ["HUB", "HUB"]
    assert _shown_site(several.get("/activation/record").data.decode()) == "Site HUB"


def test_change_offers_the_choice_again_and_a_new_choice_is_used(several, session,
                                                                 hidden_fields):
    _choose(several, hidden_fields, "HUB")
    html = several.get("/activation/record?change=site").data.decode()
    assert CHOOSE_FIRST in _rating_form(html)
    assert '<select class="nhsuk-select" id="site" name="site"' in html
    assert _choose(several, hidden_fields, "RMP").status_code == 302
    several.post("/activation/record", data=_rating_data(several, rating="3"))
    [rating] = _ratings(session)
    assert _site_code(session, rating) == "RMP"


def test_the_choice_lasts_one_sign_in_only(several, hidden_fields, login):
    _choose(several, hidden_fields, "HUB")
    fields = hidden_fields(several.get("/activation/record").data)
    assert several.post("/logout", data={"csrf_token": fields["csrf_token"]}).status_code == 302
    assert login(several, "recorder@example.test").status_code == 302
    html = several.get("/activation/record").data.decode()
    assert CHOOSE_FIRST in _rating_form(html) and _shown_site(html) is None
    assert "selected" not in re.search(r'<select[^>]*name="site".*?</select>', html, re.S)[0]


@pytest.mark.parametrize("code, message", [
    ("", "Choose your site"),
    ("FAR", "Choose one of your sites"),   # a real site outside this recorder's scope
    ("NOPE", "Choose one of your sites"),
])
def test_choosing_a_site_outside_the_list_is_refused(several, session, hidden_fields, code,
                                                    message):
    result = _choose(several, hidden_fields, code)
    assert result.status_code == 400
    html = result.data.decode()
    assert message in html and 'class="nhsuk-error-summary"' in html
    assert CHOOSE_FIRST in _rating_form(html)


def test_a_rating_names_its_site_and_a_site_outside_scope_is_refused(several, session):
    # The site travels with the rating (what the page showed is what is filed) and
    # is checked against the recorder's sites every time.
    data = _rating_data(several, rating="2", site="FAR")
    result = several.post("/activation/record", data=data)
    assert result.status_code == 400 and "Choose one of your sites" in result.data.decode()
    assert _ratings(session) == []


# --- a mistyped NHS number ------------------------------------------------------------


LENGTH = "An NHS number has 10 digits"
CHECK_DIGIT = "This is not a valid NHS number: check the last digit"


@pytest.mark.parametrize("typed, message", [
    ("943476591", LENGTH),          # 9 digits
    ("94347659191", LENGTH),        # 11 digits
    ("94347A5919", LENGTH),         # not all digits
    ("9434765918", CHECK_DIGIT),    # 10 digits, the last one wrong
    ("943 476 5918", CHECK_DIGIT),  # spaced as on a letter
])
def test_a_bad_nhs_number_is_kept_on_the_reshown_page_with_the_precise_reason(
        one, session, caplog, typed, message):
    caplog.set_level(logging.DEBUG)
    result = one.post("/activation/record",
                      data=_rating_data(one, rating="2", nhs_number=typed, proxy="y"))
    assert result.status_code == 400
    assert "no-store" in result.headers["Cache-Control"]
    html = result.data.decode()
    field = re.search(r'<input[^>]*id="nhs_number"[^>]*>', html).group(0)
    assert f'value="{typed}"' in field
    summary = re.search(r'class="nhsuk-error-summary".*?</ul>', html, re.S).group(0)
    assert f'<a href="#nhs_number">{message}</a>' in summary
    assert f'id="nhs_number-error"><span class="nhsuk-u-visually-hidden">Error:</span> ' \
           f"{message}</span>" in html
    assert re.search(r'<details class="nhsuk-details pulse-details" open>', html)
    assert _ratings(session) == []
    digits = typed.replace(" ", "")
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert digits not in logged and typed not in logged
    # Only on the re-shown page: the next page does not carry it.
    again = one.get("/activation/record")
    assert "no-store" in again.headers["Cache-Control"]
    assert digits not in again.data.decode() and typed not in again.data.decode()


def test_a_good_nhs_number_after_a_bad_one_is_stored_only_as_a_pseudonym(one, session):
    one.post("/activation/record", data=_rating_data(one, rating="2", nhs_number="9434765918"))
    assert one.post("/activation/record",
                    data=_rating_data(one, rating="2", nhs_number="9434765919")).status_code == 302
    [rating] = _ratings(session)
    assert rating.patient_pseudonym and "9434765919" not in rating.patient_pseudonym
    assert "9434765919" not in one.get("/activation/record").data.decode()


def test_a_missing_site_keeps_the_typed_nhs_number_too(several, session):
    result = several.post("/activation/record",
                          data=_rating_data(several, rating="2", nhs_number="9434765919"))
    assert result.status_code == 400 and CHOOSE_FIRST in result.data.decode()
    assert "no-store" in result.headers["Cache-Control"]
    assert 'value="9434765919"' in result.data.decode()
    assert _ratings(session) == []
