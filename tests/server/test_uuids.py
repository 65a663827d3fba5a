"""server/uuids.py accepts exactly the forms Go's uuid.Parse accepts (issue 12, section 2)."""

from __future__ import annotations

import uuid

import pytest

from server.uuids import UUIDParseError, parse_uuid

U = uuid.UUID("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")
ACCEPTED = [
    "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",  # canonical
    "0A1B2C3D-4E5F-6071-8293-A4B5C6D7E8F9",  # upper case
    "{0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9}",  # braced
    "urn:uuid:0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",  # URN
    "URN:UUID:0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",  # URN prefix, any case (EqualFold)
    "0a1b2c3d4e5f60718293a4b5c6d7e8f9",  # 32 hex digits
]
REFUSED = [
    "0x1b2c3d4e5f60718293a4b5c6d7e8f9",  # int() prefix
    "0X1b2c3d4e5f60718293a4b5c6d7e8f9",
    "0a1b_c3d4e5f60718293a4b5c6d7e8f9",  # int() digit separator
    "1_1b2c3d4e5f60718293a4b5c6d7e8f9",
    " a1b2c3d4e5f60718293a4b5c6d7e8f9",  # int() strips spaces
    "a1b2c3d4e5f60718293a4b5c6d7e8f9 ",
    "\ta1b2c3d4e5f60718293a4b5c6d7e8f9",
    "+a1b2c3d4e5f60718293a4b5c6d7e8f9",  # int() sign
    "-a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "0a1b2c3d4e5f60718293a4b5c6d7e8g9",  # not hex
    "0a1b2c3d4e5f60718293a4b5c6d7e8f",  # 31
    "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9-",  # 37
    "0a1b2c3d-4e5f-6071-8293+a4b5c6d7e8f9",  # separator
    "0a1b2c3d-4e5f-6071-8293- 4b5c6d7e8f9",  # space in a group
    "0a1b2c3d-4e5f-6071-829--a4b5c6d7e8f9",  # hyphen in a group
    "(0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9)",  # wrong brackets
    "urn:uid:+0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",  # wrong prefix
    "{0a1b2c3d4e5f60718293a4b5c6d7e8f9}",  # braced needs hyphens (34)
    "",
]


@pytest.mark.parametrize("raw", ACCEPTED)
def test_go_accepts(raw: str) -> None:
    assert parse_uuid(raw) == U


@pytest.mark.parametrize("raw", REFUSED)
def test_go_refuses(raw: str) -> None:
    with pytest.raises(UUIDParseError):
        parse_uuid(raw)
