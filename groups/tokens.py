"""Random public identifiers: URLs never expose sequential primary keys."""

import secrets

# No 0/O, 1/l/I: codes are read aloud and typed from a QR code's caption.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def short_code(length: int = 10) -> str:
    """A code for an object that appears in a URL (not a secret)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def secret_token() -> str:
    """An unguessable token that grants something by itself (invitation, feed)."""
    return secrets.token_urlsafe(32)
