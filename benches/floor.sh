#!/usr/bin/env bash
# Builds the release binary, makes a Python virtual environment with h5py and numpy
# (benches/peers/requirements.txt), then runs benches/floor.py. Arguments go to floor.py.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
if ! python3 -c 'import h5py, numpy' 2>/dev/null; then
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install -q -r benches/peers/requirements.txt
    exec .venv/bin/python benches/floor.py "$@"
fi
exec python3 benches/floor.py "$@"
