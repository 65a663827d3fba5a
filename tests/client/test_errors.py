"""ApiError prints like codersdk.Error; transport failures read like sentences."""

from __future__ import annotations

import socket

import httpx
import pytest

from inbox_tui.api.errors import ApiError, ConnectionFailed, describe_error
from tests.client.fakes import fake_client, json_response


def test_message_detail_and_validations_print_like_codersdk() -> None:
    error = ApiError(
        method="GET",
        url="https://coder.example.com/api/v2/notifications/inbox?targets=bad",
        status=400,
        message="Query parameters have invalid values.",
        detail="",
        validations=[("targets", 'Query param "targets" has invalid values: invalid UUID length: 3')],
    )
    assert str(error) == (
        "GET https://coder.example.com/api/v2/notifications/inbox?targets=bad: unexpected status code 400: "
        "Query parameters have invalid values.\n"
        '\ttargets: Query param "targets" has invalid values: invalid UUID length: 3'
    )


def test_detail_line_and_401_helper() -> None:
    error = ApiError.from_body(
        method="GET",
        url="https://c/api/v2/users/me",
        status=401,
        content_type="application/json",
        body=b'{"message":"You are signed out or your session has expired. Please sign in again to continue.",'
        b'"detail":"Cookie \\"coder_session_token\\" or query parameter must be provided."}',
    )
    assert str(error) == (
        "GET https://c/api/v2/users/me: unexpected status code 401: You are signed out or your session has "
        "expired. Please sign in again to continue.: Try logging in using 'inbox-tui login <url>'.\n"
        '\tError: Cookie "coder_session_token" or query parameter must be provided.'
    )


def test_non_json_body_becomes_mime_error_with_raw_body() -> None:
    error = ApiError.from_body(
        method="GET", url="https://c/api/v2/x", status=502, content_type="text/html", body=b"<h1>Bad gateway</h1>"
    )
    assert error.message == 'unexpected non-JSON response "text/html"'
    assert error.detail == "<h1>Bad gateway</h1>"
    assert str(error).endswith('502: unexpected non-JSON response "text/html"\n\tError: <h1>Bad gateway</h1>')


def test_non_json_empty_body_and_long_body() -> None:
    empty = ApiError.from_body(method="GET", url="u", status=503, content_type="", body=b"")
    assert empty.detail == "no response body"
    long = ApiError.from_body(method="GET", url="u", status=503, content_type="text/plain", body=b"x" * 5000)
    assert long.detail == "x" * 2048 + "..."


def test_json_without_message_and_empty_json_body() -> None:
    nomsg = ApiError.from_body(method="GET", url="u", status=500, content_type="application/json", body=b"{}")
    assert nomsg.message == "unexpected status code 500, response has no message"
    assert nomsg.detail == "{}"
    empty = ApiError.from_body(method="GET", url="u", status=500, content_type="application/json", body=b"")
    assert empty.message == "empty response body"


def test_field_errors() -> None:
    error = ApiError(method="", url="", status=400, message="m", validations=[("method", "bad")])
    assert error.field_errors == {"method": "bad"}
    # Without method and URL the prefix is left out, as codersdk does.
    assert str(error) == "unexpected status code 400: m\n\tmethod: bad"


def test_describe_for_the_tui() -> None:
    # Message, detail, then each validation on its own line (a nameless one as its detail alone).
    error = ApiError(
        method="PUT",
        url="u",
        status=400,
        message="Invalid request.",
        detail="bad \x1b[2Jinput",
        validations=[("name", "required"), ("", "whole body")],
    )
    assert error.describe() == "Invalid request.\nbad input\nname: required\nwhole body"
    assert describe_error(error) == error.describe()
    assert ApiError(method="", url="", status=502, message="").describe() == "status 502"
    assert describe_error(ValueError("boom")) == "boom"
    assert describe_error(TimeoutError()) == "TimeoutError"


async def test_refused_connection_is_readable() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    from inbox_tui.api.client import CoderClient

    async with CoderClient(f"http://127.0.0.1:{port}", "t") as client:
        with pytest.raises(ConnectionFailed) as info:
            await client.me()
    assert str(info.value) == (
        f"GET http://127.0.0.1:{port}/api/v2/users/me: connection refused (is the server running?)"
    )
    assert info.value.status == 0
    assert isinstance(info.value, ApiError)


async def test_html_page_with_200_is_an_invalid_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>SSO login</html>", headers={"Content-Type": "text/html"})

    async with fake_client(handler) as client:
        with pytest.raises(ApiError) as info:
            await client.me()
    assert info.value.invalid_body
    assert "invalid API response (status code 200): Received an HTML response instead of JSON" in str(info.value)


async def test_truncated_json_with_200_is_an_invalid_response() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"id": ', headers={"Content-Type": "application/json"})

    async with fake_client(handler) as client:
        with pytest.raises(ApiError) as info:
            await client.me()
    assert "Received an invalid JSON response" in str(info.value)


async def test_forbidden_from_client_call() -> None:
    forbidden = {
        "message": "Forbidden.",
        "detail": "You don't have permission to view this content. If you believe this is a mistake, please "
        "contact your administrator or try signing in with different credentials.",
    }

    async with fake_client(lambda r: json_response(403, forbidden)) as client:
        with pytest.raises(ApiError) as info:
            await client.set_paused(True)
    assert str(info.value).startswith(
        "PUT https://coder.example.com/api/v2/notifications/settings: unexpected status code 403: Forbidden.\n"
        "\tError: You don't have permission"
    )
