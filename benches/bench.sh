#!/usr/bin/env bash
# `./dev.sh bench`: builds the release binary, makes the virtual environment .venv with the peers'
# packages (benches/peers/requirements.txt: libsonata, h5py, numpy), then runs benches/compare.py.
# Arguments go to compare.py (--sizes, --reps, --work, --no-write, ...; see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
target="${CARGO_TARGET_DIR:-target}"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r benches/peers/requirements.txt
exec .venv/bin/python benches/compare.py --binary "$target/release/sonata-census" "$@"
