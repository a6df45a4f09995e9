"""The privacy notices and the accessibility statement say what the live settings say.

Each fact is changed in the database or the config and the page is read again, so a
notice that quoted a fixed text instead of the settings would fail.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from survey_app.models import Neighbourhood, Site
from survey_app.scheduling.channels.templates import (
    SMS_TEXT_LIMIT,
    invitation_message,
    reminder_message,
)
from survey_app.scheduling.dispatch import LinkSettings

pytestmark = pytest.mark.db

STAFF = "/ints/riverside/privacy/staff"
PATIENTS = "/ints/riverside/privacy/patients"
CLOSES = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


def _text(response, status: int = 200) -> str:
    assert response.status_code == status, response.status_code
    return " ".join(re.sub(r"<[^>]+>", " ", response.data.decode()).split())


def _footer_links(response) -> list[tuple[str, str]]:
    footer = response.data.decode().split('<footer class="nhsuk-footer">', 1)[1]
    return [(text, href) for href, text in
            re.findall(r'class="nhsuk-footer__list-item-link" href="([^"]+)">([^<]+)<', footer)]


def _save(session, neighbourhood: Neighbourhood, **values) -> None:
    for name, value in values.items():
        setattr(neighbourhood, name, value)
    session.add(neighbourhood)
    session.commit()


def test_the_notices_quote_the_ints_live_retention_periods(client, session, riverside):
    assert "Individual answers to each question 2 years after the pulse closes" in _text(
        client.get(STAFF))
    assert "Patient activation ratings and their pseudonyms 3 years after the rating" in _text(
        client.get(PATIENTS))

    _save(session, riverside, retain_answers_days=400, retain_ratings_days=1460)

    staff = _text(client.get(STAFF))
    assert "Individual answers to each question 400 days after the pulse closes" in staff
    assert "2 years after the pulse closes" not in staff
    assert "Patient activation ratings and their pseudonyms 4 years after the rating" in _text(
        client.get(PATIENTS))
    # The generic notice shows the standard periods, not one INT's.
    assert "Individual answers to each question 2 years after the pulse closes" in _text(
        client.get("/privacy/staff"))


@pytest.mark.parametrize(("days", "words"), [(None, "2 years"), (90, "3 months")])
def test_the_audit_logs_period_comes_from_the_setting(app, client, riverside, days, words):
    if days is not None:
        app.config["PULSE_RETAIN_AUDIT_DAYS"] = days
    assert f"with who and when {words} after the event" in _text(client.get(PATIENTS))


def test_blank_controller_facts_say_not_yet_set_and_whom_to_ask(client, riverside):
    text = _text(client.get(STAFF))
    ask = "Not yet set by the INT: ask Riverside"
    assert f"Data controller {ask}" in text
    assert f"Data protection officer {ask}" in text
    assert f"Lawful basis for using staff data {ask}" in text
    assert "at int.office@riverside-int.example." in text


def test_the_controller_dpo_and_lawful_bases_set_are_shown(client, session, riverside):
    _save(session, riverside, controller_name="NHS North Example ICB",
          dpo_contact="dpo@north.example.nhs.uk",
          lawful_basis_staff="Article 6(1)(e): staff survey basis",
          lawful_basis_patients="Article 6(1)(e) and 9(2)(h): patient basis")

    staff = _text(client.get(STAFF))
    assert "Data controller NHS North Example ICB" in staff
    assert "Data protection officer dpo@north.example.nhs.uk" in staff
    assert "Lawful basis for using staff data Article 6(1)(e): staff survey basis" in staff
    assert "patient basis" not in staff and "Not yet set" not in staff
    patients = _text(client.get(PATIENTS))
    assert "Article 6(1)(e) and 9(2)(h): patient basis" in patients
    assert "staff survey basis" not in patients


def test_the_generic_notice_lists_each_ints_own(client, riverside):
    response = client.get("/privacy/patients")
    assert 'href="/ints/riverside/privacy/patients"' in response.data.decode()
    assert "Each Integrated Neighbourhood Team (INT) that uses Pulse is the data controller" in (
        _text(response))


class TestThreshold:
    @pytest.fixture
    def app_config(self):
        return {"PULSE_SUPPRESSION_THRESHOLD": 8, "PULSE_FREE_TEXT_THRESHOLD": 12}

    def test_the_suppression_thresholds_are_the_settings(self, client, riverside):
        staff = _text(client.get(STAFF))
        assert "Results for any group of fewer than 8 people are never shown" in staff
        assert "Comments are shown only for a pulse with at least 12 answers" in staff
        assert "A group of fewer than 8 answers is never shown" in _text(client.get(PATIENTS))


def test_an_unknown_int_or_audience_is_a_404(client, riverside):
    assert client.get("/ints/nowhere/privacy/staff").status_code == 404
    assert client.get("/ints/riverside/privacy/visitors").status_code == 404
    assert client.get("/ints/nowhere/accessibility").status_code == 404


def test_a_staff_page_links_the_ints_staff_notice(client, riverside):
    links = _footer_links(client.get("/results/riverside/district-nursing"))
    assert links == [("Privacy notice", STAFF),
                     ("Accessibility statement", "/ints/riverside/accessibility")]


def test_a_patient_page_links_the_ints_patient_notice(client, session, riverside):
    site = session.exec(select(Site).where(Site.neighbourhood_id == riverside.id)).first()
    links = _footer_links(client.get(f"/q/{site.code}"))
    assert links == [("Privacy notice", PATIENTS),
                     ("Accessibility statement", "/ints/riverside/accessibility")]


def test_the_kiosk_line_links_the_patient_notice(kiosk):
    page = kiosk.get("/kiosk").data.decode()
    contact = page.split('<footer class="pulse-kiosk-contact">', 1)[1]
    assert re.search(r'href="/ints/[^/"]+/privacy/patients">Privacy notice</a>', contact)


def test_a_lead_page_links_both_notices(client, riverside, make_user, login):
    make_user("lead", ints=("riverside",))
    login(client, "lead@example.test")
    links = _footer_links(client.get("/reports", follow_redirects=True))
    assert links == [("Privacy notice for staff", "/privacy/staff"),
                     ("Privacy notice for patients", "/privacy/patients"),
                     ("Accessibility statement", "/accessibility")]


@pytest.mark.parametrize("render", [invitation_message, reminder_message])
@pytest.mark.parametrize(("base_url", "in_sms"), [
    ("https://pulse.example.nhs.uk", True),
    ("https://pulse.riverside-int.north-example-icb.nhs.uk", True),
    # Too long for any wording: the SMS keeps one fragment and drops the notice (the
    # email still carries it).
    ("https://pulse.riverside-integrated-neighbourhood-team.north-example-icb.nhs.uk", False),
])
def test_each_message_carries_the_staff_notice_within_the_sms_budget(render, base_url, in_sms):
    links = LinkSettings(base_url, "k" * 32)
    link = links.pulse_link("t" * 32)
    message = render("Bartholomew-Fitzwilliam Ozymandias",
                     "Riverside and Meadowbank Integrated Community Nursing Service", link,
                     CLOSES, f"{base_url}/u", privacy_link=links.privacy_link())
    notice = f"{base_url}/privacy/staff"
    assert f"How Pulse uses your data:\n{notice}\n" in message.text
    assert f'<a href="{notice}">How Pulse uses your data</a>' in message.html
    first_line, link_line = message.sms.split("\n")
    assert len(first_line) <= SMS_TEXT_LIMIT
    assert first_line.endswith(f" Privacy: {notice}") is in_sms
    assert link_line == link


def test_the_statement_has_the_regulations_headings_and_the_ints_contact(client, riverside):
    response = client.get("/ints/riverside/accessibility")
    headings = re.findall(r"<h[23][^>]*>([^<]+)</h[23]>", response.data.decode())
    for heading in ("Using this service", "How accessible this service is",
                    "Feedback and contact information",
                    "Reporting accessibility problems with this service",
                    "Enforcement procedure",
                    "Technical information about this service's accessibility",
                    "Compliance status", "Non-accessible content",
                    "Preparation of this accessibility statement"):
        assert heading in [h.replace("&#39;", "'") for h in headings], heading
    text = _text(response)
    assert "partially compliant with the Web Content Accessibility Guidelines version 2.2" in text
    assert "email int.office@riverside-int.example" in text
    assert "call 0113 496 0123" in text
    assert "not tagged PDFs" in text
    assert "prepared on 4 December 2026" in text


def test_the_ints_notice_fields_are_saved_from_its_settings_page(
        client, session, riverside, make_user, login, hidden_fields):
    make_user("admin")
    login(client, "admin@example.test")
    page = client.get("/admin/ints/riverside")
    fields = _settings_fields(page.data.decode(), hidden_fields)
    fields |= {"controller_name": "  NHS North Example ICB ", "dpo_contact": "",
               "lawful_basis_staff": "Article 6(1)(e)", "lawful_basis_patients": "x" * 1001}
    refused = _text(client.post("/admin/ints/riverside", data=fields), 400)
    assert "Keep the lawful basis for patient data to 1000 characters or fewer" in refused

    fields["lawful_basis_patients"] = "Article 9(2)(h)"
    assert client.post("/admin/ints/riverside", data=fields).status_code == 302
    session.expire_all()
    saved = session.get(Neighbourhood, riverside.id)
    assert (saved.controller_name, saved.dpo_contact, saved.lawful_basis_staff,
            saved.lawful_basis_patients) == ("NHS North Example ICB", None, "Article 6(1)(e)",
                                             "Article 9(2)(h)")


def _settings_fields(page: str, hidden_fields) -> dict[str, str]:
    """Every field of the settings form as the page filled it in, ready to post back."""
    fields = dict(hidden_fields(page.encode()))
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page):
        fields.setdefault(name, value.replace("&#39;", "'").replace("&amp;", "&"))
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', page):
        fields.setdefault(name, value.strip().replace("&#39;", "'").replace("&amp;", "&"))
    return {k: v for k, v in fields.items() if k not in ("logo", "remove_logo")}
