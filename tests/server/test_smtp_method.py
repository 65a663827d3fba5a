"""The smtp dispatch method against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from server.config import SmtpConfig
from server.notify.methods.base import DispatchError, RenderedMessage
from server.notify.methods.smtp import SmtpMethod
from server.notify.plaintext import plaintext_from_markdown
from tests.live_server import LiveServer
from tests.tools import require_tool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives, or refuses recipients with a given reply."""

    refuse_rcpt: str = ""
    envelopes: list[Any] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def parsed(self, index: int = 0) -> EmailMessage:
        raw = self.envelopes[index].content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


def message(**overrides: Any) -> RenderedMessage:
    title = "Workspace **dev** deleted & <3"
    body = "Your workspace **dev** was deleted.\n\n<script>alert(1)</script> & more"
    values: dict[str, Any] = {
        "message_id": uuid.uuid4(),
        "template_id": uuid.uuid4(),
        "notification_name": "Workspace Deleted",
        "user_id": uuid.uuid4(),
        "user_email": "bobby@example.com",
        "user_name": "Bobby Tables",
        "user_username": "bobby",
        "title": title,
        "body": body,
        "title_plaintext": plaintext_from_markdown(title),
        "body_plaintext": plaintext_from_markdown(body),
        "actions": [{"label": "View workspaces", "url": "http://coder.test/workspaces?a=1&b=2"}],
        "labels": {"name": "dev"},
        "data": {},
        "targets": None,
        "created_at": datetime.now(UTC),
    }
    values.update(overrides)
    return RenderedMessage(**values)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def config(port: int, **overrides: Any) -> SmtpConfig:
    values: dict[str, Any] = {"host": "127.0.0.1", "port": port, "sender": "coder@example.com", "timeout": 10}
    values.update(overrides)
    return SmtpConfig(**values)


async def test_sends_plain_and_html_parts(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    msg = message()
    await SmtpMethod(config(port)).dispatch(msg)

    assert len(box.envelopes) == 1
    envelope = box.envelopes[0]
    assert envelope.mail_from == "coder@example.com"
    assert envelope.rcpt_tos == ["bobby@example.com"]

    mail = box.parsed()
    assert mail["From"] == "coder@example.com"
    assert mail["To"] == "Bobby Tables <bobby@example.com>"
    assert mail["Subject"] == "Workspace dev deleted & <3"
    assert mail["Message-ID"] == f"<{msg.message_id}@example.com>"
    assert mail["Date"]
    assert mail.get_content_type() == "multipart/alternative"

    parts = list(mail.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    plain = parts[0].get_content()
    assert isinstance(plain, str)
    assert "Your workspace dev was deleted." in plain
    assert "**" not in plain
    assert "View workspaces: http://coder.test/workspaces?a=1&b=2" in plain

    page = parts[1].get_content()
    assert isinstance(page, str)
    assert "<strong>dev</strong>" in page
    # Markup from templates or labels is escaped, never passed through.
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<h1>Workspace <strong>dev</strong> deleted &amp; &lt;3</h1>" in page
    assert '<a href="http://coder.test/workspaces?a=1&amp;b=2">View workspaces</a>' in page


async def test_multiline_title_becomes_one_subject_line(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    await SmtpMethod(config(port)).dispatch(message(title="one\ntwo", title_plaintext="one\ntwo"))
    assert box.parsed()["Subject"] == "one two"


async def test_refused_recipient_is_permanent(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    box.refuse_rcpt = "550 5.1.1 no such user"
    with pytest.raises(DispatchError) as info:
        await SmtpMethod(config(port)).dispatch(message())
    assert info.value.temporary is False
    assert box.envelopes == []


async def test_greylisted_recipient_is_temporary(mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    box.refuse_rcpt = "451 4.7.1 greylisted, try again later"
    with pytest.raises(DispatchError) as info:
        await SmtpMethod(config(port)).dispatch(message())
    assert info.value.temporary is True


async def test_unreachable_smarthost_is_temporary() -> None:
    with pytest.raises(DispatchError) as info:
        await SmtpMethod(config(free_port())).dispatch(message())
    assert info.value.temporary is True


async def test_missing_recipient_address_is_permanent(mailbox: tuple[Mailbox, int]) -> None:
    _, port = mailbox
    with pytest.raises(DispatchError) as info:
        await SmtpMethod(config(port)).dispatch(message(user_email=""))
    assert info.value.temporary is False


class Accounts:
    """An aiosmtpd authenticator accepting one login."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username.encode()
        self.password = password.encode()
        self.logins: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == (self.username, self.password):
            self.logins.append(mechanism)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_auth_on_local_smarthost() -> None:
    box = Mailbox()
    accounts = Accounts("mailer", "s3cret")
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=accounts,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        await SmtpMethod(config(port, username="mailer", password="s3cret")).dispatch(message())
        assert accounts.logins
        assert len(box.envelopes) == 1

        with pytest.raises(DispatchError) as info:
            await SmtpMethod(config(port, username="mailer", password="wrong")).dispatch(message())
        assert info.value.temporary is False
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    require_tool("openssl", "openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


async def test_starttls_then_auth(certificate: tuple[Path, Path]) -> None:
    box = Mailbox()
    accounts = Accounts("mailer", "s3cret")
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls(certificate),
        require_starttls=True,
        authenticator=accounts,
        auth_required=True,
    )
    controller.start()
    try:
        # Without STARTTLS the server refuses to go on.
        with pytest.raises(DispatchError):
            await SmtpMethod(config(port)).dispatch(message())
        # A self-signed certificate fails verification unless told to skip it.
        with pytest.raises(DispatchError):
            await SmtpMethod(config(port, starttls=True, username="mailer", password="s3cret")).dispatch(message())
        await SmtpMethod(
            config(port, starttls=True, insecure_skip_verify=True, username="mailer", password="s3cret")
        ).dispatch(message())
        assert accounts.logins
        assert len(box.envelopes) == 1
    finally:
        controller.stop()


async def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, ssl_context=server_tls(certificate))
    controller.start()
    try:
        await SmtpMethod(config(port, tls=True, insecure_skip_verify=True)).dispatch(message())
        assert len(box.envelopes) == 1
        assert box.parsed()["Subject"] == "Workspace dev deleted & <3"
    finally:
        controller.stop()


async def test_server_delivers_by_mail(mailbox: tuple[Mailbox, int], tmp_path: Path) -> None:
    box, port = mailbox
    server = LiveServer(
        tmp_path / "server",
        args=["--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--smtp-from", "coder@example.com"],
    ).start()
    try:
        async with httpx.AsyncClient(base_url=server.url + "/api/v2", headers=server.headers()) as c:
            me = (await c.get("/users/me")).json()
            response = await c.post(
                "/notifications/custom", json={"content": {"title": "**Deploy** done", "message": "All *green*."}}
            )
            assert response.status_code == 204
        async with asyncio.timeout(30):
            while not box.envelopes:  # noqa: ASYNC110 - the SMTP server runs in its own thread
                await asyncio.sleep(0.05)
    finally:
        server.stop()

    assert box.envelopes[0].rcpt_tos == [me["email"]]
    mail = box.parsed()
    assert mail["Subject"] == "Deploy done"
    plain, page = (part.get_content() for part in mail.iter_parts())
    assert "All green." in plain
    assert "<em>green</em>" in page
