"""The development outbox shows each body with this app's own links clickable (issue 13),
and everything else in it, links to elsewhere or markup, as plain escaped text."""

from __future__ import annotations

import pytest

from survey_app.core.clock import utcnow
from survey_app.models import Message
from survey_app.scheduling.admin_views import own_links


@pytest.fixture
def admin(client, make_user, login):
    make_user("admin")
    assert login(client, "admin@example.test").status_code == 302
    return client


@pytest.fixture
def outbox_body(open_wave, session):
    """Keep one outbox message with ``body``; returns the outbox page's HTML."""

    def keep(admin, body: str) -> str:
        wave = open_wave(size=1)
        [member_id] = wave.tokens
        session.add(Message(wave_id=wave.wave_id, staff_member_id=member_id,
                            kind="invitation", channel="outbox", address="ada@example.test",
                            status="sent", attempts=1, due_at=utcnow(), subject="Your pulse",
                            body_text=body, created_at=utcnow()))
        session.commit()
        response = admin.get("/admin/outbox")
        assert response.status_code == 200
        return response.data.decode()

    return keep


def test_a_link_to_the_app_is_clickable(admin, outbox_body):
    page = outbox_body(admin, "Hello Ada, answer here: http://pulse.test/p/Ab-9_xY.\n"
                              "Stop: http://pulse.test/opt-out?w=3&s=4")
    assert ('<pre class="pulse-message__body">Hello Ada, answer here: '
            '<a href="http://pulse.test/p/Ab-9_xY">http://pulse.test/p/Ab-9_xY</a>.\n'
            'Stop: <a href="http://pulse.test/opt-out?w=3&amp;s=4">'
            'http://pulse.test/opt-out?w=3&amp;s=4</a></pre>') in page


def test_markup_and_other_sites_stay_text(admin, outbox_body):
    page = outbox_body(admin, '<script>alert(1)</script> https://evil.example/p/x '
                              'http://pulse.test.evil.example/p/x http://pulse.test@evil.example '
                              '<a href="https://evil.example">me</a>')
    assert ('<pre class="pulse-message__body">&lt;script&gt;alert(1)&lt;/script&gt; '
            'https://evil.example/p/x http://pulse.test.evil.example/p/x '
            'http://pulse.test@evil.example &lt;a href=&#34;https://evil.example&#34;&gt;me'
            '&lt;/a&gt;</pre>') in page
    assert "<script>alert" not in page and 'href="https://evil.example' not in page


@pytest.mark.parametrize("base, text, expected", [
    # Another port is another server.
    ("http://127.0.0.1:5000", "http://127.0.0.1:50001/p/x",
     "http://127.0.0.1:50001/p/x"),
    ("http://127.0.0.1:5000", "(http://127.0.0.1:5000/p/x)",
     '(<a href="http://127.0.0.1:5000/p/x">http://127.0.0.1:5000/p/x</a>)'),
    # The code entry page, with no path after it, at the end of a sentence.
    ("https://pulse.example.nhs.uk", "Enter it at https://pulse.example.nhs.uk/p.",
     'Enter it at <a href="https://pulse.example.nhs.uk/p">https://pulse.example.nhs.uk/p</a>.'),
    ("https://pulse.example.nhs.uk", "https://pulse.example.nhs.uk\"onmouseover=x",
     '<a href="https://pulse.example.nhs.uk">https://pulse.example.nhs.uk</a>'
     "&#34;onmouseover=x"),
])
def test_only_the_configured_base_url_becomes_a_link(app, base, text, expected):
    app.config["PULSE_BASE_URL"] = base
    with app.app_context():
        assert str(own_links(text)) == expected
