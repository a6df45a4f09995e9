"""The pulse form, built for the items one person is shown."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, URLSafeSerializer
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


class CodeForm(FlaskForm):
    code = StringField(
        "Your 10-character code",
        validators=[InputRequired(message="Enter the code from your card"), _text_only],
        filters=[_strip],
    )
