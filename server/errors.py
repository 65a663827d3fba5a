"""Coder's error body (`codersdk.Response`) and the standard messages handlers reuse."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.wire import encode_json

MSG_SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
MSG_FORBIDDEN = "Forbidden."
DETAIL_FORBIDDEN = (
    "You don't have permission to view this content. If you believe this is a mistake, please contact "
    "your administrator or try signing in with different credentials."
)
MSG_NOT_FOUND = "Resource not found or you do not have access to this resource"
MSG_ROUTE_NOT_FOUND = "Route not found."
MSG_BAD_JSON = "Request body must be valid JSON."
MSG_TOO_LARGE = "Request body too large."
MSG_INTERNAL = "An internal server error occurred."
MAX_BODY_BYTES = 4 * 1024 * 1024


class ApiError(Exception):
    """An HTTP error answered with Coder's `{"message", "detail"?, "validations"?}` body."""

    def __init__(
        self,
        status: int,
        message: str,
        detail: str = "",
        validations: Sequence[tuple[str, str]] = (),
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.validations = list(validations)
        self.headers = list(headers)

    def payload(self) -> dict[str, Any]:
        """The JSON object; empty detail and validations are omitted (Go's omitempty)."""
        body: dict[str, Any] = {"message": self.message}
        if self.detail:
            body["detail"] = self.detail
        if self.validations:
            body["validations"] = [{"field": f, "detail": d} for f, d in self.validations]
        return body

    def body(self) -> bytes:
        """The encoded JSON body."""
        return encode_json(self.payload())


def unauthorized(detail: str) -> ApiError:
    """401 with Coder's signed-out message."""
    return ApiError(401, MSG_SIGNED_OUT, detail)


def forbidden() -> ApiError:
    """403 from httpapi.Forbidden."""
    return ApiError(403, MSG_FORBIDDEN, DETAIL_FORBIDDEN)


def internal_error(message: str) -> ApiError:
    """500 for a failed step: Coder's message for the step, the generic detail.

    Deviation: Coder puts the error text in `detail`; ours is logged instead, because database and
    driver errors carry SQL and values that are no business of the client.
    """
    return ApiError(500, message, MSG_INTERNAL)


def not_found() -> ApiError:
    """404 from httpapi.ResourceNotFound."""
    return ApiError(404, MSG_NOT_FOUND)
