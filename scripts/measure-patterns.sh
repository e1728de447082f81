#!/usr/bin/env bash
# What polybpe's `default` split pattern buys over the patterns llama.cpp runs: `qwen35` (same
# splits except the elision rule) and `llama3` (cl100k's, with digit groups of up to three).
#
# Each pattern trains a plain 65,536-token vocabulary (the default recipe without balancing) on
# ../shared/corpus/train minus the last 5% of every file's lines; `vocab compare` then measures
# bytes per token on the held-out tails (per language) and on lines 1001+ of the parallel set
# (lines 1-1000 are the recipe's parity dev set). Results go to out/patterns/.
#
#   scripts/measure-patterns.sh            # needs ../shared (or POLYBPE_SHARED)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${POLYBPE_SHARED:-../shared}
OUT=${OUT:-out/patterns}
PATTERNS=${PATTERNS:-default qwen35 llama3}
[ -d "$SHARED/corpus/train" ] || { echo "skip: no $SHARED/corpus/train"; exit 0; }
cargo build --release --quiet -p vocab
VOCAB=target/release/vocab
mkdir -p "$OUT/train" "$OUT/heldout" "$OUT/parallel"
for f in "$SHARED"/corpus/train/*.txt; do
  name=$(basename "$f")
  total=$(wc -l < "$f")
  keep=$(( total - total / 20 ))
  head -n "$keep" "$f" > "$OUT/train/$name"
  tail -n +"$(( keep + 1 ))" "$f" > "$OUT/heldout/$name"
done
for f in "$SHARED"/corpus/parallel/*.txt; do
  tail -n +1001 "$f" > "$OUT/parallel/$(basename "$f")"
done
specs=()
for p in $PATTERNS; do
  if [ ! -f "$OUT/$p.json" ]; then
    /usr/bin/time -f "$p: %e s, %M KB" "$VOCAB" train --recipe vocab/recipes/euro-65k.toml --no-balance \
      --pattern "$p" --corpus "$OUT/train" --out "$OUT/$p.json" --quiet
  fi
  specs+=("$p=$OUT/$p.json")
done
"$VOCAB" compare "${specs[@]}" --texts "$OUT/heldout" --quiet --format md --out "$OUT/heldout.md"
"$VOCAB" compare "${specs[@]}" --parallel "$OUT/parallel" --quiet --format md --out "$OUT/parallel.md"
"$VOCAB" compare "${specs[@]}" --texts "$OUT/heldout" --quiet --format json --out "$OUT/heldout.json"
"$VOCAB" compare "${specs[@]}" --parallel "$OUT/parallel" --quiet --format json --out "$OUT/parallel.json"
cat "$OUT/heldout.md" "$OUT/parallel.md"
