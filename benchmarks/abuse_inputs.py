"""The bad inputs of issue 12, section 2 (and the request-head limits of section 1), as raw HTTP requests.

Each group is a name and a list of complete HTTP/1.1 requests (bytes), so the benchmark can send them
over plain connections and count the statuses. tests/server/test_bad_input.py asserts the same shapes
one by one; here they are counted, and every one must be answered below 500.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

API = "/api/v2"
CUSTOM = "/notifications/custom"
TEST_TEMPLATE = "c425f63e-716a-4bf4-ae24-78348f706c3f"  # a bundled template (the test notification)
DEPTHS = (65, 1_000, 100_000)  # just over the 64-level limit, the depth that broke, and far beyond
FILTER_COUNTS = (998, 999, 1_000, 1_001)  # around SQLite's expression-tree limit
PREFERENCE_IDS = 90_000  # random template ids: a ~4 MiB map, just under the body limit
# 32-hex-digit forms that Python's int()/UUID() accept and Go's uuid.Parse does not.
NON_GO_UUIDS = (
    "0x" + "a" * 30,
    "1_" + "a" * 30,
    "%20" + "a" * 31,
    "+" + "a" * 31,
    "-" + "a" * 31,
    "a" * 31 + "%0A",
    "{" + "a" * 36 + "}",
    "urn:uuid:0x" + "a" * 34,
)
BAD_USERNAMES = ("bo\x1b[2Jb", "me", str(uuid.UUID(int=7)), "a" * 300, "a--b", "-ab", "")


@dataclass
class Group:
    """A named set of bad requests."""

    name: str
    requests: list[bytes]


def request(method: str, path: str, token: str | bytes | None, body: bytes | None = None) -> bytes:
    """A complete HTTP/1.1 request to `API + path` (the path already percent-encoded where needed)."""
    head = [f"{method} {API}{path} HTTP/1.1".encode(), b"Host: 127.0.0.1"]
    if token is not None:
        head.append(b"Coder-Session-Token: " + (token if isinstance(token, bytes) else token.encode()))
    if body is not None:
        head += [b"Content-Type: application/json", f"Content-Length: {len(body)}".encode()]
    return b"\r\n".join(head) + b"\r\n\r\n" + (body or b"")


def body_endpoints(inbox_id: str) -> list[tuple[str, str]]:
    """Every route that decodes a request body, with a path that reaches the decoding."""
    return [
        ("PUT", f"/notifications/inbox/{inbox_id}/read-status"),
        ("PUT", "/notifications/settings"),
        ("PUT", f"/notifications/templates/{TEST_TEMPLATE}/method"),
        ("POST", CUSTOM),
        ("PUT", "/users/me/notifications/preferences"),
    ]


def preferences_map(count: int = PREFERENCE_IDS) -> bytes:
    """`{"template_disabled_map": {...}}` with `count` random template ids."""
    return json.dumps({"template_disabled_map": {str(uuid.uuid4()): True for _ in range(count)}}).encode()


def _custom(title: str, message: str = '"m"') -> bytes:
    return f'{{"content":{{"title":{title},"message":{message}}}}}'.encode()


def groups(owner: str, inbox_id: str) -> list[Group]:
    """Every bad input, grouped as in the issue. `owner` is a token, `inbox_id` one of its notifications."""
    endpoints = body_endpoints(inbox_id)
    deep = Group(
        f"JSON nested {', '.join(f'{d:,}' for d in DEPTHS)} levels deep (arrays and objects) on the "
        f"{len(endpoints)} body endpoints",
        [
            request(method, path, owner, body)
            for method, path in endpoints
            for depth in DEPTHS
            for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth)
        ],
    )
    malformed_bodies = (
        b"",
        b"{",
        b"\xff\xfe{}",
        b"null",
        b"[]",
        b'"x"',
        b"1e999999",
        b'{"a":' + b"9" * 5_000 + b"}",  # past Python's int-from-string digit limit
        b'{"a":"\\ud800"}',
    )
    malformed = Group(
        f"malformed bodies (truncated, not UTF-8, not an object, a 5,000-digit number, ...) on the "
        f"{len(endpoints)} body endpoints",
        [request(method, path, owner, body) for method, path in endpoints for body in malformed_bodies],
    )
    surrogates = Group(
        "lone surrogates in a custom notification's title and message, a template method, a preference key",
        [
            *(request("POST", CUSTOM, owner, _custom(f'"{s}"')) for s in ("\\ud800", "x\\udfffy")),
            *(request("POST", CUSTOM, owner, _custom('"t"', f'"{s}"')) for s in ("\\ud800", "x\\udfffy")),
            request("PUT", f"/notifications/templates/{TEST_TEMPLATE}/method", owner, b'{"method":"x\\ud800"}'),
            request("PUT", "/users/me/notifications/preferences", owner, b'{"template_disabled_map":{"\\udfff":1}}'),
        ],
    )
    nul = Group(
        "NUL in a title, a message, the user path parameter (/users/bo%00b, ...) and the session token",
        [
            *(request("POST", CUSTOM, owner, _custom(f'"{s}"')) for s in ("\\u0000", "a\\u0000b")),
            *(request("POST", CUSTOM, owner, _custom('"t"', f'"{s}"')) for s in ("\\u0000", "a\\u0000b")),
            request("GET", "/users/bo%00b", owner),
            request("GET", "/users/%00", owner),
            request("GET", "/users/bo%00b/notifications/preferences", owner),
            request("PUT", "/users/bo%00b/notifications/preferences", owner, b"{}"),
            request("GET", "/users/me?coder_session_token=abcd%00efgh-" + "x" * 22, None),
            request("GET", "/users/me", b"abcd\xe9fghi-" + b"x" * 22),
        ],
    )
    filters = []
    for name in ("targets", "templates"):
        for count in FILTER_COUNTS:
            values = ",".join(str(uuid.uuid4()) for _ in range(count))
            filters.append(request("GET", f"/notifications/inbox?{name}={values}", owner))
        # As many values as the 8 KiB URL holds: these reach the database and must work (200).
        fits = (8 * 1024 - len(f"{API}/notifications/inbox?{name}=") - 64) // 37
        values = ",".join(str(uuid.uuid4()) for _ in range(fits))
        filters.append(request("GET", f"/notifications/inbox?{name}={values}", owner))
    many = Group(
        f"{', '.join(f'{c:,}' for c in FILTER_COUNTS)} values in the inbox targets/templates filters "
        "(past the 8 KiB URL), and as many as fit",
        filters,
    )
    preferences = Group(
        f"PUT preferences with {PREFERENCE_IDS:,} random template ids (4 MiB), and with 25 unknown ids",
        [
            request("PUT", "/users/me/notifications/preferences", owner, preferences_map()),
            request("PUT", "/users/me/notifications/preferences", owner, preferences_map(25)),
        ],
    )
    uuid_paths = [
        ("PUT", "/notifications/inbox/{}/read-status", b'{"is_read":true}'),
        ("PUT", "/notifications/templates/{}/method", b'{"method":"webhook"}'),
        ("GET", "/notifications/inbox?starting_before={}", None),
        ("GET", "/notifications/inbox?targets={}", None),
        ("GET", "/notifications/inbox?templates={}", None),
    ]
    uuids = Group(
        f"{len(NON_GO_UUIDS)} UUID forms Go's parser rejects (0x.., 1_.., leading space, +.., ...) in "
        f"{len(uuid_paths)} path and query parameters",
        [request(m, p.format(raw), owner, b) for m, p, b in uuid_paths for raw in NON_GO_UUIDS],
    )
    return [deep, malformed, surrogates, nul, many, preferences, uuids]


def head_limits(owner: str) -> Group:
    """Request heads over the limits: a 9 KiB URL, a 70 KiB header, 2,000 small headers."""
    long_url = f"GET {API}/users/me?x={'a' * 9 * 1024} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    big_header = f"GET {API}/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {'a' * 70 * 1024}\r\n\r\n".encode()
    many = "".join(f"X-H{i}: {'a' * 30}\r\n" for i in range(2_000))
    many_headers = f"GET {API}/users/me HTTP/1.1\r\nHost: 127.0.0.1\r\n{many}\r\n".encode()
    return Group(
        "request heads over the limits (a 9 KiB URL, a 70 KiB header, 2,000 headers)",
        [
            long_url,
            big_header,
            many_headers,
        ],
    )
