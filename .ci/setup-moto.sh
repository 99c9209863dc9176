#!/usr/bin/env bash
# Installs the AWS emulator (moto) into .venv-moto, once. The e2e suite's
# global setup starts it; a user can also point MOTO_SERVER at their own.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv-moto/bin/moto_server ]; then
  exit 0
fi
python3 -m venv .venv-moto
.venv-moto/bin/pip install --quiet --disable-pip-version-check "moto[server]>=5.1,<6"
.venv-moto/bin/moto_server --help >/dev/null
echo "moto installed in .venv-moto"
