#!/usr/bin/env bash
# GPU check of sonata-census (issue 3, item 6). One invocation does everything it can where it
# runs:
#
#   scripts/gpu-check.sh build   here (Debian, Rust, no GPU needed): portable release binaries
#                                with static HDF5 into target/gpu-check/ (the bundle)
#   scripts/gpu-check.sh run     on the GPU machine, from the repository root, with the bundle
#                                carried (target/gpu-check): Vulkan set-up, kernel and census tests
#                                on the GPU, kernel benches, then for each size and order:
#                                generate, count --backend cpu and gpu, compare, one table
#   scripts/gpu-check.sh         both: build when the bundle is missing or older than the sources,
#                                then run
#
# Environment (all optional):
#   MATRIX="1e8:sorted 1e8:target-sorted 1e8:shuffled 1e9:sorted 1e9:shuffled"
#                            the circuits, SIZE:ORDER each; every one is counted with
#                            --backend cpu, gpu and auto (auto's choice and its -v estimate are
#                            in the table: `auto` must not pick the slower engine by > 10 %)
#   NODES_PER_EDGE=100       target nodes = edges / this (BBP-like in-degrees)
#   BUDGET_S=540             seconds for the run part; a size whose estimated time (10x the
#                            previous size) does not fit in what is left is skipped, saying so
#   BENCH=1                  run the criterion kernel benches (short settings); 0 skips them
#   WORK=/tmp/gpu-check      circuits and outputs (a 1e9 circuit is 16 GB of ids; removed after)
#   MEMORY_BUDGET_MIB=32768  count --memory-budget (in memory grouping, no spill files at 1e9)
#   OUT                      when set, the table, logs and bench output are written there too
#   CARGO_TARGET_DIR, CMAKE  for the build (CMAKE must be >= 3.26; pip install cmake gives one)
#
# Headless NVIDIA Vulkan (see ../shared/spec/gpu-notes.md section 7): the run part writes an ICD
# manifest naming libEGL_nvidia.so.0 and uses the bundled libvulkan.so.1 when the host has none.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUNDLE=$ROOT/target/gpu-check

log() { echo "gpu-check: $*" >&2; }

build() {
    local cmake=${CMAKE:-$(command -v cmake || true)}
    local version
    version=$("$cmake" --version 2>/dev/null | head -1 | grep -oE '[0-9]+\.[0-9]+' | head -1 || true)
    if [ -z "$version" ] || [ "$(printf '%s\n3.26\n' "$version" | sort -V | head -1)" != "3.26" ]; then
        log "static HDF5 needs cmake >= 3.26 (found '${version:-none}'): python3 -m venv .venv && .venv/bin/pip install cmake, then CMAKE=.venv/bin/cmake"
        exit 1
    fi
    local target=${CARGO_TARGET_DIR:-$ROOT/target}
    log "building release binaries with static HDF5 (cmake $version; takes minutes when cold)"
    CMAKE=$cmake cargo build --release --features static-hdf5 --bin sonata-census
    # The GPU test and bench executables, as cargo names them.
    local listing
    listing=$(CMAKE=$cmake cargo test --release --features static-hdf5 --no-run \
        --test gpu_kernels --test gpu_census --test census --message-format=json 2>/dev/null)
    local bench_listing
    bench_listing=$(CMAKE=$cmake cargo bench --features static-hdf5 --no-run \
        --bench gpu_kernels --message-format=json 2>/dev/null)
    rm -rf "$BUNDLE" && mkdir -p "$BUNDLE/bin" "$BUNDLE/lib"
    cp "$target/release/sonata-census" "$BUNDLE/bin/"
    for name in gpu_kernels gpu_census census; do
        local exe
        exe=$(echo "$listing" | grep -o "\"executable\":\"[^\"]*/deps/$name-[^\"]*\"" | head -1 | cut -d'"' -f4)
        [ -n "$exe" ] || { log "no test executable for $name"; exit 1; }
        cp "$exe" "$BUNDLE/bin/$name"
    done
    local bench
    bench=$(echo "$bench_listing" | grep -o "\"executable\":\"[^\"]*/deps/gpu_kernels-[^\"]*\"" | head -1 | cut -d'"' -f4)
    [ -n "$bench" ] && cp "$bench" "$BUNDLE/bin/gpu_kernels_bench"
    strip "$BUNDLE"/bin/* 2>/dev/null || true
    # The Vulkan loader (GPU hosts may lack it) and GNU time (for the peak RSS).
    for lib in /usr/lib/x86_64-linux-gnu/libvulkan.so.1 /usr/lib64/libvulkan.so.1; do
        if [ -e "$lib" ]; then
            cp -L "$lib" "$BUNDLE/lib/libvulkan.so.1"
            break
        fi
    done
    [ -x /usr/bin/time ] && cp /usr/bin/time "$BUNDLE/bin/time"
    {
        echo "built: $(date -u +%FT%TZ) on $(uname -n)"
        echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' + uncommitted changes')"
        echo "rustc: $(rustc --version)"
    } >"$BUNDLE/BUILD_INFO"
    log "bundle: $(du -sh "$BUNDLE" | cut -f1) in $BUNDLE ($(ls "$BUNDLE/bin" | tr '\n' ' '))"
}

stale() {
    [ -x "$BUNDLE/bin/sonata-census" ] || return 0
    [ -n "$(find src shaders tests benches Cargo.toml -newer "$BUNDLE/BUILD_INFO" -print -quit 2>/dev/null)" ]
}

# --- the GPU machine ----------------------------------------------------------------------------

# Whether the GPU engine finds an adapter with the current Vulkan settings (a quick kernel test).
probe() {
    SONATA_CENSUS_REQUIRE_GPU=1 "$BUNDLE/bin/gpu_kernels" --exact synapses_per_connection_gpu_matches_cpu \
        >"$WORK/probe.log" 2>&1
}

vulkan_setup() {
    export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
    if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
        log "no libvulkan.so.1 on this host: using the bundled loader"
        export LD_LIBRARY_PATH=$BUNDLE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    fi
    if [ -n "${VK_DRIVER_FILES:-}" ] && probe; then
        log "Vulkan driver from VK_DRIVER_FILES=$VK_DRIVER_FILES"
        return
    fi
    # Headless NVIDIA: an ICD manifest naming libEGL_nvidia.so.0 (gpu-notes section 7).
    local egl=""
    for d in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
        if [ -e "$d/libEGL_nvidia.so.0" ]; then
            egl=$d/libEGL_nvidia.so.0
            break
        fi
    done
    [ -n "$egl" ] || egl=$(ldconfig -p 2>/dev/null | grep -o '/[^ ]*libEGL_nvidia.so.0' | head -1 || true)
    local saved_ld=${LD_LIBRARY_PATH:-}
    if [ -n "$egl" ]; then
        printf '{"file_format_version":"1.0.1","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' \
            "$egl" >"$WORK/nvidia_egl_icd.json"
        export VK_DRIVER_FILES=$WORK/nvidia_egl_icd.json VK_ICD_FILENAMES=$WORK/nvidia_egl_icd.json
        export LD_LIBRARY_PATH=$(dirname "$egl")${saved_ld:+:$saved_ld}
        if probe; then
            log "Vulkan driver: $egl (EGL ICD manifest)"
            return
        fi
    fi
    # The driver's own manifest, where the image has one.
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
        /etc/vulkan/icd.d/nvidia_icd.json; do
        [ -e "$icd" ] || continue
        export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
        [ -e /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] &&
            export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
        if probe; then
            log "Vulkan driver: $icd"
            return
        fi
    done
    unset VK_DRIVER_FILES VK_ICD_FILENAMES
    export LD_LIBRARY_PATH=$saved_ld
    if probe; then
        log "Vulkan: the host's default drivers"
    else
        log "no GPU adapter found (last probe below); the GPU rows will fail"
        tail -5 "$WORK/probe.log" >&2 || true
    fi
}

# Copies the report and logs to $OUT, when set (after every row, so that a run cut short still
# leaves its table; few files come back from a device machine, so the logs go into one).
publish() {
    [ -n "${OUT:-}" ] || return 0
    mkdir -p "$OUT"
    cp "$WORK/gpu-check.md" "$OUT"/ 2>/dev/null || true
    [ -e "$WORK/bench.log" ] && cp "$WORK/bench.log" "$OUT"/
    for f in "$WORK"/*.log; do
        [ "$(basename "$f")" = bench.log ] && continue
        echo "=== $(basename "$f")"
        cat "$f"
    done >"$OUT/gpu-check-logs.txt" 2>/dev/null || true
}

# Seconds (3 decimals) since the `date +%s.%N` stamp $1.
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b - a}'; }

# Seconds since the start of the run part.
elapsed() { echo $(( $(date +%s) - START )); }

# "1e8" -> 100000000
expand() { python3 -c "print(int(float('$1')))" 2>/dev/null || awk "BEGIN{printf \"%d\", $1}"; }

# key=value from the "gpu timings:" line of a count -v log.
timing() { grep -o "gpu timings:.*" "$1" | head -1 | grep -o "$2=[^ ]*" | cut -d= -f2 || true; }

rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1"; }

run() {
    [ -x "$BUNDLE/bin/sonata-census" ] || { log "no bundle at $BUNDLE: run 'scripts/gpu-check.sh build' first"; exit 1; }
    WORK=${WORK:-/tmp/gpu-check}
    mkdir -p "$WORK"
    START=$(date +%s)
    BUDGET_S=${BUDGET_S:-540}
    local report=$WORK/gpu-check.md
    vulkan_setup
    local bin=$BUNDLE/bin
    local timer=()
    [ -x "$bin/time" ] && timer=("$bin/time" -v)
    [ ${#timer[@]} -eq 0 ] && [ -x /usr/bin/time ] && timer=(/usr/bin/time -v)
    local gpu
    gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 || true)
    {
        echo "# sonata-census GPU check"
        echo
        echo "- GPU: ${gpu:-unknown (no nvidia-smi)}; CPU: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
        echo "- host: $(uname -r), $(ldd --version 2>/dev/null | head -1)"
        sed 's/^/- /' "$BUNDLE/BUILD_INFO"
    } >"$report"

    log "kernel and census tests on the GPU (SONATA_CENSUS_REQUIRE_GPU=1)"
    local tests=pass
    for t in gpu_kernels gpu_census census; do
        if ! SONATA_CENSUS_REQUIRE_GPU=1 "$bin/$t" >"$WORK/$t.log" 2>&1; then
            tests=FAIL
            tail -30 "$WORK/$t.log" >&2
        fi
        echo "- tests/$t.rs on this GPU: $(grep -E '^test result' "$WORK/$t.log" | tail -1)" >>"$report"
    done
    grep -m1 -o 'adapter: .*' "$WORK/gpu_kernels.log" >>"$report" 2>/dev/null || true

    if [ "${BENCH:-1}" = 1 ] && [ -x "$bin/gpu_kernels_bench" ]; then
        log "kernel benches"
        "$bin/gpu_kernels_bench" --bench --warm-up-time 1 --measurement-time 2 \
            >"$WORK/bench.log" 2>&1 || log "benches failed (see bench.log)"
        {
            echo
            echo "## Kernels on resident data (criterion, median)"
            echo
            echo '```'
            # Each benchmark: its name, then "time:" and "thrpt:" lines (criterion's layout).
            grep -E "^adapter:|^[a-z][a-z_ ()+]*/|^ *(time|thrpt):" "$WORK/bench.log" |
                grep -v "^Benchmarking" | awk '/^adapter:/ {print; next} /time:/ {print (/^ / ? name " " : "") $0; next} /thrpt:/ {print "    " $0; next} {name=$0}' |
                sed -E 's/  +/ /g' || true
            echo '```'
        } >>"$report"
    fi

    {
        echo
        echo "## Census of generated circuits (page-cached, one population)"
        echo
        echo "| edges | order | backend | HDF5 read GB/s | upload GB/s | kernels s | end-to-end s | edges/s | peak RSS MB | output (gpu) / estimate (auto) |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
    } >>"$report"
    local last_cost=0 last_edges=0
    local matrix=${MATRIX:-1e8:sorted 1e8:target-sorted 1e8:shuffled 1e9:sorted 1e9:shuffled}
    for entry in $matrix; do
        local e=${entry%%:*} order=${entry#*:}
        local edges
        edges=$(expand "$e")
        if [ "$last_edges" -gt 0 ]; then
            local estimate=$(( last_cost * edges / last_edges ))
            if [ $(( $(elapsed) + estimate )) -gt "$BUDGET_S" ]; then
                log "skipping $e $order: about ${estimate}s needed, $(( BUDGET_S - $(elapsed) ))s left"
                echo "| $e | $order | - | skipped: about ${estimate} s needed, $(( BUDGET_S - $(elapsed) )) s of BUDGET_S left | | | | | | |" >>"$report"
                continue
            fi
        fi
        local size_start
        size_start=$(date +%s)
        local nodes=$(( edges / ${NODES_PER_EDGE:-100} ))
        [ "$nodes" -ge 1 ] || nodes=1
        local circuit=$WORK/circuit-$e-$order.h5
        log "generating $e edges ($order, $nodes nodes)"
        local g0
        g0=$(date +%s.%N)
        local index=()
        # A shuffled file's index has about one range per edge (32 bytes/edge): skip it.
        [ "$order" = shuffled ] && index=(--no-index)
        "$bin/sonata-census" -q generate "$circuit" --nodes "$nodes" --edges "$edges" \
            --order "$order" --attributes none "${index[@]}" --force
        local gen_s
        gen_s=$(since "$g0")
        log "generated in ${gen_s}s"
        cat "$circuit" >/dev/null # page cache, as for the benchmark target
        for backend in cpu gpu auto; do
            local out=$WORK/census-$e-$order-$backend.h5
            local logf=$WORK/count-$e-$order-$backend.log
            local t0
            t0=$(date +%s.%N)
            if ! "${timer[@]}" "$bin/sonata-census" -v count "$circuit" -o "$out" \
                --backend "$backend" --memory-budget "${MEMORY_BUDGET_MIB:-32768}" \
                --force >"$logf" 2>&1; then
                log "count --backend $backend failed:"
                tail -20 "$logf" >&2
                tests=FAIL
                echo "| $e | $order | $backend | failed: $(grep -m1 'sonata-census:' "$logf" | cut -c1-80) | | | | | | |" >>"$report"
                continue
            fi
            local wall
            wall=$(since "$t0")
            local eps
            eps=$(awk "BEGIN{printf \"%.3g\", $edges / $wall}")
            local read_s read_b up_s up_b kern
            read_s=$(timing "$logf" read_s); read_b=$(timing "$logf" read_bytes)
            up_s=$(timing "$logf" upload_s); up_b=$(timing "$logf" upload_bytes)
            kern=$(timing "$logf" kernel_s)
            local read_gbs="-" up_gbs="-"
            [ -n "$read_s" ] && read_gbs=$(awk "BEGIN{ if ($read_s > 0) printf \"%.2f\", $read_b / $read_s / 1e9; else print \"-\" }")
            [ -n "$up_s" ] && up_gbs=$(awk "BEGIN{ if ($up_s > 0) printf \"%.2f\", $up_b / $up_s / 1e9; else print \"-\" }")
            local same="-"
            local shown=$backend
            if [ "$backend" = auto ]; then
                # auto's choice, and the cost model's estimate behind it (-v).
                shown="auto → $(grep -m1 -o 'backend: [a-z]*' "$logf" | cut -d' ' -f2)"
                same=$(grep -m1 -o 'estimate for .*(sampled): [^(]*' "$logf" | sed 's/.*(sampled): //' || true)
                same=${same:-"(no estimate: $(grep -m1 -o 'backend: .*' "$logf" | cut -c1-90))"}
            fi
            if [ "$backend" = gpu ]; then
                local cpu_out=$WORK/census-$e-$order-cpu.h5
                if cmp -s "$cpu_out" "$out"; then
                    same="identical bytes"
                elif SONATA_CENSUS_COMPARE_A=$cpu_out SONATA_CENSUS_COMPARE_B=$out \
                    "$bin/gpu_census" --ignored --exact compare_census_files --nocapture >"$WORK/compare-$e-$order.log" 2>&1; then
                    same="same tables (bytes differ: $(grep -m1 ' / ' "$WORK/compare-$e-$order.log" | cut -d: -f2- | xargs))"
                else
                    same="DIFFERENT"
                    tests=FAIL
                fi
                grep -m1 "gpu timings:" "$logf" >>"$WORK/timings.log" || true
            fi
            echo "| $e | $order | $shown | $read_gbs | $up_gbs | ${kern:--} | $wall | $eps | $(rss_mb "$logf") | $same |" >>"$report"
            publish
            log "$e $order $backend: ${wall}s ($same)"
        done
        rm -f "$circuit" "$WORK"/census-"$e"-"$order"-*.h5
        last_cost=$(( $(date +%s) - size_start + 1 ))
        last_edges=$edges
    done
    {
        echo
        echo "HDF5 read and upload rates are the GPU engine's own timings (\`count -v\`, line"
        echo "\"gpu timings:\"); kernel seconds come from timestamp queries; end-to-end is the wall"
        echo "time of \`count\`; peak RSS from GNU time. Total check time: $(elapsed) s. Result: $tests."
    } >>"$report"
    cat "$report"
    publish
    [ "$tests" = pass ]
}

case "${1:-all}" in
    build) build ;;
    run) run ;;
    all)
        if stale; then build; fi
        run
        ;;
    *)
        sed -n '2,30p' "$0" >&2
        exit 2
        ;;
esac
