"""`inbox-tui` with only global flags opens the inbox without building every command's parser, and from the
console script without argparse at all (issue 11): the quick parses must give exactly what the full parser
gives, and leave everything else to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inbox_tui.cli import build_parser, inbox_args
from inbox_tui.entry import global_flags


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--url", "http://127.0.0.1:3000", "--token", "abc-def"],
        ["--url=https://coder.example.com"],
        ["--demo"],
        ["--de"],  # argparse's abbreviations, as the full parser takes them
        ["--token", "t", "--url", "u", "--url", "v"],
    ],
)
def test_flags_only_parse_as_the_full_parser_does(argv: list[str]) -> None:
    quick = inbox_args(argv)
    assert quick is not None
    assert vars(quick) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [["list"], ["--url", "u", "list", "--unread"], ["--help"], ["-h"], ["--version"], ["--url"], ["--bogus"], ["x"]],
)
def test_anything_else_is_left_to_the_full_parser(argv: list[str]) -> None:
    assert inbox_args(argv) is None


# ----- the console script's own reading of the global flags (inbox_tui.entry) ---------------------------

FLAG_LINES = [
    [],
    ["--url", "http://127.0.0.1:3000", "--token", "abc-def"],
    ["--url=https://coder.example.com", "--token=t=with=equals"],
    ["--demo"],
    ["--token", "t", "--url", "u", "--url", "v"],  # the last value wins, as with argparse
    ["--url="],
]


@pytest.mark.parametrize("argv", FLAG_LINES)
def test_the_entry_reads_the_global_flags_as_the_full_parser_does(argv: list[str]) -> None:
    line = global_flags(argv)
    full = build_parser().parse_args(argv)
    assert line is not None and line.rest == ()
    assert (line.url, line.token, line.demo) == (full.url, full.token, full.demo)


@pytest.mark.parametrize(
    ("argv", "rest"),
    [
        (["list", "--unread"], ("list", "--unread")),
        (["--url", "u", "status"], ("status",)),
        (["--de"], ("--de",)),  # an abbreviation: argparse's
        (["-h"], ("-h",)),
    ],
)
def test_the_entry_passes_a_command_on(argv: list[str], rest: tuple[str, ...]) -> None:
    line = global_flags(argv)
    assert line is not None and line.rest == rest


@pytest.mark.parametrize("argv", [["--url"], ["--url", "--demo"], ["--token", "-x"], ["--demo=yes"]])
def test_the_entry_leaves_a_flag_it_cannot_read_to_argparse(argv: list[str]) -> None:
    assert global_flags(argv) is None


def run_entry(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`inbox-tui ARGV` through the console script's entry, with the inbox itself replaced by a report of
    what it was given and what had been imported by then (a test has no terminal for Textual)."""
    code = (
        "import sys\n"
        "import inbox_tui.commands.inbox as inbox\n"
        "def report(url, token, *, demo=False):\n"
        "    loaded = sorted(m for m in ('argparse', 'inbox_tui.cli', 'httpx', 'textual') if m in sys.modules)\n"
        "    print(repr((url, token, demo, loaded)))\n"
        "    return 0\n"
        "inbox.main = report\n"
        "from inbox_tui.entry import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_opening_the_inbox_loads_neither_argparse_nor_the_commands(tmp_path: Path) -> None:
    env = {**os.environ, **private_dirs(tmp_path)}
    result = run_entry(["--url", "http://127.0.0.1:9", "--token=t", "--demo"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(("http://127.0.0.1:9", "t", True, []))


def test_a_broken_config_file_is_a_readable_error_on_the_quick_path_too(tmp_path: Path) -> None:
    dirs = private_dirs(tmp_path)
    Path(dirs["INBOX_TUI_CONFIG_DIR"]).mkdir(mode=0o700, parents=True)
    (Path(dirs["INBOX_TUI_CONFIG_DIR"]) / "config.toml").write_text("url = [\n")
    result = subprocess.run(
        [sys.executable, "-m", "inbox_tui.entry"],
        capture_output=True,
        text=True,
        env={**os.environ, **dirs},
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "config.toml: invalid TOML" in result.stderr and "Traceback" not in result.stderr


def private_dirs(tmp_path: Path) -> dict[str, str]:
    """Config, data, state and Coder CLI directories of the test's own (nothing of the user's is read)."""
    return {
        "INBOX_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "INBOX_TUI_DATA_DIR": str(tmp_path / "data"),
        "INBOX_TUI_STATE_DIR": str(tmp_path / "state"),
        "CODER_CONFIG_DIR": str(tmp_path / "coder"),
    }
