"""One-time link tokens and printed codes: random, and stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets

# 24 random bytes: 192 bits, well above the 128 the design asks for.
TOKEN_BYTES = 24
# Printed codes avoid characters people confuse (0/O, 1/I/L) and read aloud badly.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
_CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def hash_secret(value: str) -> str:
    """SHA-256 of a token or code; the only form either is ever stored in."""
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_code(raw: str) -> str | None:
    """A typed code in canonical form, or None if it cannot be a code.

    People type codes with spaces, dashes and in lower case; all are accepted.
    """
    cleaned = re.sub(r"[\s\-]", "", raw).upper()
    return cleaned if _CODE_PATTERN.match(cleaned) else None


def format_code(code: str) -> str:
    """Print a code in two groups of five, which people copy more reliably."""
    return f"{code[:5]}-{code[5:]}"
