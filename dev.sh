#!/usr/bin/env bash
# Set-up and everyday commands of sonata-census, for a fresh Debian/Ubuntu machine with Rust.
#
#   ./dev.sh demo     install what is missing, build, generate a 1e6-edge circuit, count it
#   ./dev.sh test     install what is missing, run the whole test suite
#   ./dev.sh bench    the census against neurodamus, h5py+numpy and the h5py floor on 1e6-1e8-edge
#                     circuits (3-10 min, more the first time; options: benches/compare.py --help)
#
# System packages (installed with apt-get when missing, as root or through sudo):
#   libhdf5-dev pkg-config          HDF5 library the crate links against
#   mesa-vulkan-drivers libvulkan1  software Vulkan (lavapipe), used by the GPU tests
#   python3-venv                    (bench only) the peers' virtual environment
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(libhdf5-dev pkg-config mesa-vulkan-drivers libvulkan1)

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

case "${1:-}" in
    demo)
        install_packages
        cargo run --release --quiet -- demo "${@:2}"
        ;;
    test)
        install_packages
        [ -d ../shared/sonata_samples ] ||
            echo "dev.sh: ../shared/sonata_samples is absent: the sample-file tests will skip" >&2
        log=$(mktemp)
        trap 'rm -f "$log"' EXIT
        set -o pipefail
        cargo test --all-targets "${@:2}" 2>&1 | tee "$log"
        cargo test --doc 2>&1 | tee -a "$log"
        # One closing line for the whole suite (cargo prints one per test binary).
        awk '/^test result:/ {p += $4; f += $6; s += $8}
             END {printf "tests: %d passed, %d failed, %d skipped\n", p, f, s}' "$log"
        ;;
    bench)
        PACKAGES+=(python3-venv)
        install_packages
        bash benches/bench.sh "${@:2}"
        ;;
    *)
        sed -n '2,12p' "$0" >&2
        exit 2
        ;;
esac
