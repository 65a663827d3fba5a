"""What kind of server a URL is (Coder or inbox-server), and how to get a session token from it.

`GET /api/v2/buildinfo` needs no token, in Coder and in inbox-server. inbox-server's version reads
`v2.99.0-inbox-server+<version>`; any other answer with a version is taken for Coder. Only Coder has the
`/cli-auth` page that prints a token for a signed-in browser (a 404 on inbox-server), so `login` suggests it
only there. No Textual here.
"""

from __future__ import annotations

from typing import Any

from inbox_tui.api.client import CoderClient
from inbox_tui.api.errors import ApiError

KIND_CODER = "coder"
KIND_INBOX_SERVER = "inbox-server"
KIND_UNKNOWN = "unknown"  # unreachable, or not something that answers buildinfo
BUILDINFO_TIMEOUT = 3.0  # the login prompt waits at most this long for the answer


def kind_from_buildinfo(data: dict[str, Any]) -> str:
    """KIND_INBOX_SERVER when the version names inbox-server, KIND_CODER for another version, else unknown."""
    version = str(data.get("version") or "")
    if "inbox-server" in version:
        return KIND_INBOX_SERVER
    return KIND_CODER if version else KIND_UNKNOWN


async def deployment_kind(url: str) -> str:
    """Ask `url`'s buildinfo what it is (BUILDINFO_TIMEOUT at most); KIND_UNKNOWN when it cannot tell."""
    try:
        async with CoderClient(url, "", timeout=BUILDINFO_TIMEOUT) as client:
            return kind_from_buildinfo(await client.buildinfo())
    except ApiError:
        return KIND_UNKNOWN


def token_hint(url: str, kind: str) -> str:
    """One paragraph for the login prompt: where a session token for `url` comes from."""
    if kind == KIND_CODER:
        return (
            f"Create a session token for {url}: open {url}/cli-auth in a signed-in browser, "
            "or run `coder tokens create`."
        )
    if kind == KIND_INBOX_SERVER:
        return (
            f"{url} is an inbox-server: on its host, `inbox-server tokens create --user NAME` prints a session "
            "token for an existing user (add `--db PATH` if it serves another database than the default), and "
            "`inbox-server users create --username NAME` creates a user and prints one."
        )
    return (
        f"Create a session token for {url}: `coder tokens create` on a Coder deployment, "
        "`inbox-server tokens create --user NAME` on the host of an inbox-server."
    )
