#!/usr/bin/env bash
# Regenerates vocab/REPORT.md and its charts: the default recipe's vocabulary against other
# projects' tokenizers on ../shared/corpus/parallel and parallel_udhr.
#
#   scripts/report.sh            (POLYBPE_SHARED moves ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${POLYBPE_SHARED:-../shared}
T=$SHARED/tokenizers
cargo build --release --quiet -p vocab
VOCAB=target/release/vocab
[ -f out/euro-65k.json ] || $VOCAB train --recipe vocab/recipes/euro-65k.toml --corpus "$SHARED/corpus/train" --quiet

TOKENIZERS=(
  "polybpe-euro-65k=out/euro-65k.json"
  "gpt2=$T/gpt2/gpt2.json"
  "cl100k=$T/cl100k_base/cl100k_base.tiktoken"
  "o200k=$T/o200k_base/o200k_base.tiktoken"
  "llama3=$T/llama3-tiktoken/tokenizer.model@llama3"
  "falcon=$T/falcon/tokenizer.json"
  "olmo2=$T/olmo-dolma2/allenai_dolma2.json"
  "mistral-7b=$T/mistral-7b-v0.1/tokenizer.json"
  "lucie-7b=$T/lucie-7b/tokenizer.json"
)
mkdir -p vocab/report
{
  echo "# Fertility report: polybpe euro-65k against other tokenizers"
  echo
  echo "Regenerate with \`scripts/report.sh\`; definitions of the columns are in the README"
  echo "(\"Comparing tokenizers across languages\"). Parity is against English on the same lines."
  echo "Mistral-7B's and Lucie-7B's counts include the \`▁\` their tokenizers put in front of"
  echo "each line."
  for set in parallel parallel_udhr; do
    echo
    echo "## ../shared/corpus/$set"
    echo
    echo "![parity and chars/token]($set.svg)"
    echo
    $VOCAB compare "${TOKENIZERS[@]}" --parallel "$SHARED/corpus/$set" --format md --chart "vocab/report/$set.svg" --quiet
    echo
    echo "Per tokenizer: Gini of the per-language token totals, and tokens never used."
    echo
    echo "| tokenizer | \|V\| | Gini | unused tokens |"
    echo "|---|---:|---:|---:|"
    $VOCAB compare "${TOKENIZERS[@]}" --parallel "$SHARED/corpus/$set" --format csv --quiet \
      | awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
                 !seen[$1]++ { printf "| %s | %s | %.4f | %s |\n", $1, $col["model_vocab"], $col["gini"], $col["unused_tokens"] }'
  done
} > vocab/REPORT.md.tmp
mv vocab/REPORT.md.tmp vocab/REPORT.md
echo "wrote vocab/REPORT.md and vocab/report/*.svg"
