"""Errors raised by the client, printed the way the Coder CLI prints `codersdk.Error`.

`str(ApiError)` follows `codersdk.Error.Error()`:

    <METHOD> <URL>: unexpected status code <code>: <message>[: <helper>]
    \tError: <detail>
    \t<field>: <detail>          (one line per validation)
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
from typing import TYPE_CHECKING, Any

from inbox_tui.text import clean_line, terminal_safe

if TYPE_CHECKING:
    import httpx  # loaded with the first request (inbox_tui.api.load_httpx), never for these errors alone


def _indented(text: str) -> str:
    """Multi-line server text under a tab-indented heading: safe, each further line indented too."""
    return terminal_safe(text.strip("\n")).replace("\n", "\n\t")


# 401 gets a hint, as codersdk does; ours names our own login command.
LOGIN_HELPER = "Try logging in using 'inbox-tui login <url>'."

_MAX_RAW_BODY = 2048


class ApiError(Exception):
    """A response the client did not accept: a non-2xx status, or a 2xx body that is not the expected JSON."""

    def __init__(
        self,
        *,
        method: str,
        url: str,
        status: int,
        message: str,
        detail: str = "",
        validations: list[tuple[str, str]] | None = None,
        helper: str = "",
        invalid_body: bool = False,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        # Server text is made terminal-safe here, once, for every reader (the CLI and the TUI's screens).
        self.message = terminal_safe(message)
        self.detail = terminal_safe(detail)
        self.validations: list[tuple[str, str]] = [(terminal_safe(f), terminal_safe(d)) for f, d in validations or []]
        self.helper = helper
        self.invalid_body = invalid_body
        super().__init__(str(self))

    def __str__(self) -> str:
        # Every piece but the status may come from the server: each is made terminal-safe (one line each,
        # so a hostile detail cannot forge further lines either); the text stays printable as it is.
        parts: list[str] = []
        if self.method and self.url:
            parts.append(f"{self.method} {clean_line(self.url)}: ")
        if self.invalid_body:
            parts.append(f"invalid API response (status code {self.status}): {clean_line(self.message)}")
        else:
            parts.append(f"unexpected status code {self.status}: {clean_line(self.message)}")
        if self.helper:
            parts.append(f": {clean_line(self.helper)}")
        if self.detail:
            parts.append(f"\n\tError: {_indented(self.detail)}")
        for name, detail in self.validations:
            parts.append(f"\n\t{clean_line(name)}: {_indented(detail)}")
        return "".join(parts)

    def describe(self) -> str:
        """Coder's message, then its detail and each validation, one per line (as the web UI shows them)."""
        lines = [self.message or f"status {self.status}"]
        if self.detail:
            lines.append(self.detail)
        lines.extend(f"{name}: {detail}" if name else detail for name, detail in self.validations)
        return "\n".join(line for line in lines if line)

    @property
    def field_errors(self) -> dict[str, str]:
        """Validations keyed by field name (for showing them beside form fields)."""
        return dict(self.validations)

    @classmethod
    def from_body(
        cls,
        *,
        method: str,
        url: str,
        status: int,
        content_type: str,
        body: bytes,
    ) -> ApiError:
        """Build the error from a refused response, as `codersdk.ReadBodyAsError` does."""
        helper = LOGIN_HELPER if status == 401 else ""
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime != "application/json":
            raw = body if len(body) <= _MAX_RAW_BODY else body[:_MAX_RAW_BODY] + b"..."
            return cls(
                method=method,
                url=url,
                status=status,
                message=f"unexpected non-JSON response {json.dumps(content_type)}",
                detail=raw.decode("utf-8", "replace") if raw else "no response body",
                helper=helper,
            )
        if not body.strip():
            return cls(method=method, url=url, status=status, message="empty response body", helper=helper)
        try:
            data: Any = json.loads(body)
        except ValueError as exc:
            return cls(
                method=method,
                url=url,
                status=status,
                message=f"decode body: {exc}",
                detail=body[:1024].decode("utf-8", "replace"),
                helper=helper,
            )
        message = data.get("message") if isinstance(data, dict) else None
        if not isinstance(message, str) or not message:
            raw = body if len(body) <= 1024 else body[:1024] + b"..."
            return cls(
                method=method,
                url=url,
                status=status,
                message=f"unexpected status code {status}, response has no message",
                detail=raw.decode("utf-8", "replace"),
                helper=helper,
            )
        assert isinstance(data, dict)
        validations: list[tuple[str, str]] = []
        for item in data.get("validations") or []:
            if isinstance(item, dict):
                validations.append((str(item.get("field", "")), str(item.get("detail", ""))))
        detail = data.get("detail")
        return cls(
            method=method,
            url=url,
            status=status,
            message=message,
            detail=detail if isinstance(detail, str) else "",
            validations=validations,
            helper=helper,
        )

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        """Build the error from an httpx response that was refused."""
        return cls.from_body(
            method=response.request.method,
            url=str(response.request.url),
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=response.content,
        )

    @classmethod
    def invalid_response(cls, response: httpx.Response, reason: str) -> ApiError:
        """An accepted status whose body is not the JSON we expected (e.g. an SSO proxy's HTML page)."""
        content_type = response.headers.get("content-type", "")
        detail = f"content type {json.dumps(content_type)}" if content_type else "no content type"
        if reason:
            detail = f"{reason}, {detail}"
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime in ("text/html", "application/xhtml+xml") or response.content.lstrip().startswith(b"<"):
            message = "Received an HTML response instead of JSON from the Coder API."
        elif not response.content.strip():
            message = "Received an empty response from the Coder API."
        else:
            message = "Received an invalid JSON response from the Coder API."
        return cls(
            method=response.request.method,
            url=str(response.request.url),
            status=response.status_code,
            message=message,
            detail=detail,
            invalid_body=True,
        )


class ConnectionFailed(ApiError):
    """The server could not be reached at all (refused, DNS, TLS, timeout); `status` is 0."""

    def __init__(self, *, method: str, url: str, reason: str) -> None:
        self.reason = reason
        super().__init__(method=method, url=url, status=0, message=reason)

    def __str__(self) -> str:
        return f"{self.method} {clean_line(self.url)}: {terminal_safe(self.reason)}"

    @classmethod
    def from_exception(cls, method: str, url: str, exc: BaseException) -> ConnectionFailed:
        """Describe a transport error in words a person can act on."""
        return cls(method=method, url=url, reason=describe_transport_error(exc))


def describe_transport_error(exc: BaseException) -> str:
    """A short readable reason for an httpx / OS / websockets transport error."""
    # An httpx error can only exist once httpx is loaded: nothing is imported to classify an error.
    loaded = sys.modules.get("httpx")
    if isinstance(exc, TimeoutError) or (loaded is not None and isinstance(exc, loaded.TimeoutException)):
        return "timed out waiting for the server"
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for item in chain:
        if isinstance(item, ConnectionRefusedError):
            return "connection refused (is the server running?)"
        if isinstance(item, socket.gaierror):
            return f"cannot resolve the host name ({item.strerror or item})"
        if isinstance(item, ssl.SSLError):
            return f"TLS error: {item}"
        if isinstance(item, TimeoutError):
            return "timed out waiting for the server"
    for item in reversed(chain):
        text = str(item).strip()
        if text:
            return text
    return type(exc).__name__


def describe_error(error: BaseException) -> str:
    """What the TUI shows for a failure: `ApiError.describe()`, or any other error's own words."""
    if isinstance(error, ApiError):
        return error.describe()
    return str(error) or type(error).__name__
