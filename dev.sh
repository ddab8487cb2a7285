#!/usr/bin/env bash
# Set-up and everyday commands of sonata-census, for a fresh Debian/Ubuntu machine with Rust.
#
#   ./dev.sh demo     install what is missing, build, generate a 1e6-edge circuit, count it
#   ./dev.sh test     install what is missing, run the whole test suite: the Rust tests, then the
#                     Python module's (built into a virtual environment, target/py-venv)
#   ./dev.sh check    install what is missing, cargo fmt --check, clippy -D warnings, and the
#                     feature checks: the library builds without default features, with none
#                     of wgpu, clap, plotters, indicatif, signal-hook among its dependencies
#   ./dev.sh bench    the census against neurodamus, h5py+numpy and the h5py floor on 1e6-1e8-edge
#                     circuits (3-10 min, more the first time; options: benches/compare.py --help)
#   ./dev.sh bench-python  the Python module's readers against neurodamus 4.2.9's in one Python
#                     process, and sonata_census.count against the tool (about 3 min; options:
#                     benches/python_readers.py --help)
#   ./dev.sh bench-pathways  what --pathways, --direction both and --target-node-set cost over
#                     the plain census, on a generated 1e7-edge circuit (about 2 min; options:
#                     benches/pathways.py --help)
#   ./dev.sh bench-shards  count --shard i/N per shard, N shards at once, and merge, against one
#                     process, on generated 1e7-edge files (about 3 min; options:
#                     benches/shards.py --help)
#
# The default build compiles HDF5 2.2 from source (crate hdf5-metno-src) and links it
# statically: the first build takes minutes (release build about 4 on 2 cores), later ones
# seconds. HDF5's build needs cmake >= 3.26: an older or missing cmake gets a private one from
# PyPI in a virtual environment under the target folder (target/cmake-venv).
#
# System packages (installed with apt-get when missing, as root or through sudo):
#   pkg-config                      finds zlib for the HDF5 build
#   python3-venv                    the private cmake, the Python module's test environment (and
#                                   the bench peers' environment)
#   mesa-vulkan-drivers libvulkan1  software Vulkan (lavapipe), used by the GPU tests
# Building against the system's HDF5 instead (`cargo build --no-default-features --features
# gpu,report,cli`) needs libhdf5-dev (>= 1.10; 1.14 recommended, older releases crash on some
# damaged files).
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(pkg-config python3-venv mesa-vulkan-drivers libvulkan1)
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

install_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "dev.sh: installing ${missing[*]}" >&2
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null; then sudo=(sudo); else
            echo "dev.sh: please install as root: apt-get install -y ${missing[*]}" >&2; exit 1
        fi
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Whether cmake at $1 is 3.26 or newer (what HDF5 2.2's CMakeLists require).
cmake_recent() {
    local v
    v=$("$1" --version 2>/dev/null | sed -n 's/^cmake version \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
    [ -n "$v" ] || return 1
    set -- $v
    [ "$1" -gt 3 ] || { [ "$1" -eq 3 ] && [ "$2" -ge 26 ]; }
}

# Exports CMAKE for hdf5-metno-src: the caller's, the system's if recent, else a private one.
ensure_cmake() {
    if [ -n "${CMAKE:-}" ] && cmake_recent "$CMAKE"; then return 0; fi
    if command -v cmake >/dev/null && cmake_recent "$(command -v cmake)"; then
        export CMAKE="$(command -v cmake)"; return 0
    fi
    local venv="$TARGET_DIR/cmake-venv"
    if ! cmake_recent "$venv/bin/cmake"; then
        echo "dev.sh: installing cmake from PyPI into $venv (HDF5's build needs cmake >= 3.26)" >&2
        mkdir -p "$TARGET_DIR"
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check cmake
    fi
    CMAKE="$(cd "$venv/bin" && pwd)/cmake"
    export CMAKE
}

# Crates the library without default features must not depend on (the GPU engine, the tool, the
# report's plots): `cargo build --lib --no-default-features` is the census library alone.
OPTIONAL_CRATES='wgpu|clap|plotters|indicatif|signal-hook'

# Fails, naming them, when any of OPTIONAL_CRATES is in the library's normal dependency tree
# without default features.
check_library_dependencies() {
    local found
    found=$(cargo tree --no-default-features -e normal --prefix none --format '{p}' |
        awk '{print $1}' | grep -E -x "$OPTIONAL_CRATES" | sort -u | tr '\n' ' ' || true)
    if [ -n "$found" ]; then
        echo "dev.sh: the library without default features depends on: $found" >&2
        return 1
    fi
}

# The virtual environment the Python module is built and tested in: python/requirements-test.txt
# installed from PyPI, again whenever that file changes. Prints its folder.
python_env() {
    local venv="$TARGET_DIR/py-venv" wanted=python/requirements-test.txt
    if [ ! -x "$venv/bin/python" ]; then
        echo "dev.sh: creating $venv (the Python module's test environment)" >&2
        mkdir -p "$TARGET_DIR"
        python3 -m venv "$venv" >&2
    fi
    if ! cmp -s "$wanted" "$venv/requirements-test.txt"; then
        echo "dev.sh: installing $(grep -v '^#' "$wanted" | tr '\n' ' ')into $venv" >&2
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$wanted" >&2
        cp "$wanted" "$venv/requirements-test.txt"
    fi
    (cd "$venv" && pwd)
}

# Builds the Python module into the test environment (dev profile: it shares target/debug with
# the Rust tests) and runs python/tests against the tool the Rust tests built, with pytest's
# tmp_path folders under $2 (pytest keeps them after the run; the caller removes $2). Appends
# the output to the log $1 and prints it.
python_tests() {
    local log=$1 basetemp=$2 venv started=$SECONDS
    venv=$(python_env) || return 1
    VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop --quiet -m python/Cargo.toml 2>&1 | tee -a "$log" ||
        return 1
    # -p no:cacheprovider: no .pytest_cache in the working tree.
    SONATA_CENSUS_CLI="$(cd "$TARGET_DIR/debug" && pwd)/sonata-census" \
        "$venv/bin/python" -m pytest -p no:cacheprovider -q -rs --basetemp="$basetemp/pytest" \
        python/tests 2>&1 | tee -a "$log" || return 1
    echo "dev.sh: the Python module's build and tests took $((SECONDS - started)) s" >&2
}

case "${1:-}" in
    demo)
        install_packages
        ensure_cmake
        # Not --quiet: the first build takes minutes, and cargo's lines show it progressing.
        [ -x "$TARGET_DIR/release/sonata-census" ] ||
            echo "dev.sh: first build (about 4 minutes on 2 cores: HDF5 2.2 is compiled too)" >&2
        cargo build --release
        "$TARGET_DIR/release/sonata-census" demo "${@:2}"
        ;;
    test)
        install_packages
        ensure_cmake
        [ -d ../shared/sonata_samples ] ||
            echo "dev.sh: ../shared/sonata_samples is absent: the sample-file tests will skip" >&2
        # Mesa's lavapipe warns on every start without a runtime folder.
        if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ] || [ ! -w "$XDG_RUNTIME_DIR" ]; then
            XDG_RUNTIME_DIR=$(mktemp -d)
            chmod 700 "$XDG_RUNTIME_DIR"
            export XDG_RUNTIME_DIR
            runtime_dir=$XDG_RUNTIME_DIR
        fi
        # Tests must leave nothing behind: they get a temporary folder of their own, checked
        # empty at the end.
        test_tmp=$(mktemp -d)
        py_tmp=$(mktemp -d)
        log=$(mktemp)
        trap 'rm -rf "$log" "$test_tmp" "$py_tmp" ${runtime_dir:+"$runtime_dir"}' EXIT
        status=0
        # `testing`: the fault-injection hooks the GPU fault tests drive.
        TMPDIR="$test_tmp" cargo test --no-fail-fast --all-targets --features testing "${@:2}" 2>&1 |
            tee "$log" || status=1
        TMPDIR="$test_tmp" cargo test --doc --features testing 2>&1 | tee -a "$log" || status=1
        TMPDIR="$test_tmp" python_tests "$log" "$py_tmp" || status=1
        leftovers=$(find "$test_tmp" -mindepth 1 -maxdepth 1 | head -20)
        if [ -n "$leftovers" ]; then
            echo "dev.sh: the tests left files in their temporary folder:" >&2
            echo "$leftovers" >&2
            status=1
        fi
        # One closing line for the whole suite (cargo prints one per test binary), always, and
        # the failure (a build error, a failed test, leftovers) in the exit status.
        # pytest's last line: "N passed, M failed, K skipped in S s" (any of them).
        awk '/^test result:/ {p += $4; f += $6; s += $8; next}
             /^[0-9]+ (passed|failed|skipped|errors?)/ && / in [0-9.]+s/ {
                 for (i = 2; i <= NF; i++) {
                     w = $i; sub(/,$/, "", w)
                     if (w == "passed") p += $(i - 1)
                     if (w == "failed" || w == "errors" || w == "error") f += $(i - 1)
                     if (w == "skipped") s += $(i - 1)
                 }
             }
             END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$log"
        [ "$status" -eq 0 ] || echo "dev.sh: the suite failed (see above)" >&2
        exit "$status"
        ;;
    check)
        install_packages
        ensure_cmake
        cargo fmt --all -- --check
        cargo clippy --all-targets -- -D warnings
        # The Python module (a workspace member outside default-members).
        cargo clippy -p sonata-census-python --all-targets -- -D warnings
        # The library alone: builds without default features (the bundled HDF5 kept, so that no
        # system HDF5 is needed), and depends on none of the optional crates.
        cargo check --lib --no-default-features --features static-hdf5
        check_library_dependencies
        ;;
    bench)
        install_packages
        ensure_cmake
        bash benches/bench.sh "${@:2}"
        ;;
    bench-python)
        install_packages
        ensure_cmake
        cargo build --release
        venv=$(python_env)
        # Release profile: timings of a debug build mean nothing.
        VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop --release --quiet -m python/Cargo.toml
        "$venv/bin/python" benches/python_readers.py --tool "$TARGET_DIR/release/sonata-census" "${@:2}"
        ;;
    bench-pathways)
        install_packages
        ensure_cmake
        cargo build --release
        venv=$(python_env)
        "$venv/bin/python" benches/pathways.py --tool "$TARGET_DIR/release/sonata-census" "${@:2}"
        ;;
    bench-shards)
        install_packages
        ensure_cmake
        cargo build --release
        python3 benches/shards.py --tool "$TARGET_DIR/release/sonata-census" "${@:2}"
        ;;
    *)
        sed -n '2,20p' "$0" >&2
        exit 2
        ;;
esac
