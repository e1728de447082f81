#!/usr/bin/env bash
# Runs the fuzz targets one after another, each for a fixed number of executions, and prints
# a table of executions, wall time and crashes per target. See fuzz/README.md.
#
#   fuzz/run.sh                  # every target, default executions
#   fuzz/run.sh scanner recipe   # some targets
#   RUNS=10000 fuzz/run.sh       # a quick pass: 10,000 executions per target
#
# Environment:
#   RUNS            executions for every target (default: per target, below)
#   RUNS_<target>   executions for one target, e.g. RUNS_scanner=50000
#   MAX_TIME        seconds after which a target stops even short of its executions (300)
#   TIMEOUT         seconds one input may take before it counts as a crash (20)
#   RSS_LIMIT_MB    memory limit of a run; larger single allocations count as crashes (2048)
#   POLYBPE_SHARED  the shared data folder (default ../shared beside the repository)
#   SEEDS=0         do not (re)write the seeds
#   SANITIZER       address (default) or none: about 3-6x the executions per second, for depth
#                   runs (built into fuzz/target/none so the two builds do not replace each other)
#   TRACE_COMPARES=0  build without libFuzzer's comparison tracing (`--no-trace-compares`): it took
#                   about 60% of `tokenizer_json`'s time (regex compilation is all comparisons);
#                   without it, 2.6x the executions per second, at the cost of the hints that
#                   guide mutations toward compared values. For depth runs on a grown corpus
#                   (built into fuzz/target/<sanitizer>-nocmp)
#
# Every run appends a line to fuzz/target/fuzz-logs/history.tsv (date, target, sanitizer,
# executions, fuzzing seconds, outcome), so runs split over time can be added up.
#
# Needs the nightly toolchain, cargo-fuzz (cargo install cargo-fuzz) and python3 (seeds).
# Targets build with cargo-fuzz's defaults: optimized, debug assertions and overflow checks
# on, AddressSanitizer. Crashing inputs land in fuzz/artifacts/<target>/; logs in
# fuzz/target/fuzz-logs/.

set -uo pipefail

fuzz=$(cd "$(dirname "$0")" && pwd)
cd "$fuzz"
export POLYBPE_SHARED=${POLYBPE_SHARED:-$(cd .. && pwd)/../shared}

# target:default executions:max input length:dictionary
table=(
    "scanner:100000:512:"
    "roundtrip:1000000:512:"
    "roundtrip_reference:500000:512:"
    "tokenizer_json:200000:65536:dicts/tokenizer_json.dict"
    "tokenizer_json_structured:200000:4096:"
    "tiktoken_file:200000:32768:"
    "recipe:30000:4096:dicts/recipe.dict"
    "count_file:2000000:16384:"
)

wanted=("$@")
selected() {
    [ ${#wanted[@]} -eq 0 ] && return 0
    local t
    for t in "${wanted[@]}"; do [ "$t" = "$1" ] && return 0; done
    return 1
}
for t in "${wanted[@]}"; do
    printf '%s\n' "${table[@]}" | grep -q "^$t:" || { echo "unknown target $t" >&2; exit 2; }
done

# Seeds: text, tokenizer files and recipes from seeds.py; count files from `vocab count`.
if [ "${SEEDS:-1}" != 0 ]; then
    python3 seeds.py "$POLYBPE_SHARED" || exit 1
    if selected count_file && [ -d "$POLYBPE_SHARED/corpus/train" ]; then
        tmp=$(mktemp -d)
        mkdir -p "$tmp/fr" "$tmp/mixed" corpus/count_file
        head -n 20 "$POLYBPE_SHARED/corpus/train/fr.txt" > "$tmp/fr/fr.txt"
        head -n 10 "$POLYBPE_SHARED/corpus/train/historical.txt" > "$tmp/mixed/historical.txt"
        head -n 10 "$POLYBPE_SHARED/corpus/train/pl.txt" > "$tmp/mixed/pl.txt"
        vocab=(cargo run -q --manifest-path ../Cargo.toml -p vocab --)
        "${vocab[@]}" count -q --corpus "$tmp/fr" --out corpus/count_file/seed-fr-nfc.counts &&
            "${vocab[@]}" count -q --corpus "$tmp/mixed" --normalization nfkc --out corpus/count_file/seed-mixed-nfkc.counts ||
            echo "warning: no count-file seeds (vocab count failed)" >&2
        rm -rf "$tmp"
    fi
fi

sanitizer=${SANITIZER:-address}
# The build's name: the sanitizer, and whether comparisons are traced (history.tsv records it).
label=$sanitizer
build=()
[ "$sanitizer" != address ] && build=(-s "$sanitizer")
if [ "${TRACE_COMPARES:-1}" = 0 ]; then
    build+=(--no-trace-compares)
    label=$sanitizer-nocmp
fi
[ "$label" != address ] && build+=(--target-dir "target/$label")
cargo +nightly fuzz build "${build[@]}" || exit 1

logs=target/fuzz-logs
mkdir -p "$logs"
results=()
status=0
for row in "${table[@]}"; do
    IFS=: read -r target default_runs max_len dict <<< "$row"
    selected "$target" || continue
    per_target="RUNS_$target"
    runs=${!per_target:-${RUNS:-$default_runs}}
    mkdir -p "artifacts/$target" "corpus/$target"
    before=$(ls "artifacts/$target" | grep -E '^(crash|oom|timeout|leak)-' | sort)
    args=(-runs="$runs" -max_len="$max_len" -max_total_time="${MAX_TIME:-300}" -timeout="${TIMEOUT:-20}"
        -rss_limit_mb="${RSS_LIMIT_MB:-2048}" -print_final_stats=1)
    [ -n "$dict" ] && args+=(-dict="$dict")
    echo "== $target: ${args[*]}"
    start=$(date +%s)
    cargo +nightly fuzz run "${build[@]}" "$target" -- "${args[@]}" > "$logs/$target.log" 2>&1
    code=$?
    wall=$(( $(date +%s) - start ))
    executions=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/$target.log" | tail -1 | grep -o '[0-9]*$')
    # Fuzzing time as libFuzzer counts it (the wall time also holds cargo's build check).
    seconds=$(grep -o '^Done [0-9]* runs in [0-9]* second' "$logs/$target.log" | tail -1 | awk '{print $5}')
    new=$(comm -13 <(echo "$before") <(ls "artifacts/$target" | grep -E '^(crash|oom|timeout|leak)-' | sort) | tr '\n' ' ')
    if [ $code -ne 0 ] && [ -z "$new" ] && grep -q 'libFuzzer: run interrupted' "$logs/$target.log"; then
        outcome="stopped (run interrupted by a signal)"
    elif [ $code -ne 0 ] || [ -n "$new" ]; then
        status=1
        outcome="FAILED (exit $code) ${new:-see $logs/$target.log}"
        grep -m3 -E 'panicked|ERROR: libFuzzer|ERROR: AddressSanitizer' "$logs/$target.log" | sed 's/^/    /'
    else
        outcome="no crash"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$label" "${executions:-?}" "${seconds:-?}" "$outcome" >> "$logs/history.tsv"
    results+=("$(printf '%-26s %12s %8ss %8ss  %s' "$target" "${executions:-?}" "${seconds:-?}" "$wall" "$outcome")")
done

echo
printf '%-26s %12s %9s %9s  %s\n' target executions fuzzing wall result
printf '%s\n' "${results[@]}"
exit $status
