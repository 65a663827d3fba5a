"""`inbox-server serve` options: Coder's flags and CODER_* variables, today's flags as aliases, bad values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.cli import build_parser
from server.config import ServerConfig
from server.options import OPTIONS, ConfigError, resolve
from tests.live_server import LiveServer
from tests.server.helpers import inbox, wait_for

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
WS_DELETED = "f517da0b-cdc9-410f-ab89-a86107c420ed"


def _resolve(*flags: str, env: dict[str, str] | None = None) -> ServerConfig:
    return resolve(build_parser().parse_args(["serve", *flags]), env or {})


def _serve(tmp_path: Path, *flags: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `serve` expecting it to stop at once (a bad value): it must never get as far as listening."""
    cmd = [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--db", str(tmp_path / "x.db"), *flags]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_defaults_come_from_server_config_alone() -> None:
    """Issue 10: one source for defaults. No flag and no variable gives exactly ServerConfig()."""
    assert _resolve(env={}) == ServerConfig()
    # What today's defaults were, kept where Coder's would change behaviour (see docs/configuration.md).
    config = ServerConfig()
    assert (config.host, config.port, config.fetch_interval, config.retry_interval) == ("127.0.0.1", 3000, 1.0, 1.0)
    assert (config.api_rate_limit, config.max_send_attempts, config.lease_seconds) == (512, 5, 120.0)
    assert (config.smtp.timeout, config.webhook.timeout, config.log_level) == (60.0, 60.0, "info")


def test_coder_flags_variables_and_precedence(tmp_path: Path) -> None:
    env = {
        "CODER_HTTP_ADDRESS": "0.0.0.0:8080",
        "CODER_NOTIFICATIONS_FETCH_INTERVAL": "1m30s",
        "CODER_NOTIFICATIONS_EMAIL_SMARTHOST": "old.example.com:25",  # Coder's older spelling
        "CODER_EMAIL_SMARTHOST": "mail.example.com:587",  # beats the older one
        "CODER_EMAIL_TLS_STARTTLS": "true",
        "CODER_NOTIFICATIONS_INBOX_ENABLED": "false",
        "CODER_PG_CONNECTION_URL": "postgres://inbox:secret@db.example.com/inbox",
        "CODER_VERBOSE": "true",
    }
    config = _resolve("--notifications-fetch-interval", "20s", "--port", "0", env=env)
    assert (config.host, config.port) == ("0.0.0.0", 0)  # today's --port changes the port of the variable
    assert config.fetch_interval == 20.0  # flag beats variable
    assert (config.smtp.host, config.smtp.port, config.smtp.starttls) == ("mail.example.com", 587, True)
    assert config.inbox_enabled is False
    assert config.db == "postgres://inbox:secret@db.example.com/inbox"
    assert config.log_level == "debug"
    # An explicit --db flag beats the variable, as every flag does.
    assert _resolve("--db", str(tmp_path / "a.db"), env=env).db == str(tmp_path / "a.db")
    booleans = _resolve("--email-force-tls", "--notifications-inbox-enabled=false", env={})
    assert (booleans.smtp.tls, booleans.inbox_enabled) == (True, False)


def test_todays_flags_still_work() -> None:
    config = _resolve(
        "--host", "::1", "--port", "4000", "--smtp-host", "127.0.0.1", "--smtp-port", "2525",
        "--smtp-from", "coder@example.com", "--smtp-username", "u", "--smtp-password", "p", "--smtp-starttls",
        "--smtp-insecure-skip-verify", "--webhook-url", "http://127.0.0.1:9/hook", "--retry-interval", "0.5",
        "--max-send-attempts", "3", "--fetch-interval", "0.2", "--watch-ping-interval", "2.5",
        "--watch-send-timeout", "1", "--watch-queue-size", "8", "--log-level", "warning", "--api-rate-limit", "60",
        "--dangerous-disable-rate-limits", "--demo", "--notifications-method", "webhook", env={},
    )  # fmt: skip
    assert (config.host, config.port) == ("::1", 4000)
    smtp = config.smtp
    assert (smtp.host, smtp.port, smtp.sender) == ("127.0.0.1", 2525, "coder@example.com")
    assert (smtp.username, smtp.password) == ("u", "p")
    assert smtp.starttls and smtp.insecure_skip_verify and not smtp.tls
    assert config.webhook.url == "http://127.0.0.1:9/hook"
    assert (config.retry_interval, config.max_send_attempts, config.fetch_interval) == (0.5, 3, 0.2)
    assert (config.watch_ping_interval, config.watch_send_timeout, config.watch_queue_size) == (2.5, 1.0, 8)
    assert (config.log_level, config.api_rate_limit) == ("warning", 60)
    assert config.disable_rate_limits and config.demo
    assert config.notifications_method == "webhook"
    assert _resolve("--smtp-host", "mail", env={}).smtp.port == 25  # today's default port


def test_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret-from-file\n")
    secret.chmod(0o640)
    config = _resolve(env={"CODER_EMAIL_AUTH_PASSWORD_FILE": str(secret), "CODER_EMAIL_AUTH_PASSWORD": "other"})
    assert config.smtp.password == "s3cret-from-file"
    assert "s3cret" not in repr(config)
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by everyone"):
        _resolve("--email-auth-password-file", str(secret), env={})


BAD_VALUES = [
    pytest.param(["--notifications-fetch-interval", "10"], {}, "--notifications-fetch-interval", id="duration-no-unit"),
    pytest.param([], {"CODER_NOTIFICATIONS_RETRY_INTERVAL": "1x"}, "--notifications-retry-interval", id="env-duration"),
    pytest.param([], {"CODER_EMAIL_SMARTHOST": "mail.example.com"}, "--email-smarthost", id="smarthost-no-port"),
    pytest.param(["--smtp-port", "x25"], {"CODER_EMAIL_SMARTHOST": "m:25"}, "--email-smarthost", id="legacy-port"),
    pytest.param(["--email-auth-password-file", "/nonexistent/pw"], {}, "--email-auth-password-file", id="pw-missing"),
    pytest.param(["--http-address", "localhost"], {}, "--http-address", id="address-no-port"),
    pytest.param(["--notifications-inbox-enabled=maybe"], {}, "--notifications-inbox-enabled", id="bool"),
    pytest.param([], {"CODER_API_RATE_LIMIT": "lots"}, "--api-rate-limit", id="int"),
    pytest.param(["--notifications-method", "pigeon"], {}, "--notifications-method", id="choice"),
    pytest.param([], {"CODER_ACCESS_URL": "inbox.example.com"}, "--access-url", id="url"),
    pytest.param(["--log-json", "/nonexistent/dir/log.json"], {}, "--log-json", id="log-file"),
]  # fmt: skip


@pytest.mark.parametrize(("flags", "env", "option"), BAD_VALUES)
def test_bad_value_stops_the_server_with_one_line(
    tmp_path: Path, flags: list[str], env: dict[str, str], option: str
) -> None:
    done = _serve(tmp_path, *flags, env=env)
    assert done.returncode == 2, done.stderr
    assert "listening on" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("inbox-server: invalid ") and option in lines[0]
    if not flags:
        assert f"${next(iter(env))}" in lines[0]  # says where the bad value came from


def test_world_readable_password_file_stops_the_server(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2")
    secret.chmod(0o604)
    done = _serve(tmp_path, env={"CODER_EMAIL_AUTH_PASSWORD_FILE": str(secret)})
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--email-auth-password-file" in done.stderr
    assert "hunter2" not in done.stderr


async def test_real_server_takes_variables_and_masks_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODER_ACCESS_URL", "https://inbox.example.com")
    monkeypatch.setenv("CODER_NOTIFICATIONS_FETCH_INTERVAL", "7s")
    monkeypatch.setenv("CODER_EMAIL_AUTH_PASSWORD", "pa55-in-env")
    monkeypatch.setenv("CODER_PG_CONNECTION_URL", "postgres://u:pg-pa55@127.0.0.1:9/x")  # --db below beats it
    server = LiveServer(tmp_path, args=["--notifications-fetch-interval", "3s"]).start()
    try:
        done = server.cli("notify", "--user", "member", "--template", WS_DELETED, "--label", "name=api-dev")
        assert done.returncode == 0, done.stderr

        async def arrived() -> list[dict[str, object]] | None:
            items: list[dict[str, object]] = (await inbox(server, server.member_token))["notifications"]
            return items or None

        (item,) = await wait_for(arrived)
        assert item["actions"][0]["url"] == "https://inbox.example.com/workspaces"  # type: ignore[index]
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "notifications-fetch-interval=3s" in log  # the flag beat the variable
    assert "access-url=https://inbox.example.com" in log
    assert "email-auth-password=********" in log
    assert "pa55-in-env" not in log and "pg-pa55" not in log


def test_help_groups_options_as_coder_does() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    headings = [line for line in done.stdout.splitlines() if line.endswith(":") and not line.startswith(" ")]
    assert headings[-4:] == ["Networking:", "Email:", "Notifications:", "Introspection:"]
    text = " ".join(done.stdout.split())
    for option in OPTIONS:
        assert option.flag in text
        for name in option.env:
            assert f"${name}" in text.replace("- ", "-")


def test_docs_list_every_option_and_variable() -> None:
    docs = DOCS.read_text()
    for option in OPTIONS:
        for flag in (option.flag, *(alias.flag for alias in option.aliases)):
            assert f"`{flag}`" in docs, flag
        for name in option.env:
            assert f"`{name}`" in docs, name
