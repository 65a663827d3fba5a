"""inbox-server: a lightweight server implementing Coder's notifications API."""

__version__ = "0.1.0"
