#!/usr/bin/env python3
"""Trains vocabularies under several balancing modes and measures how evenly they serve languages.

    .venv/bin/python scripts/balance_report.py [--sizes 32768 65536] [--modes plain uniform ...]
        [--out vocab/BALANCE.md] [--shared ../shared]

Every mode is `vocab train` on ../shared/corpus/train with the euro-65k recipe's inputs and flags
of its own (see MODES). The dev set of the parity modes is lines 1-1000 of
../shared/corpus/parallel; lines 1001-1997 are held out: training never sees them. Measured per
vocabulary:
- tokens per language on the dev lines, the held-out lines and parallel_udhr (which has Latin);
- the Gini of those per-language totals, sum_i sum_j |c_i - c_j| / (2 n^2 mean), and max/min;
- bytes/token over all training text, chars/token on train/historical.txt and train/la.txt;
- training time (wall clock, as `vocab train` reports it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import polybpe

ROOT = Path(__file__).resolve().parent.parent
DEV_LINES = (1, 1000)

# name -> extra `vocab train` flags. {dev} is replaced by the parallel directory.
MODES: dict[str, list[str]] = {
    "plain": ["--no-balance"],
    "uniform": ["--no-balance", "--weighting", "uniform"],
    "temp0.3": ["--no-balance", "--weighting", "temperature=0.3"],
    "parity": ["--no-balance", "--parity-dev", "{dev}", "--dev-lines", "1:1000"],
    "parity-hybrid": ["--no-balance", "--parity-dev", "{dev}", "--dev-lines", "1:1000", "--global-merges", "{hybrid}"],
    "default": [],
}


def gini(values: list[float]) -> float:
    n = len(values)
    mean = sum(values) / n
    return sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def parallel_sets(shared: Path) -> dict[str, dict[str, list[str]]]:
    par = shared / "corpus" / "parallel"
    udhr = shared / "corpus" / "parallel_udhr"
    langs = sorted(p.stem for p in par.glob("*.txt"))
    first, last = DEV_LINES
    full = {lang: read_lines(par / f"{lang}.txt") for lang in langs}
    return {
        "dev": {lang: lines[first - 1 : last] for lang, lines in full.items()},
        "held-out": {lang: lines[last:] for lang, lines in full.items()},
        "udhr": {p.stem: read_lines(p) for p in sorted(udhr.glob("*.txt"))},
    }


def train(name: str, size: int, flags: list[str], shared: Path, out_dir: Path) -> tuple[Path, float, str]:
    out = out_dir / f"{name}-{size}.json"
    cmd = [
        str(ROOT / "target" / "release" / "vocab"), "train",
        "--recipe", str(ROOT / "vocab" / "recipes" / "euro-65k.toml"),
        "--corpus", str(shared / "corpus" / "train"),
        "--vocab-size", str(size), "--out", str(out),
    ] + flags
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{run.stderr}")
    return out, seconds, run.stdout


def measure(tok: polybpe.Tokenizer, sets, train_texts) -> dict:
    row: dict = {}
    for set_name, texts in sets.items():
        totals = {lang: sum(len(ids) for ids in tok.encode_batch(lines)) for lang, lines in texts.items()}
        row[set_name] = totals
    total_bytes = total_tokens = 0
    for lang, lines in train_texts.items():
        ids = tok.encode_batch(lines)
        tokens = sum(len(x) for x in ids)
        nbytes = sum(len(line.encode()) for line in lines)
        total_bytes += nbytes
        total_tokens += tokens
        if lang in ("historical", "la"):
            row[f"{lang}_chars_per_token"] = sum(len(line) for line in lines) / tokens
    row["bytes_per_token"] = total_bytes / total_tokens
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=os.environ.get("POLYBPE_SHARED", str(ROOT.parent / "shared")))
    parser.add_argument("--sizes", type=int, nargs="+", default=[32768, 65536])
    parser.add_argument("--modes", nargs="*", default=list(MODES))
    parser.add_argument("--flags", action="append", default=[], metavar="NAME=FLAGS",
                        help="an extra mode: NAME='--flag value ...'")
    parser.add_argument("--hybrid", type=int, default=2000, help="global merges of parity-hybrid")
    parser.add_argument("--out", default=str(ROOT / "vocab" / "BALANCE.md"))
    parser.add_argument("--json", help="also write the raw numbers here")
    args = parser.parse_args()
    shared = Path(args.shared)
    modes = {m: MODES[m] for m in args.modes}
    for extra in args.flags:
        name, flags = extra.split("=", 1)
        modes[name] = flags.split()
    sets = parallel_sets(shared)
    train_dir = shared / "corpus" / "train"
    train_texts = {p.stem: read_lines(p) for p in sorted(train_dir.glob("*.txt"))}
    out_dir = ROOT / "out" / "balance"
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        for name, flags in modes.items():
            flags = [f.replace("{dev}", str(shared / "corpus" / "parallel")).replace("{hybrid}", str(args.hybrid)) for f in flags]
            path, seconds, stdout = train(name, size, flags, shared, out_dir)
            tok = polybpe.Tokenizer.from_file(str(path))
            row = measure(tok, sets, train_texts)
            shown = " ".join(flags).replace(str(shared / "corpus" / "parallel"), "../shared/corpus/parallel")
            row.update(mode=name, size=size, seconds=seconds, flags=shown)
            results.append(row)
            print(f"{name:>14} {size:>6}: " + "  ".join(
                f"{s} gini {gini(list(row[s].values())):.4f}" for s in sets) +
                f"  bytes/tok {row['bytes_per_token']:.4f}  hist c/t {row['historical_chars_per_token']:.3f}"
                f"  la c/t {row['la_chars_per_token']:.3f}  {seconds:.1f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    write_markdown(Path(args.out), results, sets)


def write_markdown(path: Path, results: list[dict], sets) -> None:
    lines = [
        "# Balancing merges across languages: measured",
        "",
        "Regenerate with `.venv/bin/python scripts/balance_report.py` (after `cargo build --release -p vocab`",
        "and `maturin develop --release` in tokenizer-py). Every vocabulary is trained on",
        "../shared/corpus/train with the euro-65k recipe's inputs; `dev` is lines 1-1000 of",
        "../shared/corpus/parallel (the parity modes' dev set), `held-out` lines 1001-1997 (never seen",
        "in training), `udhr` is parallel_udhr (with Latin, which has no dev text). Gini is over the",
        "per-language token totals of each set; bytes/tok is over all training text.",
        "",
        "| size | mode | Gini dev | Gini held-out | max/min held-out | Gini udhr | max/min udhr | bytes/tok | vs plain | historical chars/tok | vs plain | la chars/tok | train s |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    plain = {r["size"]: r for r in results if r["mode"] == "plain"}
    for r in results:
        base = plain.get(r["size"])
        def rel(key: str) -> str:
            return f"{100 * (r[key] / base[key] - 1):+.2f}%" if base else "-"
        h = list(r["held-out"].values())
        u = list(r["udhr"].values())
        lines.append(
            f"| {r['size']} | {r['mode']} | {gini(list(r['dev'].values())):.4f} | {gini(h):.4f} | {max(h) / min(h):.3f} | "
            f"{gini(u):.4f} | {max(u) / min(u):.3f} | {r['bytes_per_token']:.4f} | {rel('bytes_per_token')} | "
            f"{r['historical_chars_per_token']:.3f} | {rel('historical_chars_per_token')} | {r['la_chars_per_token']:.3f} | {r['seconds']:.1f} |"
        )
    lines += ["", "Flags of each mode (added to the recipe's settings):", ""]
    seen = set()
    for r in results:
        if r["mode"] not in seen:
            seen.add(r["mode"])
            lines.append(f"- `{r['mode']}`: `{r['flags'] or '(the recipe as it is)'}`")
    for set_name in sets:
        langs = list(results[0][set_name])
        lines += ["", f"## Tokens per language: {set_name}", "",
                  "| size | mode | " + " | ".join(langs) + " |", "|---:|---|" + "---:|" * len(langs)]
        for r in results:
            en = r[set_name].get("en")
            cells = [f"{r[set_name][l]} ({r[set_name][l] / en:.2f})" if en else str(r[set_name][l]) for l in langs]
            lines.append(f"| {r['size']} | {r['mode']} | " + " | ".join(cells) + " |")
    # Hand-written analysis below the marker survives regeneration.
    marker = "<!-- notes: kept when this file is regenerated -->"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = old[old.index(marker):] if marker in old else marker + "\n"
    path.write_text("\n".join(lines) + "\n\n" + notes)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
