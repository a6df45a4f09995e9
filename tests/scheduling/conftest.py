"""Loopback stand-ins for the providers: a real SMTP server (aiosmtpd) and a small
HTTP server answering as GOV.UK Notify's API documentation shows."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlmodel import Session, select

from survey_app.core.clock import LONDON
from survey_app.core.db import get_engine
from survey_app.models import Neighbourhood, Team
from survey_app.scheduling import schedules, tick
from survey_app.scheduling.channels.outbox import OutboxChannel
from survey_app.scheduling.channels.routing import Channels

# A syntactically valid fake key: {key_name}-{service_id}-{secret_key}.
SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"pulse_test-{SERVICE_ID}-{SECRET}"
INVITATION_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
REMINDER_TEMPLATE = "ceb50d92-100d-4b8b-b559-14fa3b091cda"
LINK = "https://pulse.riverside-int.example/p/q8XvZ2mB7kR4tYw1nH6sLc3uJ9dE0fGa"
CLOSES = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder:
    """An aiosmtpd handler that keeps what it receives, or refuses as told."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.peers: list[object] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(self, server: SMTPServer, session: SmtpSession, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: SmtpSession,
                          envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.envelopes.append(envelope)
        self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def received(self, index: int = -1) -> EmailMessage:
        content = self.envelopes[index].original_content
        assert isinstance(content, bytes)
        parsed = message_from_bytes(content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


ServerFactory = Callable[..., tuple[Controller, Recorder]]


@pytest.fixture
def start_server() -> Iterator[ServerFactory]:
    """Starts SMTP servers on 127.0.0.1 (a free port unless given) and stops them after."""
    controllers: list[Controller] = []

    def start(port: int | None = None, recorder: Recorder | None = None,
              **options: Any) -> tuple[Controller, Recorder]:
        recorder = recorder or Recorder()
        controller = Controller(recorder, hostname="127.0.0.1", port=port or free_port(),
                                **options)
        controller.start()
        controllers.append(controller)
        return controller, recorder

    yield start
    for controller in controllers:
        try:
            controller.stop()
        except AssertionError:
            pass  # already stopped by the test


@dataclass
class Reply:
    status: int
    body: dict[str, Any] | None = None


@dataclass
class FakeNotify:
    """What the stand-in received, and the replies it will give, in order."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)


def created(request: dict[str, Any]) -> Reply:
    """Notify's documented 201 for POST /v2/notifications/sms."""
    notification_id = str(uuid.uuid4())
    body = request["json"]
    return Reply(201, {
        "id": notification_id,
        "reference": body.get("reference"),
        "content": {"body": body["personalisation"]["message"], "from_number": "RiversideINT"},
        "uri": f"https://api.notifications.service.gov.uk/v2/notifications/{notification_id}",
        "template": {
            "id": body["template_id"], "version": 1,
            "uri": f"https://api.notifications.service.gov.uk/v2/template/{body['template_id']}",
        },
    })


def error(status: int, kind: str, message: str) -> Reply:
    return Reply(status, {"status_code": status, "errors": [{"error": kind, "message": message}]})


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    state = FakeNotify(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            request = {"method": "POST", "path": self.path, "headers": dict(self.headers),
                       "json": json.loads(self.rfile.read(length))}
            state.requests.append(request)
            reply = state.replies.pop(0) if state.replies else created(request)
            if reply.status == 201 and reply.body is None:
                reply = created(request)
            payload = json.dumps(reply.body).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval so that shutdown() returns quickly.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()




# --- the programme, ticked at chosen times -------------------------------------

BASE = "http://pulse.test"


def at(text: str) -> datetime:
    """A UK wall-clock time as UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def outbox() -> OutboxChannel:
    return OutboxChannel()


@pytest.fixture
def run(app, outbox):
    """Tick at a moment, in a session of its own (as the scheduler process does)."""

    def run_tick(now: datetime, *, channels: Channels | None = None, holder: str = "test",
             **options: Any) -> tick.TickReport:
        with Session(get_engine(app), expire_on_commit=False) as session:
            return tick.tick(
                session, now=now, instrument=app.extensions["pulse_instruments"]["team-pulse"],
                channels=channels or Channels(outbox=outbox),
                links=tick.LinkSettings(BASE, app.config["SECRET_KEY"]),
                holder=holder, **options)

    return run_tick


@pytest.fixture
def pages_at():
    """Let the pulse pages, and the thank-you and results pages they lead to, see the
    simulated time (they normally read the real clock)."""
    from unittest import mock

    patchers: list[Any] = []

    def travel(now: datetime) -> None:
        while patchers:
            patchers.pop().stop()
        for name in ("survey_app.pulse.views.utcnow",
                     "survey_app.reporting.views.staff_results.utcnow"):
            patcher = mock.patch(name, return_value=now)
            patcher.start()
            patchers.append(patcher)

    yield travel
    while patchers:
        patchers.pop().stop()


@pytest.fixture
def schedule_for(session, app):
    def make(team: Team | None, *, neighbourhood_slug: str = "test-int", **settings: Any):
        neighbourhood = session.exec(
            select(Neighbourhood).where(Neighbourhood.slug == neighbourhood_slug)).one()
        values = {"cadence_kind": "monthly", "weekday": 1, "nth": 1,
                  "start_date": date(2026, 9, 1), **settings}
        schedule, _ = schedules.set_schedule(
            session, neighbourhood=neighbourhood, team=team,
            settings=schedules.ScheduleSettings(**values), items_per_pulse=6,
            now=at("2026-08-01T12:00"))
        session.commit()
        return schedule

    return make


