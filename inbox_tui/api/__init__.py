"""Client library for Coder's notifications API (no Textual here)."""
