"""Storage backends behind one interface (`server.store.base.Store`)."""

from __future__ import annotations

from server.store.base import Store


def open_store(db: str) -> Store:
    """A store for `--db`: a postgresql:// URL selects PostgreSQL, anything else is a SQLite path."""
    if db.startswith(("postgres://", "postgresql://")):
        from server.store.postgres import PostgresStore  # optional dependency

        return PostgresStore(db)
    from server.store.sqlite import SqliteStore

    return SqliteStore(db)
