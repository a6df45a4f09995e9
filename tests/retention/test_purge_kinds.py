"""``retention purge`` removes each kind of data once its period has passed, from every
table and from every page, CSV, PDF, FHIR export and API response that showed it, and
keeps what must stay (a wave's aggregates, so the charts keep their points).

Each test purges the demo INT at a fixed clock set from the data itself: a minute before
a row's period ends it is there; at the end it is gone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import col, select

from survey_app import demo
from survey_app.accounts import api_tokens
from survey_app.core.clock import LONDON, as_utc, utcnow
from survey_app.models import (
    ActivationRating,
    AuditEvent,
    ExperienceRating,
    Invitation,
    ItemAnswer,
    Message,
    Neighbourhood,
    Response,
    Site,
    StaffMember,
    Team,
    TeamMembership,
    User,
    Wave,
    WaveChoiceCount,
    WaveItemSummary,
    WaveSummary,
)
from survey_app.pulse.aggregates import summarise_unsummarised
from tests.retention.conftest import TEAM, closed, closed_waves, count, csv_rows, pdf_text

pytestmark = pytest.mark.db

MINUTE = timedelta(minutes=1)
MEASURES = f"/reports/{demo.INT_SLUG}/teams/{TEAM}/measures.csv"
TEAM_PAGE = f"/reports/{demo.INT_SLUG}/teams/{TEAM}"
WAVES_API = f"/api/v1/ints/{demo.INT_SLUG}/teams/{TEAM}/waves"
ACTIVATION_API = f"/api/v1/ints/{demo.INT_SLUG}/activation"
FHIR_BUNDLE = f"/reports/{demo.INT_SLUG}/activation/fhir/bundle.json"


@pytest.fixture
def bearer(session, riverside):
    """An API token of the demo admin, as the Authorization header."""
    admin = session.exec(select(User).where(User.email == f"admin@{demo.EMAIL_DOMAIN}")).one()
    _token, plaintext = api_tokens.create_token(session, user_id=admin.id, name="retention",
                                                now=utcnow())
    session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def wave_rows(session, wave, table):
    return count(session, table, col(table.wave_id) == wave.id)


def answers_of(session, wave, *, text: bool):
    return count(session, ItemAnswer.__table__.join(  # type: ignore[attr-defined]
        Response.__table__, Response.id == ItemAnswer.response_id),  # type: ignore[attr-defined]
        Response.wave_id == wave.id,
        col(ItemAnswer.text).is_not(None) if text else col(ItemAnswer.text).is_(None))


def test_invitations_go_30_days_after_the_close_and_the_response_rate_stays(
        session, admin, bearer, run_purge):
    latest = closed_waves(session)[-1]
    invited = wave_rows(session, latest, Invitation)
    assert invited > 0
    measures, api = csv_rows(admin.get(MEASURES)), admin.get(WAVES_API, headers=bearer).json

    run_purge(closed(latest) + timedelta(days=30) - MINUTE)
    assert wave_rows(session, latest, Invitation) == invited

    run_purge(closed(latest) + timedelta(days=30))
    assert wave_rows(session, latest, Invitation) == 0
    # Nobody's invitation is left anywhere in the INT (every wave closed before this one).
    assert count(session, Invitation) == count(
        session, Invitation, col(Invitation.wave_id).in_(
            select(Wave.id).where(col(Wave.closed_at).is_(None))))
    session.refresh(latest)
    assert latest.raw_purged_at is not None
    # The response rates stand on the aggregates, which stay.
    assert session.get(WaveSummary, latest.id).invited == invited
    assert csv_rows(admin.get(MEASURES)) == measures
    assert admin.get(WAVES_API, headers=bearer).json == api


def test_messages_and_the_outbox_go_90_days_after_the_close(session, admin, run_purge):
    earlier, later = closed_waves(session)[-2:]
    member = session.exec(select(StaffMember)).first()
    for wave, words in ((earlier, "earlier pulse"), (later, "later pulse")):
        session.add(Message(wave_id=wave.id, staff_member_id=member.id, kind="invitation",
                            channel="outbox", address=member.email or "x@example.test",
                            status="sent", due_at=closed(wave), sent_at=closed(wave),
                            subject=f"Your {words}", body_text=f"Answer the {words}",
                            created_at=closed(wave)))
    session.commit()
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "Your earlier pulse" in page and "Your later pulse" in page

    run_purge(closed(earlier) + timedelta(days=90) - MINUTE)
    assert wave_rows(session, earlier, Message) == 1

    run_purge(closed(earlier) + timedelta(days=90))
    assert wave_rows(session, earlier, Message) == 0
    assert wave_rows(session, later, Message) == 1  # its 90 days have not passed
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "Your earlier pulse" not in page and "Your later pulse" in page


def _comments_shown(text: str) -> list[str]:
    return [comment for comment in demo.COMMENTS if comment in text]


def test_comments_go_12_months_after_the_close_from_the_page_and_the_pdf(
        session, admin, run_purge, tmp_path):
    latest = closed_waves(session)[-1]
    texts, choices = (answers_of(session, latest, text=True),
                      answers_of(session, latest, text=False))
    assert texts > 0
    assert _comments_shown(admin.get(TEAM_PAGE).get_data(as_text=True))
    pdf = admin.get(TEAM_PAGE, query_string={"format": "pdf"})
    assert _comments_shown(pdf_text(pdf.data, tmp_path))
    measures = csv_rows(admin.get(MEASURES))

    run_purge(closed(latest) + timedelta(days=365) - MINUTE)
    assert answers_of(session, latest, text=True) == texts

    run_purge(closed(latest) + timedelta(days=365))
    assert all(answers_of(session, wave, text=True) == 0 for wave in closed_waves(session))
    assert answers_of(session, latest, text=False) == choices  # answers have 2 years
    assert _comments_shown(admin.get(TEAM_PAGE).get_data(as_text=True)) == []
    pdf = admin.get(TEAM_PAGE, query_string={"format": "pdf"})
    assert _comments_shown(pdf_text(pdf.data, tmp_path)) == []
    assert csv_rows(admin.get(MEASURES)) == measures


def test_answers_go_2_years_after_the_close_and_the_charts_keep_their_points(
        app, session, admin, bearer, run_purge):
    latest = closed_waves(session)[-1]
    responses = wave_rows(session, latest, Response)
    assert responses > 0
    measures, api = csv_rows(admin.get(MEASURES)), admin.get(WAVES_API, headers=bearer).json
    summaries = {wave.id: session.get(WaveSummary, wave.id).responded
                 for wave in closed_waves(session)}

    run_purge(closed(latest) + timedelta(days=730) - MINUTE)
    assert wave_rows(session, latest, Response) == responses

    run_purge(closed(latest) + timedelta(days=730))
    assert count(session, Response, col(Response.wave_id).in_(
        select(Wave.id).where(col(Wave.closed_at).is_not(None)))) == 0
    assert answers_of(session, latest, text=False) == 0
    assert all(wave.raw_purged_at is not None for wave in closed_waves(session))
    assert csv_rows(admin.get(MEASURES)) == measures
    assert admin.get(WAVES_API, headers=bearer).json == api
    # `db upgrade` re-summarises nothing: the summaries are those of the close.
    assert summarise_unsummarised(session, now=utcnow()) == 0
    session.expire_all()
    assert {wave.id: session.get(WaveSummary, wave.id).responded
            for wave in closed_waves(session)} == summaries


def test_aggregates_go_10_years_after_the_close_and_the_wave_leaves_every_report(
        session, admin, bearer, runner, run_purge):
    oldest, second = closed_waves(session)[:2]
    measures = csv_rows(admin.get(MEASURES))
    api = admin.get(WAVES_API, headers=bearer).json
    label = f"{as_utc(oldest.opens_at).astimezone(LONDON):%b %Y}"
    assert any(label in row for row in measures[1:])
    assert wave_rows(session, oldest, WaveItemSummary) > 0

    run_purge(closed(oldest) + timedelta(days=3650) - MINUTE)
    assert session.get(WaveSummary, oldest.id) is not None

    run_purge(closed(oldest) + timedelta(days=3650))
    for table in (WaveSummary, WaveItemSummary, WaveChoiceCount):
        assert wave_rows(session, oldest, table) == 0
        assert wave_rows(session, second, table) > 0  # its ten years are not up
    # `db upgrade` must not bring it back from what little is left.
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    session.expire_all()
    assert session.get(WaveSummary, oldest.id) is None
    after = csv_rows(admin.get(MEASURES))
    assert not any(label in row for row in after[1:])
    # The other waves' own figures (invited, answered, rate, value) are as they were; the
    # limits may move, as the baseline no longer has the removed wave's point.
    assert [row[:6] for row in measures if label not in row] == [row[:6] for row in after]
    waves_after = admin.get(WAVES_API, headers=bearer).json
    assert len(waves_after["waves"]) == len(api["waves"]) - 1
    assert oldest.id not in {wave.get("id") for wave in waves_after["waves"]}


def _ratings_of(session, table, riverside):
    sites = select(Site.id).where(Site.neighbourhood_id == riverside.id)
    return count(session, table, col(table.site_id).in_(sites))


def test_ratings_and_pseudonyms_go_3_years_after_the_rating(
        session, admin, bearer, riverside, run_purge):
    days = sorted(session.exec(select(ActivationRating.rated_on)).all())
    middle = days[len(days) // 2]
    kept = sum(day > middle for day in days)
    assert 0 < kept < len(days)
    pseudonymised = count(session, ActivationRating,
                          col(ActivationRating.patient_pseudonym).is_not(None),
                          col(ActivationRating.rated_on) <= middle)
    assert pseudonymised > 0
    assert len(admin.get(FHIR_BUNDLE).json["entry"]) == len(days)
    assert admin.get(ACTIVATION_API, headers=bearer).json["total"]["n"] == len(days)

    # Midday in England, 1095 days after the middle rating's day.
    moment = datetime.combine(middle + timedelta(days=1095), time(12), LONDON).astimezone(UTC)
    on_the_day = days.count(middle)
    run_purge(moment - timedelta(days=1))
    assert count(session, ActivationRating, ActivationRating.rated_on == middle) == on_the_day

    run_purge(moment)
    assert _ratings_of(session, ActivationRating, riverside) == kept
    assert count(session, ActivationRating, col(ActivationRating.rated_on) <= middle) == 0
    assert count(session, ExperienceRating, col(ExperienceRating.rated_on) <= middle) == 0
    bundle = admin.get(FHIR_BUNDLE).json
    assert len(bundle["entry"]) == kept
    assert min(entry["resource"]["authored"] for entry in bundle["entry"]) > middle.isoformat()
    assert admin.get(ACTIVATION_API, headers=bearer).json["total"]["n"] == kept


def test_leavers_go_30_days_after_their_leave_date(session, riverside, run_purge):
    team = session.exec(select(Team).where(Team.slug == TEAM)).one()
    left_on = date(2026, 6, 30)
    leaver = StaffMember(neighbourhood_id=riverside.id, name="Lee Leaver", profession="Nurse",
                         email="lee.leaver@example.test", leave_date=left_on)
    stayer = StaffMember(neighbourhood_id=riverside.id, name="Sam Stayer", profession="Nurse",
                         leave_date=left_on + timedelta(days=1))
    session.add_all([leaver, stayer])
    session.flush()
    session.add_all([TeamMembership(staff_member_id=leaver.id, team_id=team.id),
                     TeamMembership(staff_member_id=stayer.id, team_id=team.id)])
    session.commit()
    current = count(session, StaffMember, col(StaffMember.leave_date).is_(None))
    day_30 = datetime.combine(left_on + timedelta(days=30), time(12), LONDON).astimezone(UTC)

    run_purge(day_30 - timedelta(days=1))
    assert session.get(StaffMember, leaver.id) is not None

    run_purge(day_30)
    assert session.get(StaffMember, leaver.id) is None
    assert count(session, TeamMembership, TeamMembership.staff_member_id == leaver.id) == 0
    assert session.get(StaffMember, stayer.id) is not None  # a day to go
    assert count(session, StaffMember, col(StaffMember.leave_date).is_(None)) == current


def test_the_audit_log_goes_after_2_years(session, admin, run_purge):
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    old = AuditEvent(at=now - timedelta(days=730), action="int.settings",
                     target="old-int-settings")
    recent = AuditEvent(at=now - timedelta(days=729), action="int.settings",
                        target="recent-int-settings")
    session.add_all([old, recent])
    session.commit()

    run_purge(now - MINUTE)
    assert session.get(AuditEvent, old.id) is not None

    run_purge(now)
    assert session.get(AuditEvent, old.id) is None
    assert session.get(AuditEvent, recent.id) is not None
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "Removed data past its retention period" in page


def test_an_int_s_own_periods_are_used(session, riverside, run_purge):
    latest = closed_waves(session)[-1]
    neighbourhood = session.get(Neighbourhood, riverside.id)
    neighbourhood.retain_invitations_days = 45
    session.commit()
    run_purge(closed(latest) + timedelta(days=44))
    assert wave_rows(session, latest, Invitation) > 0
    run_purge(closed(latest) + timedelta(days=45))
    assert wave_rows(session, latest, Invitation) == 0
