"""Helpers the resource handlers share: body field checks and `{user}` resolution."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from server.context import AppContext
from server.errorlog import error_log
from server.errors import MSG_BAD_JSON, ApiError, internal_error, not_found
from server.http import Request, Response
from server.records import User
from server.store.base import DatabaseReplacedError
from server.uuids import UUIDParseError, parse_uuid

Handler = Callable[[AppContext, Request, User], Awaitable[Response]]

log = logging.getLogger(__name__)


def database_replaced(exc: DatabaseReplacedError) -> ApiError:
    """503 for a write refused because the database file is gone (the store logged it once, loudly)."""
    return ApiError(503, str(exc), "The server's database file is no longer at its path; see the server log.")


@contextmanager
def database_errors(message: str, passthrough: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn a failing store call into Coder's 500 for that step (message as Coder words it, error as detail).

    `passthrough` names store errors the handler answers itself (e.g. an unknown template is a 400).
    """
    try:
        yield
    except ApiError:
        raise
    except DatabaseReplacedError as exc:
        raise database_replaced(exc) from exc
    except Exception as exc:
        if isinstance(exc, passthrough):
            raise
        error_log.exception(log, exc, message)
        raise internal_error(message) from exc


_GO_TYPES = {bool: "bool", str: "string"}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def field_of(body: dict[str, Any], name: str, kind: type, go_struct: str, default: Any) -> Any:
    """A typed body field; a wrong JSON type is Go's unmarshal error, as a 400. null means the default."""
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ApiError(
            400,
            MSG_BAD_JSON,
            f"json: cannot unmarshal {_json_kind(value)} into Go struct field {go_struct}.{name} "
            f"of type {_GO_TYPES.get(kind, kind.__name__)}",
        )
    return value


def path_uuid(raw: str) -> uuid.UUID:
    """A UUID path parameter, or Coder's `Invalid UUID "<raw>".` 400."""
    try:
        return parse_uuid(raw)
    except UUIDParseError as exc:
        raise ApiError(400, f'Invalid UUID "{raw}".', str(exc)) from None


async def resolve_user_param(ctx: AppContext, caller: User, raw: str) -> User:
    """The `{user}` path parameter: `me`, a UUID or a username; others' users need the owner role."""
    if raw == "":
        raise ApiError(400, '"user" must be provided.')
    if raw == "me":
        return caller
    if "\x00" in raw:
        # Deviation: PostgreSQL cannot even compare a string holding NUL; no username can hold one.
        raise ApiError(400, "Invalid user parameter.", "A username or user ID cannot contain a NUL character.")
    target: User | None
    try:
        target = await ctx.store.get_user(parse_uuid(raw))
    except UUIDParseError:
        target = await ctx.store.get_user_by_username(raw)
    # A user the caller may not see is the same as one that does not exist (RBAC).
    if target is None or (target.id != caller.id and not caller.is_owner):
        raise not_found()
    return target
