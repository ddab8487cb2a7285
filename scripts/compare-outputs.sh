#!/usr/bin/env bash
# Byte comparison of two sonata-census binaries' outputs, for changes that must not change them
# (restructurings, data-path work). Usage:
#   scripts/compare-outputs.sh OLD_BIN NEW_BIN [WORK_DIR]
# It generates four circuits with OLD_BIN (sorted; target-sorted with 2 groups; shuffled int64
# without index; bmtk with 2 populations), then runs the same ~100 commands with each binary:
# `count` on the cpu, gpu and spill paths for those circuits and every sample edge file
# (../shared/sonata_samples, when present), `report`, `info --json`, `dry-run`, `query` and
# `nodes`. Every written file and every stdout must be byte-identical (paths of the two output
# folders masked); stderr is compared with timings masked and its differences are listed only.
# Exit status 1 on any byte difference. The GPU runs use whatever adapter exists (lavapipe).
set -uo pipefail
[ $# -ge 2 ] || { sed -n 2,11p "$0"; exit 2; }
OLD=$(readlink -f "$1"); NEW=$(readlink -f "$2")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(readlink -f "${3:-${TMPDIR:-/tmp}/sonata-census-compare}")
SAMPLES=$(readlink -f "$ROOT/../shared/sonata_samples" 2>/dev/null || true)
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
mkdir -p "$WORK/corpus" && cd "$WORK" || exit 1
C=$WORK/corpus
gen() { [ -e "$C/$1.h5" ] || "$OLD" generate "$C/$1.h5" "${@:2}" -q || exit 1; }
gen sorted --nodes 3000 --edges 300000 --seed 1
gen tsorted --nodes 3000 --edges 300000 --order target-sorted --groups 2 --seed 2
gen shuffled_i64 --nodes 2000 --edges 400000 --order shuffled --id-dtype i64 --no-index --seed 3
gen bmtk --nodes 1000 --edges 100000 --attributes bmtk --index-spelling bmtk --populations 2 \
    --order shuffled --seed 4

run_all() { # BIN OUT
    local bin=$1 out=$2 n=0 f b cfg
    rm -rf "$out" && mkdir -p "$out"
    r() { local name=$1; shift; "$bin" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr"; echo $? >"$out/$name.rc"; }
    local edges=("$C"/*.h5)
    [ -n "$SAMPLES" ] && mapfile -t -O ${#edges[@]} edges < <(find "$SAMPLES" -name "*edges*.h5" -o -name "projections.h5" | sort)
    for f in "${edges[@]}"; do
        n=$((n + 1)); b=$(basename "$f" .h5)_$n
        r "info_$b" info --json "$f"
        for be in cpu gpu; do r "count_${be}_$b" count "$f" -o "$out/$b.$be.census.h5" --backend $be; done
        r "count_spill_$b" count "$f" -o "$out/$b.spill.census.h5" --backend cpu --memory-budget 1
    done
    for f in "$C"/*.h5; do
        b=$(basename "$f" .h5); r "report_$b" report "$out/${b}"_[0-9]*.cpu.census.h5 -o "$out/report_$b"
    done
    [ -n "$SAMPLES" ] || return 0
    for cfg in $(find "$SAMPLES" -name "circuit_config.json" -o -name "circuit_sonata.json" | sort); do
        n=$((n + 1)); r "dryrun_$n" dry-run "$cfg" --json --backend cpu
    done
    local R=$SAMPLES/openbraininstitute/neurodamus/tests/simulations/ringtest
    r q1 query counts "$R/local_edges_A.h5" --targets 0,1,2,3,4
    r q2 query conn-counts "$R/local_edges_A.h5" --targets 0,1,2
    r q3 query synapses "$R/local_edges_A.h5" --gid 1
    r q4 query counts "$C/shuffled_i64.h5" --targets 0,5,17,99
    r n1 nodes distribute "$R/nodes_A.h5" --stride 2 --offset 1
    r n2 nodes load "$R/circuit_config.json" -p RingA --stride 1 --offset 0
}
run_all "$OLD" "$WORK/old"
run_all "$NEW" "$WORK/new"

mask() { sed -E "s#$WORK/(old|new)#OUT#g; s/[0-9]+(\.[0-9]+)? ?(s|ms|µs)\b/T/g" "$1"; }
bad=0; compared=0
while IFS= read -r f; do
    case $f in
        *.stderr)
            if ! diff -q <(mask "old/$f") <(mask "new/$f") >/dev/null; then
                echo "stderr differs: $f"; diff <(mask "old/$f") <(mask "new/$f") | head -4
            fi ;;
        *.html|*.json|*.stdout)
            compared=$((compared + 1))
            diff -q <(mask "old/$f") <(mask "new/$f") >/dev/null || { echo "DIFFERS: $f"; bad=1; } ;;
        *)
            compared=$((compared + 1))
            cmp -s "old/$f" "new/$f" || { echo "DIFFERS: $f"; bad=1; } ;;
    esac
done < <(cd old && find . -type f | sort)
while IFS= read -r f; do [ -e "old/$f" ] || { echo "only in new: $f"; bad=1; }; done < <(cd new && find . -type f | sort)
echo "compare-outputs: $compared files compared, $([ $bad = 0 ] && echo 'all byte-identical' || echo 'DIFFERENCES')"
exit $bad
