"""`inbox-tui` commands that live in modules of their own (cli.py parses and dispatches; no Textual here)."""
