"""ServerConfig: everything `inbox-server serve` can be told, with Coder's defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_RATE_LIMIT = 512  # Coder's --api-rate-limit default, requests per minute


def default_db_path() -> str:
    """`$INBOX_DB`, else a SQLite file in the platformdirs user data dir."""
    env = os.environ.get("INBOX_DB")
    if env:
        return env
    return str(Path(platformdirs.user_data_dir("inbox-server", appauthor=False)) / "inbox.db")


@dataclass(slots=True)
class SmtpConfig:
    """Outgoing mail (Coder's CODER_EMAIL_* / CODER_NOTIFICATIONS_EMAIL_* options)."""

    host: str = ""
    port: int = 25
    sender: str = ""  # --smtp-from
    username: str = ""
    password: str = ""
    starttls: bool = False  # upgrade a plain connection with STARTTLS
    tls: bool = False  # implicit TLS from the first byte (port 465 style)
    insecure_skip_verify: bool = False
    hello: str = "localhost"
    timeout: float = 10.0

    @property
    def configured(self) -> bool:
        """Coder enqueues smtp only when a smarthost is configured."""
        return bool(self.host)


@dataclass(slots=True)
class WebhookConfig:
    """Webhook delivery (CODER_NOTIFICATIONS_WEBHOOK_ENDPOINT)."""

    url: str = ""
    timeout: float = 10.0

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
    fetch_interval: float = 15.0  # safety-net sweep; dispatch is normally woken at once
    lease_seconds: float = 120.0
    watch_ping_interval: float = 15.0
    watch_send_timeout: float = 5.0
    watch_queue_size: int = 256
    demo: bool = False  # seed realistic notifications and keep producing new ones
    log_level: str = "info"
    prometheus_enable: bool = False  # serve metrics with coderd's names on prometheus_address
    prometheus_address: str = "127.0.0.1:2112"

    @property
    def rate_limited(self) -> bool:
        """Whether the API rate limiter is on."""
        return not self.disable_rate_limits and self.api_rate_limit > 0
