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
    statuses: list[int] = []
    lock = threading.Lock()

    def post(index: int) -> None:
        start.wait()
        status = clients[index].post(url, data={**forms[index],
                                                "recommend_work": "likely"}).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [302] + [410] * (THREADS - 1)
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Response)).one() == 1
    assert session.exec(select(func.count()).select_from(Invitation)
                        .where(Invitation.used)).one() == 1
