"""The staff-pulse commands, run through Flask's CLI runner against the real database."""

from __future__ import annotations

import json
import re

from sqlmodel import select

from survey_app.core.tokens import CODE_ALPHABET
from survey_app.models import Invitation, ItemAnswer, Response, Wave


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_team_list_shows_slugs_and_member_counts(runner, make_team):
    make_team(slug="district-nursing", size=4)
    make_team(slug="social-care", size=7)
    teams = _json(runner.invoke(args=["team", "list", "--json"]))
    assert [(t["slug"], t["members"], t["int"]) for t in teams] == [
        ("district-nursing", 4, "test-int"), ("social-care", 7, "test-int")]
    text = runner.invoke(args=["team", "list"]).output
    assert "test-int/social-care" in text and "7 members" in text


def test_wave_open_prints_each_link_once_and_stores_only_hashes(runner, session, make_team,
                                                                app):
    make_team(size=5)
    opened = _json(runner.invoke(args=["wave", "open", "--team", "district-nursing",
                                       "--days", "10", "--json"]))
    assert len(opened["links"]) == 5
    urls = [link["url"] for link in opened["links"]]
    assert all(url.startswith("http://pulse.test/p/") for url in urls)
    tokens = [url.rsplit("/", 1)[1] for url in urls]
    assert all(len(token) >= 22 for token in tokens)  # >= 128 bits of base64url
    stored = " ".join(str(row) for row in session.exec(select(Invitation)))
    assert not any(token in stored for token in tokens)
    wave = session.get(Wave, opened["wave_id"])
    assert (wave.closes_at - wave.opens_at).days == 10


def test_wave_status_counts_answers(runner, client, make_team, hidden_fields):
    make_team(size=4)
    opened = _json(runner.invoke(args=["wave", "open", "--team", "district-nursing", "--json"]))
    path = opened["links"][0]["url"].replace("http://pulse.test", "")
    fields = hidden_fields(client.get(path).data)
    assert client.post(path, data={**fields, "recommend_care": "likely"}).status_code == 303
    status = _json(runner.invoke(args=["wave", "status", str(opened["wave_id"]), "--json"]))
    assert status["invited"] == 4 and status["responded"] == 1
    assert status["response_rate"] == 0.25 and status["open"] is True
    text = runner.invoke(args=["wave", "status", str(opened["wave_id"])]).output
    assert "1 of 4 answered, response rate 25%" in text


def test_wave_close_closes_and_is_idempotent(runner, client, make_team):
    make_team(size=3)
    opened = _json(runner.invoke(args=["wave", "open", "--team", "district-nursing", "--json"]))
    wave_id = str(opened["wave_id"])
    assert "closed." in runner.invoke(args=["wave", "close", wave_id]).output
    assert "already closed" in runner.invoke(args=["wave", "close", wave_id]).output
    assert _json(runner.invoke(args=["wave", "status", wave_id, "--json"]))["open"] is False
    path = opened["links"][0]["url"].replace("http://pulse.test", "")
    assert client.get(path).status_code == 410


def test_wave_commands_explain_bad_input(runner, make_team):
    make_team(size=2)
    assert "No team 'nope'" in runner.invoke(args=["wave", "open", "--team", "nope"]).output
    result = runner.invoke(args=["wave", "open", "--team", "district-nursing", "--days", "0"])
    assert result.exit_code != 0 and "between 1 and 60 days" in result.output
    assert "No wave 999" in runner.invoke(args=["wave", "status", "999"]).output
    runner.invoke(args=["wave", "open", "--team", "district-nursing"])
    again = runner.invoke(args=["wave", "open", "--team", "district-nursing"])
    assert again.exit_code != 0 and "already has wave" in again.output


def test_code_cards_work_like_links(runner, client, session, open_wave, hidden_fields,
                                    tmp_path):
    wave = open_wave(size=4, offline=2)
    cards = tmp_path / "cards.html"
    result = runner.invoke(args=["wave", "codes", str(wave.wave_id), "--output", str(cards)])
    assert result.exit_code == 0, result.output
    html = cards.read_text()
    codes = re.findall(rf'class="code">([{CODE_ALPHABET}]{{5}}-[{CODE_ALPHABET}]{{5}})<', html)
    assert len(codes) == 2  # only the two people with no email or phone
    assert "http://pulse.test/p" in html
    typed = codes[0].lower().replace("-", " ")
    form = client.get("/p")
    entered = client.post("/p", data={**hidden_fields(form.data), "code": typed})
    assert entered.status_code == 302
    page = client.get(entered.headers["Location"])
    assert page.status_code == 200
    answered = client.post(entered.headers["Location"],
                           data={**hidden_fields(page.data), "recommend_work": "likely"})
    assert answered.status_code == 303
    assert len(session.exec(select(Response)).all()) == 1
    assert client.get(entered.headers["Location"]).status_code == 410


def test_a_wrong_code_is_explained_and_guessing_is_throttled(client, open_wave, hidden_fields,
                                                             app):
    open_wave(size=2)
    fields = hidden_fields(client.get("/p").data)
    wrong = client.post("/p", data={**fields, "code": "ABCDE-23456"})
    assert wrong.status_code == 404
    assert b"That code was not recognised" in wrong.data
    assert client.post("/p", data={**fields, "code": ""}).status_code == 400
    statuses = [client.post("/p", data={**fields, "code": "ABCDE-23456"}).status_code
                for _ in range(12)]
    assert statuses[-1] == 429
    assert statuses.count(404) == 9  # the limit is 10 wrong guesses a minute
    # Guessing tokens in the URL is throttled by the same limit.
    assert client.get("/p/ABCDE23456").status_code == 429


def test_demo_load_builds_the_story_and_prints_links(runner, session):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "4 teams" in result.output and "48 closed waves" in result.output
    links = re.findall(r"http://pulse.test/p/\S+", result.output)
    assert len(links) == 3
    assert session.exec(select(ItemAnswer)).first() is not None
    again = runner.invoke(args=["demo", "load"])
    assert "already loaded" in again.output
    teams = _json(runner.invoke(args=["team", "list", "--json"]))
    assert len(teams) == 4 and all(15 <= t["members"] <= 40 for t in teams)


def test_demo_links_open_a_new_wave_once_the_demo_wave_has_closed(runner, session):
    runner.invoke(args=["demo", "load", "--links", "0"])
    first = re.search(r"demo wave (\d+)", runner.invoke(args=["demo", "links"]).output)
    wave = session.get(Wave, int(first.group(1)))
    runner.invoke(args=["wave", "close", str(wave.id)])
    result = runner.invoke(args=["demo", "links", "--count", "2"])
    second = re.search(r"demo wave (\d+)", result.output)
    assert int(second.group(1)) != wave.id
    assert len(re.findall(r"http://pulse.test/p/\S+", result.output)) == 2


def test_code_cards_for_people_whose_messages_did_not_arrive(runner, session, open_wave,
                                                             tmp_path):
    from survey_app.core.clock import utcnow
    from survey_app.models import Message, StaffMember

    wave = open_wave(size=3)
    people = session.exec(select(StaffMember).order_by(StaffMember.id)).all()
    for member, status in zip(people, ("unknown", "failed", "sent"), strict=True):
        session.add(Message(wave_id=wave.wave_id, staff_member_id=member.id, kind="invitation",
                            channel="email", address=member.email, status=status,
                            due_at=utcnow(), subject="Pulse", created_at=utcnow()))
    session.commit()
    plain = tmp_path / "plain.html"
    runner.invoke(args=["wave", "codes", str(wave.wave_id), "--output", str(plain)])
    assert "class=\"code\"" not in plain.read_text()  # everyone has an email address
    cards = tmp_path / "cards.html"
    result = runner.invoke(args=["wave", "codes", str(wave.wave_id), "--unreached",
                                 "--output", str(cards)])
    assert result.exit_code == 0, result.output
    html = cards.read_text()
    assert people[0].name in html and people[1].name in html and people[2].name not in html


def test_a_one_off_wave_respects_the_fatigue_gap_and_rotates_items(runner, session, make_team):
    make_team(size=3)
    first = _json(runner.invoke(args=["wave", "open", "--team", "district-nursing", "--json"]))
    runner.invoke(args=["wave", "close", str(first["wave_id"])])
    again = runner.invoke(args=["wave", "open", "--team", "district-nursing"])
    assert again.exit_code != 0 and "invited in the last 21 days" in again.output
    rerun = _json(runner.invoke(args=["wave", "open", "--team", "district-nursing",
                                      "--ignore-gap", "--json"]))
    assert len(rerun["links"]) == 3
    due = [json.loads(session.get(Wave, w).due_items) for w in (first["wave_id"],
                                                               rerun["wave_id"])]
    assert due[0] != due[1] and all(len(items) == 3 for items in due)
