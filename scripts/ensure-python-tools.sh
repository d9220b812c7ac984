#!/usr/bin/env bash
# Makes moto server (the local AWS emulator) and cfn-lint available to the tests and the demo.
# Uses them from PATH when present; otherwise installs them into ./.venv from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

have() { command -v "$1" >/dev/null 2>&1 || [ -x ".venv/bin/$1" ]; }

if have moto_server && have cfn-lint; then
  echo "python tools: moto_server and cfn-lint found"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "python tools: python3 is missing; install Python 3.9+ (moto[server] and cfn-lint need it)" >&2
  exit 1
fi
echo "python tools: installing moto[server] and cfn-lint into .venv"
if [ ! -x .venv/bin/pip ]; then
  python3 -m venv .venv || {
    echo "python tools: 'python3 -m venv' failed; on Debian/Ubuntu install python3-venv" >&2
    exit 1
  }
fi
.venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6' 'cfn-lint>=1.20,<2'
echo "python tools: ready in .venv/bin"
