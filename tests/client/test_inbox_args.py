"""`inbox-tui` with only global flags opens the inbox without building every command's parser (issue 11):
the quick parse must give exactly what the full parser gives, and leave everything else to it."""

from __future__ import annotations

import pytest

from inbox_tui.cli import build_parser, inbox_args


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
