#!/usr/bin/env bash
# Set up (Python packages and the Debian packages the tests need), then run
# lint, format check, type check and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev,spark
# Debian packages the tests need: a Java runtime for the local-Spark group,
# Chromium for the real-browser tests (Playwright drives it; no browser download).
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
.venv/bin/ruff check
.venv/bin/ruff format --check
.venv/bin/mypy
.venv/bin/pre-commit validate-config .pre-commit-config.yaml
# Every test and doctest on both cores (pytest-xdist), except the real-browser tests,
# which start JupyterLab servers of their own and run after, on their own. Exit code 5
# (nothing selected, as when "$@" picks tests of one part only) is not a failure.
.venv/bin/pytest -n 2 --ignore=tests/browser "$@" || [ $? -eq 5 ]
.venv/bin/pytest tests/browser "$@" || [ $? -eq 5 ]
