#!/usr/bin/env bash
# The test command (README.md, and CI through .ci/run). It installs what the tests need on a
# Debian or Ubuntu machine - the system packages, a virtual environment in .venv with papertwin
# and its test tools - checks the code with ruff and mypy, then runs pytest.
# Arguments go to pytest: `bash tests/run.sh -m "not slow"` skips the slow end-to-end runs.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="python3-venv tesseract-ocr tesseract-ocr-eng poppler-utils fonts-dejavu-core fonts-comic-neue"
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

.venv/bin/ruff check .
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
