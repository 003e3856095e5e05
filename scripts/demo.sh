#!/usr/bin/env bash
# Set up (journeylib and JupyterLab in .venv), then run the main job on the
# bundled sample data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh lab
.venv/bin/journeylib demo --out reports/demo "$@"
echo "workbench: .venv/bin/jupyter lab notebooks/quickstart.ipynb"
