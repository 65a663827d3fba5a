"""UUID parsing with Go's google/uuid error messages (Coder reports them verbatim)."""

from __future__ import annotations

import uuid

_HEX = frozenset("0123456789abcdefABCDEF")


class UUIDParseError(ValueError):
    """A string is not a UUID; the message is Go's."""


def parse_uuid(raw: str) -> uuid.UUID:
    """Parse the forms Go's uuid.Parse accepts: canonical, {braced}, urn:uuid: and 32 hex digits."""
    text = raw
    length = len(text)
    if length == 36:
        pass
    elif length == 38:
        if text[0] != "{" or text[-1] != "}":
            raise UUIDParseError("invalid UUID format")
        text = text[1:-1]
    elif length == 45:
        if text[:9].lower() != "urn:uuid:":
            raise UUIDParseError(f"invalid urn prefix: {text[:9]!r}")
        text = text[9:]
    elif length == 32:
        # Exactly 32 hex digits: int(text, 16) would also take "0x", "_", "+" and surrounding spaces.
        if not _HEX.issuperset(text):
            raise UUIDParseError("invalid UUID format")
        return uuid.UUID(hex=text)
    else:
        raise UUIDParseError(f"invalid UUID length: {length}")
    if text[8] != "-" or text[13] != "-" or text[18] != "-" or text[23] != "-":
        raise UUIDParseError("invalid UUID format")
    digits = text.replace("-", "")
    if len(digits) != 32 or not _HEX.issuperset(digits):
        raise UUIDParseError("invalid UUID format")
    return uuid.UUID(hex=digits)
