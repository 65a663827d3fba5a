# shellcheck shell=bash
# Sourced by .ci/run. Makes sure PostgreSQL is installed (from the distribution's packages), starts a
# throwaway cluster on 127.0.0.1 and a free port, and exports INBOX_TEST_PG_DSN for the test suite.
# The cluster is stopped (pg_ctl, by its pid file) and removed when .ci/run exits.
# An INBOX_TEST_PG_DSN already in the environment is used as it is.

if [ -z "${INBOX_TEST_PG_DSN:-}" ]; then
  if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    echo "postgres.sh: installing PostgreSQL from the distribution's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q postgresql
  fi
  # tests/pg.py needs only the standard library: the virtualenv does not exist yet.
  read -r INBOX_TEST_PG_DSN INBOX_CI_PG_DATA INBOX_CI_PG_BIN < <(python3 tests/pg.py start)
  if [ -z "${INBOX_TEST_PG_DSN:-}" ]; then
    echo "postgres.sh: could not start a PostgreSQL cluster" >&2
    exit 1
  fi
  export INBOX_TEST_PG_DSN
  echo "postgres.sh: PostgreSQL ready at ${INBOX_TEST_PG_DSN} (data in ${INBOX_CI_PG_DATA})"

  inbox_ci_pg_stop() {
    local pg_ctl=("${INBOX_CI_PG_BIN}/pg_ctl" -D "${INBOX_CI_PG_DATA}" -m immediate -w stop)
    if [ "$(id -u)" = 0 ]; then
      runuser -u postgres -- "${pg_ctl[@]}" >/dev/null 2>&1 || true
    else
      "${pg_ctl[@]}" >/dev/null 2>&1 || true
    fi
    rm -rf "$(dirname "${INBOX_CI_PG_DATA}")"
  }
  trap inbox_ci_pg_stop EXIT
fi
