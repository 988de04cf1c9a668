#!/usr/bin/env bash
# The test command (README.md, and CI through .ci/run). It installs what the tests need on a
# Debian or Ubuntu machine - the system packages, a virtual environment in .venv with papertwin
# and its test tools - checks the code with ruff and mypy, starts a throw-away PostgreSQL server
# on loopback for the store's tests, then runs pytest.
# Arguments go to pytest: `bash tests/run.sh -m "not slow"` skips the slow end-to-end runs.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="python3-venv tesseract-ocr tesseract-ocr-eng poppler-utils fonts-dejavu-core fonts-noto-core fonts-wqy-microhei fonts-comic-neue postgresql chromium"
missing=""
for package in $APT_PACKAGES; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
# augraphy (the simulator's degradation profiles) without its opencv-python requirement, which
# would clash with opencv-python-headless; the packages it imports are in the dev extra.
.venv/bin/pip install -q --disable-pip-version-check --no-deps augraphy==8.2.6

.venv/bin/ruff check .
.venv/bin/mypy

# PostgreSQL: a server of its own in a temporary folder, on 127.0.0.1 and a free port, stopped
# on exit. Root may not run postgres, so as root the server runs as the postgres user. The tests
# fail rather than skip when this was meant to work (as root, or with CI set); a developer
# without PostgreSQL gets the store's tests on SQLite only, with a note saying so.
pg_dir=""
stop_postgres() {
    if [ -n "$pg_dir" ]; then
        as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$pg_dir"
    fi
}
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
start_postgres() {
    pg_bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null \
               | sort -V | tail -n 1)"
    [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || { echo "PostgreSQL is not installed"; return 1; }
    pg_dir="$(mktemp -d -t papertwin-postgres-XXXXXX)"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$pg_dir"
    trap stop_postgres EXIT
    local port
    port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
        >"$pg_dir/initdb.log" 2>&1 || { cat "$pg_dir/initdb.log"; return 1; }
    as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c fsync=off" start >/dev/null \
        || { cat "$pg_dir/server.log"; return 1; }
    as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres papertwin_test || return 1
    export PAPERTWIN_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/papertwin_test"
    echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port"
}
if [ -z "${PAPERTWIN_TEST_POSTGRES_URL:-}" ]; then
    if [ "$(id -u)" -eq 0 ] || [ -n "${CI:-}" ]; then
        export PAPERTWIN_TEST_POSTGRES_REQUIRED=1
        start_postgres || { echo "tests/run.sh: could not start PostgreSQL for the tests" >&2; exit 1; }
    else
        start_postgres || { stop_postgres; pg_dir=""
            echo "tests/run.sh: no PostgreSQL server could be started: the store is tested on SQLite only"; }
    fi
fi

# The review app's browser tests drive Debian's Chromium (installed above); as root or in CI they
# fail rather than skip when it is missing.
if [ "$(id -u)" -eq 0 ] || [ -n "${CI:-}" ]; then
    export PAPERTWIN_TEST_BROWSER_REQUIRED=1
fi

.venv/bin/python -m pytest "$@"
