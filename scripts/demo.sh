#!/usr/bin/env bash
# Set up, then run the main job on the bundled sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/journeylib demo --out reports/demo "$@"
