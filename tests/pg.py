"""A throwaway PostgreSQL cluster for tests (and `.ci/postgres.sh`), plus the pytest fixtures that use it.

`INBOX_TEST_PG_DSN` names an existing server (CI starts one); otherwise the binaries of a local
PostgreSQL (`/usr/lib/postgresql/*/bin`) start a private cluster in a temporary directory on a free
port, once per test process (so once per pytest-xdist worker). Each test gets its own database. When
neither exists the PostgreSQL tests skip on a developer machine and FAIL on CI (`CI=true`), so a broken CI
set-up cannot pass unnoticed.

Stdlib only, so `python3 tests/pg.py start` works before the virtualenv exists.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ENV_DSN = "INBOX_TEST_PG_DSN"
SUPERUSER = "postgres"


def find_bindir() -> Path | None:
    """The newest `/usr/lib/postgresql/<major>/bin` holding initdb, or the one on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(dsn: str, dbname: str) -> str:
    """The same server DSN pointed at another database."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


class PgCluster:
    """A private PostgreSQL cluster: initdb in a temporary directory, listening on 127.0.0.1:<port>.

    PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` OS user and its
    commands run through `runuser`.
    """

    def __init__(self, bindir: Path | None = None, port: int | None = None) -> None:
        found = bindir or find_bindir()
        if found is None:
            raise RuntimeError("no PostgreSQL binaries found (initdb); install the postgresql package")
        self.bindir = found
        self.port = port or free_port()
        self._as_root = os.geteuid() == 0
        # As root the cluster runs as `postgres`, which must be able to reach it: /tmp always lets it,
        # whereas $TMPDIR may be a root-only directory (pytest's, for one).
        where = "/tmp" if self._as_root and os.path.isdir("/tmp") else None
        self.base = Path(tempfile.mkdtemp(prefix="inbox-pg-", dir=where))
        self.data = self.base / "data"
        self.sockets = self.base / "sock"
        self.logfile = self.base / "postgres.log"

    @property
    def dsn(self) -> str:
        """The DSN of the cluster's `postgres` database, as the superuser."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_root:
            cmd = ["runuser", "-u", SUPERUSER, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def init(self) -> None:
        """Create the cluster: trust authentication on localhost only, tuned for throwaway speed."""
        self.sockets.mkdir(parents=True)
        if self._as_root:
            shutil.chown(self.base, SUPERUSER, SUPERUSER)
            shutil.chown(self.sockets, SUPERUSER, SUPERUSER)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        conf = (
            f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
            f"unix_socket_directories = '{self.sockets}'\n"
            # A test cluster trades crash safety of the *machine* for speed; a server restart (what the
            # tests do) still loses nothing that was committed.
            "fsync = off\nfull_page_writes = off\nsynchronous_commit = on\n"
            "max_connections = 300\nshared_buffers = 64MB\n"
        )
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as f:
            f.write(conf)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        if not self.data.exists():
            self.init()
        result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "start")
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{self.log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (pg_ctl signals the postmaster by the PID in its pid file)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def restart(self) -> None:
        """Restart the server: every connection is closed, committed data survives."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop the server and remove its files."""
        self.stop(mode="immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server log, for error messages."""
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _admin_execute(server_dsn: str, statement: str) -> None:
    import psycopg  # the test extra; kept out of module scope so the CLI below needs only the stdlib

    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(statement.encode())


def create_database(server_dsn: str, name: str | None = None) -> str:
    """Create an empty database on the server and return its DSN."""
    name = name or f"inbox_test_{uuid.uuid4().hex[:16]}"
    _admin_execute(server_dsn, f'CREATE DATABASE "{name}"')
    return with_database(server_dsn, name)


def drop_database(server_dsn: str, dsn: str) -> None:
    """Drop a database made by create_database, disconnecting whoever is still in it."""
    name = urlsplit(dsn).path.lstrip("/")
    _admin_execute(server_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_cluster: PgCluster | None = None


START_ATTEMPTS = 3


def shared_cluster() -> PgCluster:
    """One private cluster per test process, stopped and removed when the process exits.

    Under pytest-xdist each worker is a process of its own, so each has its own cluster (tests that stop
    or restart the server cannot disturb another worker's). The port is free when picked but another
    process (the other worker's cluster, say) may take it before the postmaster binds it: then the start
    fails, and a new cluster on a new port is tried.
    """
    global _cluster
    if _cluster is None:
        for attempt in range(1, START_ATTEMPTS + 1):
            cluster = PgCluster()
            try:
                cluster.start()
            except RuntimeError:
                cluster.destroy()
                if attempt == START_ATTEMPTS:
                    raise
                continue
            except BaseException:
                cluster.destroy()
                raise
            atexit.register(cluster.destroy)
            _cluster = cluster
            break
    assert _cluster is not None
    return _cluster


def server_dsn_or_reason() -> tuple[str | None, str]:
    """The server DSN for tests, or None with the reason there is none."""
    env = os.environ.get(ENV_DSN)
    if env:
        return env, ""
    if find_bindir() is None:
        return None, f"no PostgreSQL: set {ENV_DSN} or install the postgresql package (initdb)"
    return shared_cluster().dsn, ""


def on_ci() -> bool:
    """Whether this runs on CI, where a missing PostgreSQL is a failure rather than a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


# -- pytest fixtures (import them into a conftest or test module) ----------------------------------
try:
    import pytest
except ImportError:  # the CLI below runs without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="session")
    def pg_server_dsn() -> str:
        """The DSN of a PostgreSQL server's maintenance database (env, or a private cluster)."""
        dsn, reason = server_dsn_or_reason()
        if dsn is None:
            if on_ci():
                pytest.fail(f"PostgreSQL tests cannot run on CI: {reason}", pytrace=False)
            pytest.skip(reason)
        return dsn

    @pytest.fixture
    def pg_dsn(pg_server_dsn: str) -> Iterator[str]:
        """A fresh, empty database for one test, dropped afterwards."""
        dsn = create_database(pg_server_dsn)
        try:
            yield dsn
        finally:
            drop_database(pg_server_dsn, dsn)

    @pytest.fixture(scope="session")
    def pg_cluster() -> PgCluster:
        """A private cluster this process controls, for tests that stop or restart the server."""
        if find_bindir() is None:
            if on_ci():
                pytest.fail("PostgreSQL binaries (initdb) are missing on CI", pytrace=False)
            pytest.skip("no PostgreSQL binaries (initdb)")
        return shared_cluster()


def _main(argv: list[str]) -> int:
    """`python3 tests/pg.py start`: start a cluster for CI and print `<dsn> <data dir> <bin dir>`."""
    if argv[:1] != ["start"]:
        print("usage: pg.py start", file=sys.stderr)
        return 2
    cluster = PgCluster()
    cluster.start()
    print(cluster.dsn, cluster.data, cluster.bindir)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
