"""The smtp dispatch method: one real SMTP conversation per message, plain-text and HTML parts.

smtplib runs in a worker thread (asyncio.to_thread) so a slow smarthost never stalls the event loop,
and no extra dependency is needed. Like Coder, the mail goes from the configured sender to the user's
address, with the plain-text title as subject.
"""

from __future__ import annotations

import asyncio
import functools
import html
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any

from markdown_it import MarkdownIt

from server.config import SmtpConfig
from server.notify.methods.base import DispatchError, RenderedMessage
from server.records import now_utc

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@functools.cache
def _markdown() -> MarkdownIt:
    # Raw HTML in templates or labels is escaped, never passed through; unsafe link schemes are dropped
    # (markdown-it's validateLink); strike-through as in GitHub-flavoured markdown.
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["strikethrough", "table"])


def html_from_markdown(md: str) -> str:
    """Markdown to an HTML fragment that is safe to embed in an e-mail (as Coder's HTMLFromMarkdown)."""
    rendered: str = _markdown().render(md)
    return rendered.strip()


def html_document(msg: RenderedMessage) -> str:
    """The HTML part: the title, the body and the actions as links."""
    title = _markdown().renderInline(msg.title)
    actions = "".join(
        f'<p><a href="{html.escape(a.get("url", ""), quote=True)}">{html.escape(a.get("label", ""))}</a></p>'
        for a in msg.actions
        if a.get("url", "").startswith(("http://", "https://"))
    )
    return (
        "<!doctype html>\n"
        '<html><head><meta charset="utf-8">'
        f"<title>{html.escape(msg.title_plaintext)}</title></head>\n"
        f"<body>\n<h1>{title}</h1>\n{html_from_markdown(msg.body)}\n{actions}\n</body></html>\n"
    )


def plain_text(msg: RenderedMessage) -> str:
    """The text/plain part: the body as plain text, then one `label: url` line per action."""
    parts = [msg.body_plaintext]
    if msg.actions:
        parts.append("\n".join(f"{a.get('label', '')}: {a.get('url', '')}" for a in msg.actions))
    return "\n\n".join(p for p in parts if p) + "\n"


def build_email(config: SmtpConfig, msg: RenderedMessage) -> EmailMessage:
    """The complete MIME message (multipart/alternative: text/plain then text/html)."""
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = formataddr((msg.user_name, msg.user_email)) if msg.user_name else msg.user_email
    # A subject is one line; a multi-line title is folded into one.
    mail["Subject"] = " ".join(msg.title_plaintext.split())
    mail["Date"] = format_datetime(now_utc())
    mail["Message-ID"] = f"<{msg.message_id}@{_domain_of(config.sender)}>"
    mail["X-Message-Id"] = str(msg.message_id)
    mail.set_content(plain_text(msg), subtype="plain", charset="utf-8")
    mail.add_alternative(html_document(msg), subtype="html", charset="utf-8")
    return mail


def _domain_of(address: str) -> str:
    _, _, domain = address.rpartition("@")
    return domain.strip("<> ") or socket.gethostname()


def _tls_context(config: SmtpConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=config.tls_ca_file or None)
    if config.tls_cert_file:
        context.load_cert_chain(config.tls_cert_file, config.tls_key_file or None)
    if config.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class _NamedSMTP(smtplib.SMTP):
    """smtplib verifies the certificate against the host it dialled; --email-tls-server-name overrides it."""

    server_name = ""

    def starttls(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if self.server_name:
            self._host = self.server_name
        return super().starttls(*args, **kwargs)


class _NamedSMTPSSL(smtplib.SMTP_SSL):
    server_name = ""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        self._host = self.server_name or host  # built without a host, so _host is still empty here
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]  # not in typeshed
        return sock


def _classify(exc: BaseException) -> DispatchError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        temporary = any(400 <= c < 500 for c in codes)
        return DispatchError(f"recipient refused: {exc.recipients}", temporary=temporary)
    if isinstance(exc, smtplib.SMTPResponseException):
        # 4xx replies are transient by definition (RFC 5321 4.2.1); 5xx will fail the same way again.
        reason = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return DispatchError(f"smtp {exc.smtp_code}: {reason}", temporary=400 <= exc.smtp_code < 500)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DispatchError(f"smtp: {exc}", temporary=False)
    # Connection refused or reset, timeouts, TLS handshake failures, unexpected disconnects.
    return DispatchError(f"smtp: {exc!r}", temporary=True)


class SmtpMethod:
    """Sends each message through the configured smarthost."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    async def dispatch(self, msg: RenderedMessage) -> None:
        """Deliver one message, or raise DispatchError."""
        if not self.config.host:
            raise DispatchError("smtp smarthost not configured", temporary=False)
        if not self.config.sender:
            raise DispatchError("smtp sender (--smtp-from) not configured", temporary=False)
        if not msg.user_email:
            raise DispatchError("user has no e-mail address", temporary=False)
        mail = build_email(self.config, msg)
        await asyncio.to_thread(self._send, mail, msg.user_email)

    async def aclose(self) -> None:
        """Nothing to release: every message opens and closes its own SMTP session."""

    def _send(self, mail: EmailMessage, recipient: str) -> None:
        cfg = self.config
        try:
            client: smtplib.SMTP
            if cfg.tls:
                client = _NamedSMTPSSL(local_hostname=cfg.hello, timeout=cfg.timeout, context=_tls_context(cfg))
                client.server_name = cfg.tls_server_name
                client.connect(cfg.host, cfg.port)
            else:
                client = _NamedSMTP(cfg.host, cfg.port, local_hostname=cfg.hello, timeout=cfg.timeout)
                client.server_name = cfg.tls_server_name
            with client:
                client.ehlo_or_helo_if_needed()
                encrypted = cfg.tls
                if cfg.starttls:
                    client.starttls(context=_tls_context(cfg))
                    client.ehlo()
                    encrypted = True
                if cfg.username:
                    # Go's smtp.PlainAuth refuses to send credentials in the clear to a remote host.
                    if not encrypted and cfg.host not in _LOCAL_HOSTS:
                        raise DispatchError(
                            "refusing to send credentials unencrypted (use STARTTLS or TLS)",
                            temporary=False,
                        )
                    if cfg.identity:
                        # PLAIN with an authorization identity (Go's smtp.PlainAuth), which login() cannot send.
                        client.auth("PLAIN", lambda _=None: f"{cfg.identity}\0{cfg.username}\0{cfg.password}")
                    else:
                        client.login(cfg.username, cfg.password)
                client.send_message(mail, from_addr=cfg.sender, to_addrs=[recipient])
        except DispatchError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
