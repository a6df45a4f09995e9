"""Many simultaneous posts of one token store exactly one response (SQLite file and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlmodel import func, select

from survey_app.models import Invitation, Response

THREADS = 12


def test_concurrent_posts_of_one_token_store_one_response(app, session, open_wave,
                                                           hidden_fields):
    url = open_wave(size=3).urls[0]
    clients = [app.test_client() for _ in range(THREADS)]
    forms = [hidden_fields(c.get(url).data) for c in clients]
    start = threading.Barrier(THREADS)
    statuses: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post(index: int) -> None:
        start.wait()
        posted = clients[index].post(url, data={**forms[index], "recommend_work": "likely"})
        # The winner is sent to the thank-you page; the rest back to the link, now spent.
        where = "thanks" if posted.headers["Location"].startswith("/thank-you/") else \
            posted.headers["Location"]
        with lock:
            statuses.append((posted.status_code, where))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == sorted([(303, "thanks")] + [(303, url)] * (THREADS - 1))
    assert clients[0].get(url).status_code == 410
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Response)).one() == 1
    assert session.exec(select(func.count()).select_from(Invitation)
                        .where(Invitation.used)).one() == 1
