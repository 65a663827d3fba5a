"""Request and response primitives for the plain ASGI application."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from server.asgi import Receive, Scope, Send
from server.errors import MAX_BODY_BYTES, MSG_BAD_JSON, MSG_TOO_LARGE, ApiError
from server.json_depth import MAX_JSON_DEPTH, too_deep
from server.wire import encode_json

JSON_CONTENT_TYPE = b"application/json; charset=utf-8"


@dataclass(slots=True)
class Request:
    """One HTTP request: the ASGI scope plus lazy body reading with Coder's 4 MiB limit."""

    scope: Scope
    receive: Receive
    path_params: dict[str, str] = field(default_factory=dict)
    _body: bytes | None = None

    @property
    def method(self) -> str:
        """The HTTP method."""
        return str(self.scope["method"])

    @property
    def path(self) -> str:
        """The decoded path."""
        return str(self.scope["path"])

    @property
    def query_string(self) -> bytes:
        """The raw query string."""
        return bytes(self.scope.get("query_string", b""))

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        """Raw header pairs (names lower-case, as ASGI gives them)."""
        return list(self.scope.get("headers", []))

    def header(self, name: bytes) -> bytes | None:
        """The first value of one header."""
        for key, value in self.scope.get("headers", []):
            if key == name:
                return bytes(value)
        return None

    @property
    def client_host(self) -> str:
        """The peer address (for unauthenticated rate limits)."""
        client = self.scope.get("client")
        return str(client[0]) if client else "unknown"

    async def body(self) -> bytes:
        """Read the whole body, refusing more than 4 MiB with 413 as Coder does."""
        if self._body is not None:
            return self._body
        length = self.header(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise ApiError(413, MSG_TOO_LARGE, f"Maximum request body size is {MAX_BODY_BYTES} bytes.")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise ApiError(413, MSG_TOO_LARGE, f"Maximum request body size is {MAX_BODY_BYTES} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        """Parse the body as JSON (httpapi.Read): anything invalid, an empty body included, is a 400."""
        raw = await self.body()
        if not raw.strip():
            raise ApiError(400, MSG_BAD_JSON, "EOF")
        if too_deep(raw):
            # Deviation: Go's decoder allows 10,000 levels; ours refuses more than 64 before decoding.
            raise ApiError(400, "Invalid request body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, MSG_BAD_JSON, str(exc)) from None

    async def json_object(self) -> dict[str, Any]:
        """Parse a JSON object body; another JSON type is the decoder's type error, as in Go."""
        value = await self.json()
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise ApiError(400, MSG_BAD_JSON, f"json: cannot unmarshal {kind} into Go value of type object")
        return value


@dataclass(slots=True)
class Response:
    """A response to send: status, headers and body bytes."""

    status: int
    body: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def send(self, send: Send) -> None:
        """Write it to the ASGI channel."""
        headers = list(self.headers)
        if self.body or self.status not in (204, 304):
            headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def json_response(value: Any, status: int = 200) -> Response:
    """A JSON response as Coder's httpapi.Write: compact with a trailing newline."""
    return Response(status, encode_json(value) + b"\n", [(b"content-type", JSON_CONTENT_TYPE)])


def empty_response(status: int) -> Response:
    """A bodyless response (204, 304)."""
    return Response(status)


def error_response(error: ApiError) -> Response:
    """Coder's error body for an ApiError."""
    response = json_response(error.payload(), error.status)
    response.headers.extend(error.headers)
    return response
