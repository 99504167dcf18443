#!/usr/bin/env bash
# The demo: check the bundled articles and show the report.
set -euo pipefail
cd "$(dirname "$0")/.."
rf=.venv/bin/reviewflow

echo "== reviewflow check: the bundled POEMS syndrome articles"
"$rf" check || true
echo
echo "Look at articles/ for the content and README.md for what each finding means."
