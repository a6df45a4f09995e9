"""NHS numbers: checked, then turned into a keyed pseudonym and never kept in clear."""

from __future__ import annotations

import hashlib
import hmac
import re


class NhsNumberError(ValueError):
    """The text is not a valid NHS number; the message says why, for the user.

    ``reason`` names what is wrong, for pages that word it their own way:
    ``"not_digits"``, ``"length"``, ``"repeated"`` or ``"check_digit"``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_nhs_number(raw: str) -> str:
    """The 10 digits of a valid NHS number, or :class:`NhsNumberError`.

    Spaces and dashes are accepted (``943 476 5919``, ``943-476-5919``). The
    check digit is modulus 11: weights 10..2 on the first nine digits,
    ``check = 11 - (sum mod 11)``, 11 becomes 0, and 10 means no valid number.
    Numbers of one repeated digit pass that check but are never issued.
    """
    digits = re.sub(r"[\s-]", "", raw)
    # ASCII digits only: other scripts' digits would hash to a different pseudonym.
    if not re.fullmatch(r"[0-9]+", digits):
        raise NhsNumberError("An NHS number contains only numbers, like 943 476 5919",
                             reason="not_digits")
    if len(digits) != 10:
        raise NhsNumberError(f"An NHS number is 10 digits long; this has {len(digits)}",
                             reason="length")
    if len(set(digits)) == 1:
        raise NhsNumberError("That is not a real NHS number: check it and enter it again",
                             reason="repeated")
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1),
                                                             strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(digits[9]):
        raise NhsNumberError("That NHS number is not valid: check the digits and enter it again",
                             reason="check_digit")
    return digits


def pseudonymise(nhs_number: str, key: bytes) -> str:
    """HMAC-SHA256 of the 10 digits under ``key`` (hex): stable per patient, not reversible
    without the key, which lives outside the database (``PULSE_PSEUDONYM_KEY``). Changing
    the key is a transition, patient by patient: see :mod:`survey_app.activation.pseudonyms`."""
    return hmac.new(key, nhs_number.encode(), hashlib.sha256).hexdigest()
