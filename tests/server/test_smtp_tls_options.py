"""Coder's e-mail TLS options against a real SMTP server: CA file, server name, PLAIN identity."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from server.notify.methods.base import DispatchError
from server.notify.methods.smtp import SmtpMethod
from tests.server.test_smtp_method import Accounts, Mailbox, config, free_port, message, server_tls
from tests.tools import require_tool


@pytest.fixture(scope="module")
def named_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for `mail.test` (not for 127.0.0.1, where the test server listens)."""
    openssl = require_tool("openssl", "openssl")
    folder = tmp_path_factory.mktemp("named-cert")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            str(openssl), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mail.test",
            "-addext", "subjectAltName=DNS:mail.test", "-keyout", str(key), "-out", str(cert),
        ],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


async def test_ca_file_and_server_name_with_implicit_tls(named_certificate: tuple[Path, Path]) -> None:
    cert, _ = named_certificate
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, ssl_context=server_tls(named_certificate))
    controller.start()
    try:
        with pytest.raises(DispatchError):  # the system CAs do not know this certificate
            await SmtpMethod(config(port, tls=True, tls_server_name="mail.test")).dispatch(message())
        with pytest.raises(DispatchError):  # trusted now, but it is not 127.0.0.1's certificate
            await SmtpMethod(config(port, tls=True, tls_ca_file=str(cert))).dispatch(message())
        await SmtpMethod(config(port, tls=True, tls_ca_file=str(cert), tls_server_name="mail.test")).dispatch(message())
        assert len(box.envelopes) == 1
    finally:
        controller.stop()


async def test_starttls_with_server_name_and_plain_identity(named_certificate: tuple[Path, Path]) -> None:
    cert, _ = named_certificate
    box = Mailbox()
    accounts = Accounts("mailer", "s3cret")
    port = free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, tls_context=server_tls(named_certificate),
        require_starttls=True, authenticator=accounts, auth_required=True,
    )  # fmt: skip
    controller.start()
    try:
        verified = {"starttls": True, "tls_ca_file": str(cert), "tls_server_name": "mail.test"}
        with pytest.raises(DispatchError):
            await SmtpMethod(config(port, **verified, username="mailer", password="wrong", identity="ops")).dispatch(
                message()
            )
        await SmtpMethod(config(port, **verified, username="mailer", password="s3cret", identity="ops")).dispatch(
            message()
        )
        assert accounts.logins == ["PLAIN"]
        assert len(box.envelopes) == 1
    finally:
        controller.stop()
