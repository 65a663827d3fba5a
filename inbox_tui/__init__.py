"""inbox-tui: a terminal inbox for Coder notifications."""

__version__ = "0.1.0"
