#!/usr/bin/env python3
"""Compression and parity of tokenizer.json files on held-out text, with the real `tokenizers`.

    .venv/bin/python scripts/superword_heldout.py --heldout DIR --parallel DIR NAME=tokenizer.json ...

- `--heldout DIR`: one `<lang>.txt` per language, text no tokenizer trained on (for instance the
  last 10% of the lines of each training file, with training on the first 90%). Reported:
  bytes/token per language and pooled, and each tokenizer's gain over the first one.
- `--parallel DIR`: line-aligned `<lang>.txt` files (for instance lines 1001-1997 of the
  parallel set, never a dev line). Reported: the Gini of the per-language token totals,
  sum_i sum_j |c_i - c_j| / (2 n^2 mean), and max/min.

Every line is encoded on its own, without special tokens. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tokenizers import Tokenizer


def gini(values: list[float]) -> float:
    n = len(values)
    mean = sum(values) / n
    return sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


def read(directory: Path) -> dict[str, list[str]]:
    return {p.stem: p.read_text(encoding="utf-8").splitlines() for p in sorted(directory.glob("*.txt"))}


def tokens(tokenizer: Tokenizer, lines: list[str]) -> int:
    return sum(len(e.ids) for e in tokenizer.encode_batch(lines, add_special_tokens=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heldout", type=Path, required=True)
    parser.add_argument("--parallel", type=Path, required=True)
    parser.add_argument("tokenizers", nargs="+", metavar="NAME=PATH")
    args = parser.parse_args()
    named = [(spec.split("=", 1)[0], Tokenizer.from_file(spec.split("=", 1)[1])) for spec in args.tokenizers]
    heldout, parallel = read(args.heldout), read(args.parallel)
    langs = list(heldout)
    nbytes = {lang: sum(len(line.encode("utf-8")) for line in lines) for lang, lines in heldout.items()}
    counts = {name: {lang: tokens(tok, lines) for lang, lines in heldout.items()} for name, tok in named}
    base = named[0][0]

    print("Bytes/token on held-out text (gain over " + base + "):\n")
    print("| language | " + " | ".join(name for name, _ in named) + " |")
    print("|---|" + "---:|" * len(named))
    for lang in langs + ["pooled"]:
        cells = []
        for name, _ in named:
            if lang == "pooled":
                bpt = sum(nbytes.values()) / sum(counts[name].values())
                ref = sum(nbytes.values()) / sum(counts[base].values())
            else:
                bpt = nbytes[lang] / counts[name][lang]
                ref = nbytes[lang] / counts[base][lang]
            cells.append(f"{bpt:.3f}" if name == base else f"{bpt:.3f} ({100 * (bpt / ref - 1):+.1f}%)")
        print(f"| {lang} | " + " | ".join(cells) + " |")

    print("\nParity on the parallel lines (tokens per language):\n")
    print("| tokenizer | Gini | max/min | " + " | ".join(parallel) + " |")
    print("|---|---:|---:|" + "---:|" * len(parallel))
    for name, tok in named:
        totals = [tokens(tok, lines) for lines in parallel.values()]
        print(f"| {name} | {gini(totals):.4f} | {max(totals) / min(totals):.3f} | " + " | ".join(map(str, totals)) + " |")


if __name__ == "__main__":
    main()
