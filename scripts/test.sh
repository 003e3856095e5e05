#!/usr/bin/env bash
# Set up (Python packages and the Debian packages the tests need), then run
# lint, format check, type check and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check
.venv/bin/ruff format --check
.venv/bin/mypy
.venv/bin/pytest "$@"
