"""Every option of `inbox-server serve`: one table, Coder's flag names and `CODER_*` variables.

Adding an option is one `Option(...)` row in `OPTIONS` (plus the `ServerConfig` field it sets): the
parser, `--help` (grouped as Coder groups them), the environment variables, the precedence
(flag > environment > default), the error for a bad value, the start-up summary and
docs/configuration.md's table all come from the row. Defaults live in `ServerConfig` alone; the table
only knows how to read and show them.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from server.config import ServerConfig
from server.optionkinds import (
    BOOL,
    DURATION,
    HOST_PORT,
    INT,
    SECONDS,
    STRING,
    STRING_ARRAY,
    URL,
    Kind,
    OptionValueError,
    format_duration,
    join_host_port,
    mask_url_password,
    read_secret_file,
    replace_host,
    replace_port,
    seconds_as_duration,
)

GROUPS = ("Options", "Networking", "Email", "Notifications", "Introspection")
MASK = "********"


class ConfigError(Exception):
    """A bad option value: one line naming the option; `inbox-server serve` exits 2."""


@dataclass(frozen=True, slots=True)
class Alias:
    """Another spelling of an option: today's flags and Coder's older `--notifications-email-*` ones.

    `convert(given, current)` turns the alias's value into the option's syntax, given the value so far
    (today's `--port` only changes the port of `--http-address`); None takes the value as it is.
    """

    flag: str
    convert: Callable[[str, str], str] | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One row: flag, variables, syntax, help group and where the value goes in ServerConfig."""

    flag: str
    env: tuple[str, ...]  # Coder's variable first; later ones are older spellings
    kind: Kind
    group: str
    help: str
    target: str | tuple[Callable[[ServerConfig], Any], Callable[[ServerConfig, Any], None]]
    aliases: tuple[Alias, ...] = ()
    choices: tuple[str, ...] = ()
    secret: bool = False
    short: str = ""

    @property
    def dest(self) -> str:
        """The argparse destination of the flag itself."""
        return "opt_" + self.flag.lstrip("-").replace("-", "_")

    def get(self, config: ServerConfig) -> Any:
        """The option's current value in `config`."""
        if isinstance(self.target, str):
            obj: Any = config
            for part in self.target.split("."):
                obj = getattr(obj, part)
            return obj
        return self.target[0](config)

    def set(self, config: ServerConfig, value: Any) -> None:
        """Store a parsed value into `config` (may raise OptionValueError)."""
        if isinstance(self.target, str):
            *path, last = self.target.split(".")
            obj: Any = config
            for part in path:
                obj = getattr(obj, part)
            setattr(obj, last, value)
        else:
            self.target[1](config, value)

    def show(self, config: ServerConfig, *, mask: bool = True) -> str:
        """The value as the option's syntax spells it, secrets masked."""
        value = self.get(config)
        if self.secret and mask:
            return MASK if value else ""
        if self.kind.name == "duration":
            return format_duration(float(value))
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        return str(value)


def _pair(
    get: Callable[[ServerConfig], Any], put: Callable[[ServerConfig, Any], None]
) -> tuple[Callable[[ServerConfig], Any], Callable[[ServerConfig, Any], None]]:
    return (get, put)


def _set_http_address(config: ServerConfig, value: tuple[str, int]) -> None:
    config.host, config.port = value


def _smarthost(config: ServerConfig) -> str:
    return join_host_port(config.smtp.host, config.smtp.port) if config.smtp.host else ""


def _set_smarthost(config: ServerConfig, value: tuple[str, int]) -> None:
    config.smtp.host, config.smtp.port = value


def _set_password_file(config: ServerConfig, path: str) -> None:
    if path:
        config.smtp.password = read_secret_file(path)
    config.smtp.password_file = path


def _set_dispatch_timeout(config: ServerConfig, seconds: float) -> None:
    config.smtp.timeout = config.webhook.timeout = seconds


def _set_verbose(config: ServerConfig, on: bool) -> None:
    if on:
        config.log_level = "debug"


def _database(config: ServerConfig) -> str:
    return mask_url_password(config.db)


def _set_database(config: ServerConfig, value: str) -> None:
    if value:
        config.db = value


def _set_origins(config: ServerConfig, origins: list[str]) -> None:
    from server.realip import parse_origins

    try:
        parse_origins(origins)
    except ValueError as exc:
        raise OptionValueError(str(exc)) from None
    config.proxy_trusted_origins = origins


def _seconds(flag: str) -> Alias:
    return Alias(flag, lambda given, _current: seconds_as_duration(given))


def replace_port_of(port: str, current: str) -> str:
    """Today's `--port`/`--smtp-port` as an alias: the port part of the current host:port."""
    return replace_port(current, port)


def _env(*names: str) -> tuple[str, ...]:
    return names


NET, EMAIL, NOTIF, INTRO = "Networking", "Email", "Notifications", "Introspection"

OPTIONS: list[Option] = [
    # -- no group (as Coder's --postgres-url) ----------------------------------------------------------
    Option("--postgres-url", _env("CODER_PG_CONNECTION_URL", "INBOX_DB"), STRING, "Options",
           "PostgreSQL URL (postgres://...); else a SQLite file path. Default: the database plain inbox-tui uses.",
           _pair(_database, _set_database), (Alias("--pg-connection-url"), Alias("--db"))),
    Option("--demo", (), BOOL, "Options", "Seed demo notifications and keep sending new ones.", "demo"),
    # -- Networking -------------------------------------------------------------------------------------
    Option("--http-address", _env("CODER_HTTP_ADDRESS"), HOST_PORT, NET,
           "HTTP bind address of the server (port 0 picks a free port).",
           _pair(lambda c: join_host_port(c.host, c.port), _set_http_address),
           (Alias("--host", lambda host, cur: replace_host(cur, host, 3000)), Alias("--port", replace_port_of))),
    Option("--access-url", _env("CODER_ACCESS_URL"), URL, NET,
           "The URL that users will use to access the deployment (links in notifications). "
           "Default: http://HTTP-ADDRESS once bound.", "access_url"),
    Option("--api-rate-limit", _env("CODER_API_RATE_LIMIT"), INT, NET,
           "Maximum number of requests per minute allowed to the API per user, or per IP address for "
           "unauthenticated users. Negative values mean no rate limit.", "api_rate_limit"),
    Option("--dangerous-disable-rate-limits", _env("CODER_DANGEROUS_DISABLE_RATE_LIMITS"), BOOL, NET,
           "Disables all rate limits. This is not recommended in production.", "disable_rate_limits"),
    Option("--watch-ping-interval", _env("INBOX_WATCH_PING_INTERVAL"), SECONDS, NET,
           "How often an inbox watch websocket is pinged.", "watch_ping_interval"),
    Option("--watch-send-timeout", _env("INBOX_WATCH_SEND_TIMEOUT"), SECONDS, NET,
           "How long a watcher may take to accept a frame before it is closed.", "watch_send_timeout"),
    Option("--watch-queue-size", _env("INBOX_WATCH_QUEUE_SIZE"), INT, NET,
           "Frames a watcher may fall behind before it is closed.", "watch_queue_size"),
    Option("--proxy-trusted-headers", _env("CODER_PROXY_TRUSTED_HEADERS"), STRING_ARRAY, NET,
           "Headers to trust for forwarding IP addresses, e.g. X-Forwarded-For (only from "
           "--proxy-trusted-origins; repeat or comma-separate).", "proxy_trusted_headers"),
    Option("--proxy-trusted-origins", _env("CODER_PROXY_TRUSTED_ORIGINS"), STRING_ARRAY, NET,
           "Origin addresses (CIDRs) to respect --proxy-trusted-headers from (repeat or comma-separate).",
           _pair(lambda c: c.proxy_trusted_origins, _set_origins)),
    Option("--read-header-timeout", _env("INBOX_READ_HEADER_TIMEOUT"), SECONDS, NET,
           "How long a request's head (request line and headers) may take to arrive before the "
           "connection is closed (against slowloris).", "read_header_timeout"),
    Option("--max-watchers-per-user", _env("INBOX_MAX_WATCHERS_PER_USER"), INT, NET,
           "Open inbox watch websockets per user (per process); the next upgrade is a 429. 0: unlimited.",
           "max_watchers_per_user"),
    Option("--unix-socket", _env("INBOX_UNIX_SOCKET"), STRING, NET,
           "Listen on this Unix socket instead of --http-address (inbox-tui's local server).", "unix_socket"),
    Option("--runtime-file", _env("INBOX_RUNTIME_FILE"), STRING, NET,
           "Once serving, publish address, PID, database and log here (JSON, 0600); removed on exit.",
           "runtime_file"),
    Option("--idle-timeout", _env("INBOX_IDLE_TIMEOUT"), SECONDS, NET,
           "Exit after this long with no request and no open watch (0: never).", "idle_timeout"),
    Option("--graceful-shutdown-timeout", _env("INBOX_GRACEFUL_SHUTDOWN_TIMEOUT"), SECONDS, NET,
           "On SIGTERM/SIGINT, how long in-flight requests may run on before they are cancelled.",
           "shutdown_timeout"),
    # -- Email ------------------------------------------------------------------------------------------
    Option("--email-from", _env("CODER_EMAIL_FROM", "CODER_NOTIFICATIONS_EMAIL_FROM"), STRING, EMAIL,
           "The sender's address to use.", "smtp.sender",
           (Alias("--notifications-email-from"), Alias("--smtp-from"))),
    Option("--email-smarthost", _env("CODER_EMAIL_SMARTHOST", "CODER_NOTIFICATIONS_EMAIL_SMARTHOST"), HOST_PORT, EMAIL,
           "The intermediary SMTP host through which emails are sent (host:port).",
           _pair(_smarthost, _set_smarthost),
           (Alias("--notifications-email-smarthost"),
            Alias("--smtp-host", lambda h, cur: replace_host(cur, h, 25)), Alias("--smtp-port", replace_port_of))),
    Option("--email-hello", _env("CODER_EMAIL_HELLO", "CODER_NOTIFICATIONS_EMAIL_HELLO"), STRING, EMAIL,
           "The hostname identifying the SMTP server.", "smtp.hello", (Alias("--notifications-email-hello"),)),
    Option("--email-force-tls", _env("CODER_EMAIL_FORCE_TLS", "CODER_NOTIFICATIONS_EMAIL_FORCE_TLS"), BOOL, EMAIL,
           "Force a TLS connection to the configured SMTP smarthost.", "smtp.tls",
           (Alias("--notifications-email-force-tls"), Alias("--smtp-tls"))),
    Option("--email-auth-identity", _env("CODER_EMAIL_AUTH_IDENTITY", "CODER_NOTIFICATIONS_EMAIL_AUTH_IDENTITY"),
           STRING, EMAIL, "Identity to use with PLAIN authentication.", "smtp.identity",
           (Alias("--notifications-email-auth-identity"),)),
    Option("--email-auth-username", _env("CODER_EMAIL_AUTH_USERNAME", "CODER_NOTIFICATIONS_EMAIL_AUTH_USERNAME"),
           STRING, EMAIL, "Username to use with PLAIN/LOGIN authentication.", "smtp.username",
           (Alias("--notifications-email-auth-username"), Alias("--smtp-username"))),
    Option("--email-auth-password", _env("CODER_EMAIL_AUTH_PASSWORD", "CODER_NOTIFICATIONS_EMAIL_AUTH_PASSWORD"),
           STRING, EMAIL, "Password to use with PLAIN/LOGIN authentication (prefer the variable or the file: "
           "a flag is visible in ps).", "smtp.password",
           (Alias("--notifications-email-auth-password"), Alias("--smtp-password")), secret=True),
    Option("--email-auth-password-file",
           _env("CODER_EMAIL_AUTH_PASSWORD_FILE", "CODER_NOTIFICATIONS_EMAIL_AUTH_PASSWORD_FILE"), STRING, EMAIL,
           "File from which to load password for use with PLAIN/LOGIN authentication (must not be "
           "world-readable).", _pair(lambda c: c.smtp.password_file, _set_password_file),
           (Alias("--notifications-email-auth-password-file"),)),
    Option("--email-tls-starttls", _env("CODER_EMAIL_TLS_STARTTLS", "CODER_NOTIFICATIONS_EMAIL_TLS_STARTTLS"), BOOL,
           EMAIL, "Enable STARTTLS to upgrade insecure SMTP connections using TLS.", "smtp.starttls",
           (Alias("--notifications-email-tls-starttls"), Alias("--smtp-starttls"))),
    Option("--email-tls-skip-verify", _env("CODER_EMAIL_TLS_SKIPVERIFY", "CODER_NOTIFICATIONS_EMAIL_TLS_SKIPVERIFY"),
           BOOL, EMAIL, "Skip verification of the target server's certificate (insecure).",
           "smtp.insecure_skip_verify",
           (Alias("--notifications-email-tls-skip-verify"), Alias("--smtp-insecure-skip-verify"))),
    Option("--email-tls-server-name", _env("CODER_EMAIL_TLS_SERVERNAME", "CODER_NOTIFICATIONS_EMAIL_TLS_SERVERNAME"),
           STRING, EMAIL, "Server name to verify against the target certificate.", "smtp.tls_server_name",
           (Alias("--notifications-email-tls-server-name"),)),
    Option("--email-tls-ca-cert-file", _env("CODER_EMAIL_TLS_CACERTFILE", "CODER_NOTIFICATIONS_EMAIL_TLS_CACERTFILE"),
           STRING, EMAIL, "CA certificate file to use.", "smtp.tls_ca_file",
           (Alias("--notifications-email-tls-ca-cert-file"),)),
    Option("--email-tls-cert-file", _env("CODER_EMAIL_TLS_CERTFILE", "CODER_NOTIFICATIONS_EMAIL_TLS_CERTFILE"),
           STRING, EMAIL, "Certificate file to use.", "smtp.tls_cert_file",
           (Alias("--notifications-email-tls-cert-file"),)),
    Option("--email-tls-cert-key-file",
           _env("CODER_EMAIL_TLS_CERTKEYFILE", "CODER_NOTIFICATIONS_EMAIL_TLS_CERTKEYFILE"), STRING, EMAIL,
           "Certificate key file to use.", "smtp.tls_key_file", (Alias("--notifications-email-tls-cert-key-file"),)),
    # -- Notifications ----------------------------------------------------------------------------------
    Option("--notifications-method", _env("CODER_NOTIFICATIONS_METHOD"), STRING, NOTIF,
           "Which delivery method to use (available options: 'smtp', 'webhook').", "notifications_method",
           choices=("smtp", "webhook")),
    Option("--notifications-webhook-endpoint", _env("CODER_NOTIFICATIONS_WEBHOOK_ENDPOINT"), URL, NOTIF,
           "The endpoint to which to send webhooks.", "webhook.url", (Alias("--webhook-url"),)),
    Option("--notifications-inbox-enabled", _env("CODER_NOTIFICATIONS_INBOX_ENABLED"), BOOL, NOTIF,
           "Enable Coder Inbox.", "inbox_enabled"),
    Option("--notifications-max-send-attempts", _env("CODER_NOTIFICATIONS_MAX_SEND_ATTEMPTS"), INT, NOTIF,
           "The upper limit of attempts to send a notification.", "max_send_attempts",
           (Alias("--max-send-attempts"),)),
    Option("--notifications-retry-interval", _env("CODER_NOTIFICATIONS_RETRY_INTERVAL"), DURATION, NOTIF,
           "The time before the first retry; it doubles with each further attempt.", "retry_interval",
           (_seconds("--retry-interval"),)),
    Option("--notifications-fetch-interval", _env("CODER_NOTIFICATIONS_FETCH_INTERVAL"), DURATION, NOTIF,
           "How often to query the database for queued notifications (a safety net: enqueueing wakes "
           "the notifier at once).", "fetch_interval", (_seconds("--fetch-interval"),)),
    Option("--notifications-lease-period", _env("CODER_NOTIFICATIONS_LEASE_PERIOD"), DURATION, NOTIF,
           "How long a notifier leases a message; it is released early once dispatched.", "lease_seconds"),
    Option("--notifications-lease-count", _env("CODER_NOTIFICATIONS_LEASE_COUNT"), INT, NOTIF,
           "How many notifications a notifier leases per round.", "lease_count"),
    Option("--notifications-dispatch-timeout", _env("CODER_NOTIFICATIONS_DISPATCH_TIMEOUT"), DURATION, NOTIF,
           "How long to wait while a notification is being sent before giving up.",
           _pair(lambda c: c.smtp.timeout, _set_dispatch_timeout)),
    # -- Introspection ----------------------------------------------------------------------------------
    Option("--prometheus-enable", _env("CODER_PROMETHEUS_ENABLE"), BOOL, INTRO,
           "Serve prometheus metrics on the address defined by prometheus address.", "prometheus_enable"),
    Option("--prometheus-address", _env("CODER_PROMETHEUS_ADDRESS"), HOST_PORT, INTRO,
           "The bind address to serve prometheus metrics.",
           _pair(lambda c: c.prometheus_address,
                 lambda c, v: setattr(c, "prometheus_address", join_host_port(*v)))),
    Option("--log-human", _env("CODER_LOGGING_HUMAN"), STRING, INTRO,
           "Output human-readable logs to a given file (empty or /dev/null: none).", "log_human"),
    Option("--log-json", _env("CODER_LOGGING_JSON"), STRING, INTRO,
           "Output JSON logs to a given file (/dev/stderr allowed).", "log_json"),
    Option("--log-level", _env("INBOX_LOG_LEVEL"), STRING, INTRO, "Lowest level logged.", "log_level",
           choices=("debug", "info", "warning", "error")),
    Option("--verbose", _env("CODER_VERBOSE"), BOOL, INTRO,
           "Output debug-level logs (every request, every delivery).",
           _pair(lambda c: c.log_level == "debug", _set_verbose), short="-v"),
]  # fmt: skip


def _alias_dest(option: Option, index: int) -> str:
    return f"{option.dest}__alias{index}"


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """Add every option to `serve`'s parser, grouped as Coder's `server --help` groups them."""
    defaults = ServerConfig(db="")
    groups: dict[str, Any] = {}
    for name in GROUPS:
        groups[name] = parser if name == "Options" else parser.add_argument_group(name)
    for option in OPTIONS:
        group = groups[option.group]
        flags = [option.short, option.flag] if option.short else [option.flag]
        also = ", ".join(a.flag for a in option.aliases)
        variables = ", ".join(f"${name}" for name in option.env)
        default = "" if option.flag == "--postgres-url" else option.show(defaults, mask=False)
        text = option.help
        if also:
            text += f" Also {also}."
        if variables:
            text += f" [{variables}]"
        if default:
            text += f" (default: {default})"
        extra: dict[str, Any] = {"nargs": "?", "const": "true"} if option.kind is BOOL else {}
        if option.kind is STRING_ARRAY:
            extra = {"action": "append"}  # repeated flags add up, as Coder's string-array flags
        metavar = "|".join(option.choices) if option.choices else option.kind.name
        group.add_argument(
            *flags, dest=option.dest, default=None, metavar=metavar, help=text.replace("%", "%%"), **extra
        )
        for index, alias in enumerate(option.aliases):
            group.add_argument(
                alias.flag, dest=_alias_dest(option, index), default=None, help=argparse.SUPPRESS, **extra
            )


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """The effective configuration: flag > environment > ServerConfig's default. Raises ConfigError."""
    env = os.environ if environ is None else environ
    config = ServerConfig()
    for option in OPTIONS:
        raw: str | None = None
        source = ""
        for name in option.env:
            if name in env:
                raw, source = env[name], f"${name}"
                break
        for index, alias in enumerate(option.aliases):
            given = getattr(args, _alias_dest(option, index), None)
            if given is not None:
                current = raw if raw is not None else option.show(config, mask=False)
                raw, source = (alias.convert(given, current) if alias.convert else given), alias.flag
        given = getattr(args, option.dest, None)
        if given is not None:
            raw, source = (",".join(given) if isinstance(given, list) else given), option.flag
        if raw is None:
            continue
        try:
            value = option.kind.parse(raw)
            if option.choices and value not in option.choices:
                raise OptionValueError(f"{raw!r} is not one of {', '.join(option.choices)}")
            option.set(config, value)
        except OptionValueError as exc:
            where = "" if source == option.flag else f" (from {source})"
            raise ConfigError(f"invalid {option.flag}{where}: {exc}") from None
    return config


def summary(config: ServerConfig) -> list[tuple[str, list[tuple[str, str]]]]:
    """The effective configuration by group, as `flag`/value pairs with secrets masked (start-up log)."""
    by_group: dict[str, list[tuple[str, str]]] = {name: [] for name in GROUPS}
    for option in OPTIONS:
        by_group[option.group].append((option.flag.lstrip("-"), option.show(config)))
    return [(name, pairs) for name, pairs in by_group.items() if pairs]


def markdown_table(options: Sequence[Option] = OPTIONS) -> str:
    """docs/configuration.md's server table: option, variable, default, meaning."""
    defaults = ServerConfig(db="")
    lines = ["| option | variable | default | meaning |", "|---|---|---|---|"]
    for option in options:
        flags = ", ".join(f"`{f}`" for f in (option.flag, *(a.flag for a in option.aliases)))
        variables = ", ".join(f"`{name}`" for name in option.env)
        default = "" if option.flag == "--postgres-url" else option.show(defaults, mask=False)
        meaning = option.help.replace("|", "\\|")
        lines.append(f"| {flags} | {variables} | {f'`{default}`' if default else ''} | {meaning} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
