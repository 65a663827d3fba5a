"""The embedded server ignores the CODER_* variables set for a real `coder server` deployment."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_tui import embedded


def test_coder_server_variables_do_not_reach_the_embedded_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Any of these would configure (or, the smarthost without a port, refuse to start) the local server.
    monkeypatch.setenv("CODER_EMAIL_SMARTHOST", "smtp.example.com")
    monkeypatch.setenv("CODER_ACCESS_URL", "https://coder.example.com")
    monkeypatch.setenv("CODER_NOTIFICATIONS_METHOD", "webhook")
    log = tmp_path / "server.log"
    process, url = embedded.start_server(tmp_path / "inbox.db", log_path=log)
    try:
        assert url.startswith("http://127.0.0.1:")
    finally:
        embedded.stop_pid(process.pid, process=process)
    text = log.read_text()
    assert f"access-url={url}" in text and "notifications-method=smtp" in text
