"""Coder's QueryParamParser as the inbox list and watch endpoints use it (spec section 1.4)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qsl

from server.errors import ApiError
from server.records import InboxFilter, ReadStatus
from server.uuids import UUIDParseError, parse_uuid

MSG_INVALID_QUERY = "Query parameters have invalid values."
MSG_BAD_READ_STATUS = "starting_before query parameter should be any of 'all', 'read', 'unread'."

LIST_PARAMS = frozenset({"targets", "templates", "read_status", "starting_before"})
WATCH_PARAMS = frozenset({"targets", "templates", "read_status", "format"})


@dataclass(frozen=True, slots=True)
class ParsedInboxQuery:
    """The validated list/watch parameters."""

    filter: InboxFilter
    starting_before: uuid.UUID | None = None
    format: str = "markdown"


class _Parser:
    def __init__(self, query_string: bytes) -> None:
        self.values: dict[str, list[str]] = {}
        for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            self.values.setdefault(key, []).append(value)
        self.errors: list[tuple[str, str]] = []
        self.read: set[str] = set()

    def _single(self, name: str) -> str | None:
        self.read.add(name)
        values = self.values.get(name)
        if not values or values[0] == "":
            return None
        if len(values) > 1:
            self.errors.append(
                (
                    name,
                    f'Query param "{name}" provided more than once, found {len(values)} times. '
                    "Only provide 1 instance of this query param.",
                )
            )
            return None
        return values[0]

    def uuids(self, name: str) -> tuple[uuid.UUID, ...]:
        self.read.add(name)
        values = self.values.get(name)
        if not values or values[0] == "":
            return ()
        parsed: list[uuid.UUID] = []
        problems: list[str] = []
        for value in values:
            for term in value.split(","):
                try:
                    parsed.append(parse_uuid(term.strip()))
                except UUIDParseError as exc:
                    problems.append(str(exc))
        if problems:
            self.errors.append((name, f'Query param "{name}" has invalid values: ' + "\n".join(problems)))
            return ()
        return tuple(parsed)

    def string(self, name: str, default: str) -> str:
        value = self._single(name)
        return default if value is None else value

    def optional_uuid(self, name: str) -> uuid.UUID | None:
        value = self._single(name)
        if value is None:
            return None
        try:
            return parse_uuid(value.strip())
        except UUIDParseError:
            self.errors.append((name, f'Query param "{name}" must be a valid uuid'))
            return None

    def excess(self) -> None:
        for name in self.values:
            if name not in self.read:
                self.errors.append((name, f'"{name}" is not a valid query param'))


def parse_inbox_query(query_string: bytes, *, allow: frozenset[str]) -> ParsedInboxQuery:
    """Validate list (LIST_PARAMS) or watch (WATCH_PARAMS) parameters, raising Coder's 400s."""
    parser = _Parser(query_string)
    targets = parser.uuids("targets")
    templates = parser.uuids("templates")
    read_status = parser.string("read_status", ReadStatus.ALL.value)
    starting_before = parser.optional_uuid("starting_before") if "starting_before" in allow else None
    fmt = parser.string("format", "markdown") if "format" in allow else "markdown"
    parser.excess()
    if parser.errors:
        raise ApiError(400, MSG_INVALID_QUERY, validations=parser.errors)
    if read_status not in {s.value for s in ReadStatus}:
        raise ApiError(400, MSG_BAD_READ_STATUS)
    return ParsedInboxQuery(
        filter=InboxFilter(targets=targets, templates=templates, read_status=ReadStatus(read_status)),
        starting_before=starting_before,
        # Coder does not validate format: anything but exactly "plaintext" is markdown.
        format="plaintext" if fmt == "plaintext" else "markdown",
    )
