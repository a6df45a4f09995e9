"""The pulse form, built for the items one person is shown."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.datastructures import MultiDict
from wtforms import Field, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, StopValidation

from questionnaires import Instrument

_SHOWN_SALT = "pulse-items-shown"
# Completion time is kept coarse so it describes effort, not a moment.
COMPLETION_ROUNDING_SECONDS = 5
COMPLETION_CAP_SECONDS = 3600


def _strip(value: object) -> str | None:
    # Only text is an answer (a file posted under the field's name is refused by _text_only).
    return value.strip() if isinstance(value, str) else None


def _blank_is_unanswered(value: object) -> object:
    # Optional() passes a blank choice (clearing the invalid-choice error) as unanswered,
    # so whitespace must not be left as the field's data for answers() to store.
    return None if isinstance(value, str) and not value.strip() else value


def _text_only(_form: Any, field: Field) -> None:
    """Refuse a file posted (multipart) where text is expected, instead of failing on it."""
    if any(not isinstance(value, str) for value in field.raw_data or ()):
        raise StopValidation("Type your answer: a file cannot be sent here")


class PulseForm(FlaskForm):
    """Base class; :func:`build_pulse_form` adds one field per shown item."""

    shown = HiddenField()

    def item_fields(self) -> list[Field]:
        return [field for field in self if field.name not in ("shown", "csrf_token")]

    def answers(self) -> dict[str, str]:
        """Answered items only: blanks are item non-response and are not stored."""
        return {field.name: field.data for field in self.item_fields() if field.data}

    def csrf_failed(self) -> bool:
        return bool(self.csrf_token.errors) if hasattr(self, "csrf_token") else False

    def item_errors(self) -> list[tuple[str, str]]:
        """(anchor id, message) pairs for the NHS error summary, in page order."""
        anchors = []
        for field in self.item_fields():
            for message in field.errors:
                anchor = f"{field.name}-0" if isinstance(field, RadioField) else field.name
                anchors.append((anchor, message))
        return anchors

    def revalidate_items(self) -> None:
        """Check the answers again (not the form token: the page gives a fresh one)."""
        for field in self.item_fields():
            field.validate(self)


def build_pulse_form(instrument: Instrument, item_ids: Sequence[str], **kwargs: Any) -> PulseForm:
    fields: dict[str, Field] = {}
    for item_id in item_ids:
        item = instrument.item(item_id)
        if item.kind == "choice":
            fields[item_id] = RadioField(
                item.text,
                choices=[SelectChoice(option.value, option.label) for option in item.options],
                validators=[Optional()],
                filters=[_blank_is_unanswered],
                invalid_choice_message=(
                    f"Select one of the answers shown for “{item.text}”"
                ),
            )
        else:
            limit = item.max_length or 1000
            fields[item_id] = TextAreaField(
                item.text,
                validators=[Optional(), _text_only, Length(
                    max=limit,
                    message=f"Your answer must be {limit} characters or fewer",
                )],
                filters=[_strip],
            )
    form_class = type("ShownPulseForm", (PulseForm,), fields)
    form: PulseForm = form_class(**kwargs)
    return form


@dataclass(frozen=True, slots=True)
class ShownItems:
    item_ids: list[str]
    rendered_at: float


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SHOWN_SALT)


def sign_shown(item_ids: Sequence[str], rendered_at: float | None = None) -> str:
    """The item set and load time, signed so a forged set is detected on submit."""
    moment = time.time() if rendered_at is None else rendered_at
    return _serializer().dumps({"items": list(item_ids), "at": round(moment)})


def read_shown(signed: str | None) -> ShownItems | None:
    if not signed:
        return None
    try:
        payload = _serializer().loads(signed)
    except BadSignature:
        return None
    items, at = payload.get("items"), payload.get("at")
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return None
    if not isinstance(at, int | float):
        return None
    return ShownItems(items, float(at))


def completion_seconds(rendered_at: float, now: float | None = None) -> int | None:
    elapsed = (time.time() if now is None else now) - rendered_at
    if elapsed < 0:
        return None
    rounded = int(round(elapsed / COMPLETION_ROUNDING_SECONDS) * COMPLETION_ROUNDING_SECONDS)
    return min(rounded, COMPLETION_CAP_SECONDS)


# --- answers kept for the page shown again after a refused post ------------------------
#
# A refused post is answered with a 303 back to the page, so the browser's history holds
# only GETs and Back never offers to resubmit. What was typed rides to that GET in the
# session cookie (on the person's own device, never stored on the server) and is taken
# out of it by that GET. The cookie carries a digest of the link, not the link itself.

_RETRY_KEY = "pulse_retry"
# Browsers keep cookies of up to 4096 bytes: leave room for the name and attributes.
COOKIE_BUDGET = 3800


@dataclass(frozen=True, slots=True)
class Retry:
    """A refused post: its signed item list, the raw values typed, the page's messages."""

    shown: str | None
    values: dict[str, list[str]]
    messages: list[str]

    def formdata(self) -> MultiDict[str, str]:
        return MultiDict([(name, value) for name, values in self.values.items()
                          for value in values])


def _link_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def retry_from(form: PulseForm, shown: str, messages: list[str]) -> Retry | None:
    """What to keep of a refused post; None when a value is not text (a posted file)."""
    values: dict[str, list[str]] = {}
    for field in form.item_fields():
        raw = list(field.raw_data or ())
        if not all(isinstance(value, str) for value in raw):
            return None
        if raw:
            values[field.name] = raw
    return Retry(shown=shown, values=values, messages=list(messages))


def keep_retry(session: MutableMapping[str, Any], secret: str, retry: Retry, *,
               fits: Callable[[dict[str, Any]], bool]) -> bool:
    """Put ``retry`` in the session for link ``secret``, if ``fits(new session)`` says it fits.

    Returns False (and changes nothing) when it does not fit.
    """
    kept = {"link": _link_digest(secret), "shown": retry.shown, "values": retry.values,
            "messages": retry.messages}
    if not fits({**session, _RETRY_KEY: kept}):
        return False
    session[_RETRY_KEY] = kept
    return True


def take_retry(session: MutableMapping[str, Any], secret: str) -> Retry | None:
    """The refused post kept for link ``secret``, removed from the session; else None."""
    kept = session.get(_RETRY_KEY)
    if not isinstance(kept, dict) or kept.get("link") != _link_digest(secret):
        return None
    session.pop(_RETRY_KEY)
    shown, values, messages = kept.get("shown"), kept.get("values"), kept.get("messages")
    if not isinstance(values, dict) or not isinstance(messages, list):
        return None
    return Retry(shown=shown if isinstance(shown, str) else None,
                 values={str(name): [str(v) for v in vs] for name, vs in values.items()
                         if isinstance(vs, list)},
                 messages=[str(message) for message in messages])


class CodeForm(FlaskForm):
    code = StringField(
        "Your 10-character code",
        validators=[InputRequired(message="Enter the code from your card"), _text_only],
        filters=[_strip],
    )
