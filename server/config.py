"""ServerConfig: everything `inbox-server serve` can be told, with Coder's defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_RATE_LIMIT = 512  # Coder's --api-rate-limit default, requests per minute


def default_db_path() -> str:
    """`$INBOX_DB`, else the database of inbox-tui's embedded default.

    One default database for both programs: `inbox-server notify --user $USER ...` with no `--db` reaches
    the inbox that plain `inbox-tui` shows (`$INBOX_TUI_DATA_DIR`, else the inbox-tui user data dir).
    """
    env = os.environ.get("INBOX_DB")
    if env:
        return env
    data_dir = os.environ.get("INBOX_TUI_DATA_DIR", "").strip()
    base = Path(data_dir).expanduser() if data_dir else Path(platformdirs.user_data_dir("inbox-tui", appauthor=False))
    return str(base / "inbox.db")


@dataclass(slots=True)
class SmtpConfig:
    """Outgoing mail (Coder's CODER_EMAIL_* / CODER_NOTIFICATIONS_EMAIL_* options)."""

    host: str = ""
    port: int = 25
    sender: str = ""  # --smtp-from
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False  # upgrade a plain connection with STARTTLS
    tls: bool = False  # implicit TLS from the first byte (port 465 style)
    insecure_skip_verify: bool = False
    hello: str = "localhost"
    timeout: float = 60.0  # --notifications-dispatch-timeout (Coder's 1m)
    identity: str = ""  # PLAIN authorization identity
    password_file: str = ""  # where `password` was read from, if anywhere
    tls_server_name: str = ""  # name to verify the certificate against (default: the host)
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""

    @property
    def configured(self) -> bool:
        """Coder enqueues smtp only when a smarthost is configured."""
        return bool(self.host)


@dataclass(slots=True)
class WebhookConfig:
    """Webhook delivery (CODER_NOTIFICATIONS_WEBHOOK_ENDPOINT)."""

    url: str = ""
    timeout: float = 60.0  # --notifications-dispatch-timeout (Coder's 1m)

    @property
    def configured(self) -> bool:
        """Coder enqueues webhook only when an endpoint is configured."""
        return bool(self.url)


@dataclass(slots=True)
class ServerConfig:
    """Runtime configuration of one server process."""

    host: str = "127.0.0.1"
    port: int = 3000
    db: str = field(default_factory=default_db_path)
    access_url: str = ""  # defaults to http://HOST:PORT once bound
    notifications_method: str = "smtp"  # the deployment default method
    inbox_enabled: bool = True
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    webhook: WebhookConfig = field(default_factory=WebhookConfig)
    api_rate_limit: int = DEFAULT_RATE_LIMIT  # per minute; negative = unlimited
    disable_rate_limits: bool = False
    max_send_attempts: int = 5
    retry_interval: float = 1.0  # first retry delay in seconds; doubles each attempt
    fetch_interval: float = 1.0  # safety-net sweep; dispatch is normally woken at once (Coder: 15s)
    lease_seconds: float = 120.0
    lease_count: int = 500  # messages leased per round (Coder: 20; ours drains full rounds at once)
    watch_ping_interval: float = 15.0
    watch_send_timeout: float = 5.0
    watch_queue_size: int = 256
    demo: bool = False  # seed realistic notifications and keep producing new ones
    log_level: str = "info"
    # The embedded local server (inbox-tui's default): a Unix socket instead of host:port, a runtime file
    # that clients read, and an idle stop (its log is --log-human PATH, rotated by size).
    unix_socket: str = ""
    runtime_file: str = ""
    idle_timeout: float = 0.0  # seconds with no request and no watcher before exiting; 0 = never
    # Forwarding headers (e.g. X-Forwarded-For) trusted only from these CIDRs; both empty = trust none.
    proxy_trusted_headers: list[str] = field(default_factory=list)
    proxy_trusted_origins: list[str] = field(default_factory=list)
    read_header_timeout: float = 10.0  # seconds for a request's head to arrive, else the connection closes
    max_watchers_per_user: int = 64  # open watch sockets per user (per server process); <= 0 = unlimited
    log_human: str = "/dev/stderr"  # human-readable log lines go here ("" or /dev/null: none)
    log_json: str = ""  # one JSON object per event goes here, if set
    shutdown_timeout: float = 10.0  # how long in-flight requests may run on after SIGTERM
    prometheus_enable: bool = False  # serve metrics with coderd's names on prometheus_address
    prometheus_address: str = "127.0.0.1:2112"

    @property
    def rate_limited(self) -> bool:
        """Whether the API rate limiter is on."""
        return not self.disable_rate_limits and self.api_rate_limit > 0
