"""Usernames as Coder accepts them (codersdk.NameValid), plus the two shapes `{user}` would misread."""

from __future__ import annotations

import re

from server.uuids import UUIDParseError, parse_uuid

MAX_USERNAME_LENGTH = 32
_VALID = re.compile(r"[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*")


def username_problem(name: str) -> str:
    """Why `name` cannot be a username, or '' when it can."""
    if not name:
        return "must be at least 1 character"
    if len(name) > MAX_USERNAME_LENGTH:
        return f"must be at most {MAX_USERNAME_LENGTH} characters (got {len(name)})"
    if not _VALID.fullmatch(name):
        return "must be letters and digits, with single hyphens between them (no other characters)"
    if name.lower() == "me":
        return '"me" is reserved: /users/me always means the caller'
    try:
        parse_uuid(name)
    except UUIDParseError:
        return ""
    return "must not be a UUID: /users/{user} would read it as a user ID"
