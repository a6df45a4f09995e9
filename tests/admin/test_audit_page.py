"""The audit log in words (/admin/audit): each action as a sentence, pages, filters."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from survey_app.admin.audit_log import (
    ACTIONS,
    NO_ONE,
    AuditEntry,
    AuditFilter,
    Names,
    describe,
    find_events,
    load_names,
)
from survey_app.core import audit

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 3, 17, 9, 5, tzinfo=UTC)
NAMES = Names(ints={"riverside": "Riverside"},
              teams={"riverside/district-nursing": "District nursing"},
              sites={"RMP": "Riverside Medical Practice"},
              kiosks={"3": "“Tablet 1” at Riverside Medical Practice"},
              schedules={"5": "District nursing", "6": "every team of Riverside"})
LEAD = "lead@example.test"

# (action, target, details, the sentence), one or more for every action Pulse records.
WORDS = [
    ("auth.login", None, {}, f"{LEAD} signed in"),
    ("auth.login_failed", None, {}, f"{LEAD} failed to sign in"),
    ("auth.logout", None, {}, f"{LEAD} signed out"),
    ("auth.password_change", None, {}, f"{LEAD} changed their password"),
    ("auth.session_ended", None, {}, f"{LEAD} came back to a session that had ended"),
    ("auth.mfa_enrolled", None, {}, f"{LEAD} set up two-step sign-in"),
    ("auth.mfa_failed", None, {}, f"{LEAD} entered a two-step code that was not right"),
    ("auth.reset_requested", None, {}, f"{LEAD} asked for a password reset link"),
    ("auth.reset_completed", None, {}, f"{LEAD} set a new password from a reset link"),
    ("users.send_reset", "new@example.test", {},
     f"{LEAD} sent a password reset link to new@example.test"),
    ("users.remove_two_step", "new@example.test", {},
     f"{LEAD} removed the two-step sign-in of new@example.test"),
    ("auth.oidc_login", None, {"linked": True},
     f"{LEAD} signed in with their organisation account (linked at this first sign-in)"),
    ("auth.oidc_refused", "x@nhs.net", {"reason": "unknown_user"},
     f"{LEAD} was refused an organisation sign-in as x@nhs.net (no Pulse account)"),
    ("settings.local_passwords", None, {"local_passwords": "off"},
     f"{LEAD} turned Pulse passwords off"),
    ("users.create", "new@example.test", {}, f"{LEAD} added the user new@example.test"),
    ("users.update", "new@example.test", {}, f"{LEAD} changed the user new@example.test"),
    ("users.reset_password", "new@example.test", {},
     f"{LEAD} reset the password of new@example.test"),
    ("report.view", "overview:riverside", {}, f"{LEAD} viewed the overview of Riverside"),
    ("report.view", "index", {}, f"{LEAD} viewed the list of reports"),
    ("report.view", "icb", {}, f"{LEAD} viewed the ICB report"),
    ("report.view", "activation:riverside", {},
     f"{LEAD} viewed the activation report of Riverside"),
    ("report.view", "team:riverside/district-nursing", {},
     f"{LEAD} viewed the team report of District nursing (Riverside)"),
    ("report.pdf", "team:riverside/district-nursing", {},
     f"{LEAD} downloaded the team report of District nursing (Riverside) as a PDF"),
    ("report.csv", "team:riverside/district-nursing", {"file": "district-nursing-measures"},
     f"{LEAD} exported the team CSV of District nursing (Riverside)"),
    ("report.csv", "overview:riverside", {"file": "riverside-overview"},
     f"{LEAD} exported the overview CSV of Riverside"),
    ("report.csv", "activation:riverside", {"file": "riverside-activation-sites"},
     f"{LEAD} exported an activation CSV (sites) of Riverside"),
    ("report.csv", "icb", {"file": "icb"}, f"{LEAD} exported the ICB CSV"),
    ("export.fhir", "activation:riverside", {"resource": "Bundle", "ratings": 12},
     f"{LEAD} exported the FHIR bundle of Riverside's activation ratings (12 ratings)"),
    ("export.fhir", "questionnaire:patient-activation",
     {"resource": "Questionnaire", "version": 2},
     f"{LEAD} exported the FHIR questionnaire (version 2)"),
    ("action.add", "team:riverside/district-nursing", {"action_id": 4, "stage": "Plan"},
     f"{LEAD} added an action under “Plan” to the log of District nursing (Riverside)"),
    ("rebase.add", "team:riverside/district-nursing", {"wave_id": 9},
     f"{LEAD} set a new baseline for District nursing (Riverside)"),
    ("api.read", "/api/v1/ints", {"status": 200, "token_id": 7},
     f"{LEAD} read /api/v1/ints through the API with API token 7"),
    ("api.read", "/api/v1/ints/elsewhere/overview", {"status": 403, "token_id": 7},
     f"{LEAD} read /api/v1/ints/elsewhere/overview through the API with API token 7, "
     "refused (403)"),
    ("api_token.create", "api_token:7", {}, f"{LEAD} created API token 7"),
    ("api_token.revoke", "api_token:7", {}, f"{LEAD} revoked API token 7"),
    ("int.create", "riverside", {}, f"{LEAD} created the INT Riverside"),
    ("int.settings", "riverside", {}, f"{LEAD} changed the settings of Riverside"),
    ("team.create", "riverside/district-nursing", {},
     f"{LEAD} created the team District nursing (Riverside)"),
    ("site.create", "RMP", {}, f"{LEAD} added the site Riverside Medical Practice (RMP)"),
    ("kiosk.enrol", "3", {}, f"{LEAD} enrolled the kiosk “Tablet 1” at Riverside Medical "
                             "Practice"),
    ("kiosk.revoke", "99", {}, f"{LEAD} revoked kiosk 99"),
    ("schedule.set", "5", {}, f"{LEAD} saved the schedule of District nursing"),
    ("schedule.pause", "6", {}, f"{LEAD} paused the schedule of every team of Riverside"),
    ("schedule.resume", "5", {}, f"{LEAD} resumed the schedule of District nursing"),
    ("roster.import", "riverside", {"created": 3, "updated": 2},
     f"{LEAD} imported the staff roster of Riverside (3 added, 2 updated)"),
    ("message.resend", "41", {"kind": "reminder", "wave_id": 2},
     f"{LEAD} queued message 41 (a reminder) to be sent again"),
    ("activation.record.clinician", "17", {},
     f"{LEAD} recorded a patient activation rating in a consultation"),
    ("activation.record.kiosk", "18", {},
     f"{LEAD} recorded a patient activation rating on a kiosk"),
    ("activation.record.qr", "19", {}, f"{LEAD} recorded a patient activation rating by QR code"),
    ("activation.undo", "17", {}, f"{LEAD} undid activation rating 17"),
    ("pseudonyms.end_transition", "k1", {"unlinked": 4},
     f"{LEAD} ended the change from pseudonym key k1 (4 earlier ratings unlinked)"),
    ("retention.purge", "", {"total": 120, "removed": {"riverside/retain_answers_days": 120}},
     f"{LEAD} removed 120 rows past their retention period"),
]


@pytest.mark.parametrize(("action", "target", "detail", "sentence"), WORDS,
                         ids=[f"{w[0]}-{w[1]}" for w in WORDS])
def test_each_action_reads_as_a_sentence(action, target, detail, sentence):
    assert describe(AuditEntry(AT, LEAD, action, target, detail), NAMES) == sentence


def test_the_sentences_cover_every_action_and_the_code_records_no_other():
    assert {w[0] for w in WORDS} == set(ACTIONS)
    source = "\n".join(path.read_text() for path in (ROOT / "survey_app").rglob("*.py"))
    literal = set(re.findall(r'(?:action=|audit_view\()"([a-z_.]+)"', source))
    literal |= set(re.findall(r'return "(report\.[a-z]+)" if', source))  # page_action()
    assert literal and literal <= set(ACTIONS), sorted(literal - set(ACTIONS))
    # Actions built from a prefix: schedule.pause/resume, activation.record.<channel>.
    for prefix in re.findall(r'action=f"([a-z_.]+)\{', source):
        assert any(action.startswith(prefix) for action in ACTIONS), prefix
    assert {a for a in ACTIONS if a.startswith("activation.record.")} == {
        "activation.record.clinician", "activation.record.kiosk", "activation.record.qr"}


@pytest.mark.parametrize(("action", "sentence"), [
    ("auth.login_failed", "Someone not signed in failed to sign in"),
    ("activation.record.qr", "A patient recorded a patient activation rating by QR code"),
    ("int.create", "A command on the server created the INT riverside"),
])
def test_with_no_one_signed_in_the_sentence_says_who_acted(action, sentence):
    assert describe(AuditEntry(AT, None, action, "riverside", {}), Names()) == sentence


def test_an_unknown_action_still_reads_plainly():
    entry = AuditEntry(AT, LEAD, "poster.print_batch", "RMP", {"copies": 3})
    assert describe(entry, NAMES) == f"{LEAD}: poster print batch (RMP)"
    assert describe(AuditEntry(AT, LEAD, "widget", None, {}), NAMES) == f"{LEAD}: widget"


def test_names_come_from_the_demo_int(session, riverside):
    names = load_names(session)
    assert names.ints["riverside"] == "Riverside Integrated Neighbourhood Team"
    assert names.teams["riverside/district-nursing"] == "District nursing"
    assert names.sites["RMP"] == "Riverside Medical Practice"
    entry = AuditEntry(AT, LEAD, "report.csv", "team:riverside/district-nursing", {})
    assert describe(entry, names) == (f"{LEAD} exported the team CSV of District nursing "
                                      "(Riverside Integrated Neighbourhood Team)")


# --- pages and filters -----------------------------------------------------------------


def _events(session, count, *, user_id=None, action="report.view", start=AT):
    """``count`` events an hour apart from ``start``, targets "t0", "t1"..."""
    for n in range(count):
        audit.record(session, user_id=user_id, action=action, target=f"t{n}",
                     now=start + timedelta(hours=n))
    session.commit()


def test_pages_hold_the_newest_first_and_end_where_the_events_do(app, session):
    _events(session, 7)
    first = find_events(session, chosen=AuditFilter(), number=1, size=3)
    assert [e.target for e in first.items] == ["t6", "t5", "t4"]
    assert (first.total, first.pages) == (7, 3)
    last = find_events(session, chosen=AuditFilter(), number=3, size=3)
    assert [e.target for e in last.items] == ["t0"]
    assert find_events(session, chosen=AuditFilter(), number=4, size=3).items == []
    exact = find_events(session, chosen=AuditFilter(), number=1, size=7)
    assert exact.pages == 1 and len(exact.items) == 7


def test_the_page_is_paged_at_fifty(client, session, make_user, login):
    admin = make_user("admin")
    login(client, "admin@example.test")  # one auth.login event
    _events(session, 49, user_id=admin.id, start=datetime(2020, 1, 1, tzinfo=UTC))
    one_page = client.get("/admin/audit").data.decode()
    assert "50 events" in one_page and 'rel="next"' not in one_page
    assert client.get("/admin/audit?page=2").status_code == 404
    _events(session, 1, user_id=admin.id, start=datetime(2019, 1, 1, tzinfo=UTC))
    first = client.get("/admin/audit").data.decode()
    assert "page 1 of 2" in first and 'rel="next"' in first
    assert first.index("signed in") < first.index("2 January 2020")  # newest first
    second = client.get("/admin/audit?page=2").data.decode()
    assert second.count('<td class="pulse-nowrap">') == 1
    assert '<td class="pulse-nowrap">1 January 2019, 00:00</td>' in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    for page in ("3", "0", "9999999999"):
        assert client.get(f"/admin/audit?page={page}").status_code == 404


def test_filters_by_user_action_and_london_dates(client, session, make_team, make_user,
                                                login):
    make_team()
    admin = make_user("admin")
    lead = make_user("lead", email=LEAD, ints=("test-int",))
    # 23:30 UTC on 31 March 2026 is 00:30 on 1 April in London (summer time).
    audit.record(session, user_id=lead.id, action="report.view", target="icb",
                 now=datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    audit.record(session, user_id=lead.id, action="report.csv", target="icb",
                 now=datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    audit.record(session, user_id=None, action="auth.login_failed",
                 now=datetime(2026, 4, 2, 8, 0, tzinfo=UTC))
    session.commit()
    login(client, "admin@example.test")

    def shown(query: str) -> list[str]:
        html = client.get(f"/admin/audit?{query}").data.decode()
        return re.findall(r'<td class="pulse-audit__what">([^<]*)</td>', html)

    assert shown(f"user={lead.id}") == [f"{LEAD} viewed the ICB report",
                                        f"{LEAD} exported the ICB CSV"]
    assert shown(f"user={NO_ONE}") == ["Someone not signed in failed to sign in"]
    assert shown(f"user={admin.id}") == ["admin@example.test signed in"]
    assert shown("action=report.csv") == [f"{LEAD} exported the ICB CSV"]
    april_first = "since-day=1&since-month=4&since-year=2026"
    assert shown(f"{april_first}&until-day=1&until-month=4&until-year=2026") == [
        f"{LEAD} viewed the ICB report"]
    assert shown("until-day=31&until-month=3&until-year=2026") == [
        f"{LEAD} exported the ICB CSV"]
    assert shown(f"{april_first}&action=auth.login_failed&user={NO_ONE}") == [
        "Someone not signed in failed to sign in"]
    # The filter rides on the page links and its choices are offered in words.
    html = client.get(f"/admin/audit?action=report.csv&user={lead.id}").data.decode()
    assert f'<option value="{lead.id}" selected>{LEAD}</option>' in html
    assert '<option value="report.csv" selected>Exported a CSV</option>' in html


@pytest.mark.parametrize(("query", "message"), [
    ("user=abc", "Choose someone from the list"),
    ("user=999999", "Choose someone from the list"),
    ("action=nonsense", "Choose what happened from the list"),
    ("since-day=32&since-month=1&since-year=2026",
     "From must be a real date: January 2026 has no day 32"),
    ("since-month=4", "From must include a day and a year"),
    ("until-day=1&until-month=x&until-year=2026", "The month of to must be a number"),
    ("since-day=2&since-month=4&since-year=2026&until-day=1&until-month=4&until-year=2026",
     "The ‘to’ date must be the same as or after the ‘from’ date"),
])
def test_bad_filter_input_is_named_not_a_server_error(client, make_user, login, query,
                                                      message):
    make_user("admin")
    login(client, "admin@example.test")
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    html = response.data.decode()
    assert 'class="nhsuk-error-summary"' in html and message in html
    assert "<td" not in html  # no events under a filter that could not be read


def test_every_date_cell_uses_the_house_format(client, session, make_user, login):
    admin = make_user("admin")
    audit.record(session, user_id=admin.id, action="report.view", target="icb",
                 now=datetime(2025, 3, 17, 9, 5, tzinfo=UTC))
    session.commit()
    login(client, "admin@example.test")
    html = client.get("/admin/audit?action=report.view").data.decode()
    assert '<td class="pulse-nowrap">17 March 2025, 09:05</td>' in html
    assert date(2025, 3, 17).isoformat() not in html
