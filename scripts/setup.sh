#!/usr/bin/env bash
# Set up facemetric on a fresh machine: a virtual environment in .venv with every extra,
# plus Debian's Chromium for the browser test when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# The CPU build of torch first: a plain "torch" requirement would pull a multi-GB CUDA build.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[all,test]"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  if ! command -v chromium >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "note: could not install chromium; the browser test will be skipped" >&2
  fi
else
  command -v chromium >/dev/null || echo "note: install Debian's chromium to run the browser test" >&2
fi
.venv/bin/facemetric --help >/dev/null
echo "facemetric is ready: source .venv/bin/activate"
