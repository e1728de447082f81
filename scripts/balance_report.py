#!/usr/bin/env python3
"""Trains vocabularies under several balancing modes and measures how evenly they serve languages.

    .venv/bin/python scripts/balance_report.py [--sizes 65536] [--modes plain default ...]
        [--heldout-share 0.05] [--out vocab/BALANCE.md] [--shared ../shared] [--vocab BIN]

Compression is judged on held-out text: the last `--heldout-share` of the lines of every file of
../shared/corpus/train is cut off (into out/balance/split/heldout/<lang>.txt) and never trained
on; every mode is `vocab train` on the heads (out/balance/split/train, the euro-65k recipe's
inputs) with flags of its own (see MODES), and `--heldout` on the tails, so the summary it prints
carries the same held-out numbers. The dev set of the parity modes is lines 1-1000 of
../shared/corpus/parallel; lines 1001-1997 are held out. Measured per vocabulary:
- tokens per language on the dev lines, the held-out parallel lines and parallel_udhr (which
  has Latin); the Gini of those per-language totals, sum_i sum_j |c_i - c_j| / (2 n^2 mean);
- bytes/token per language and pooled on the held-out tails, and in-sample (the trained heads);
- training time (wall clock) and peak memory (as `vocab train` reports it).
The report ends with the targets of the default recipe, met or not by every mode: the frontier
between parity (Gini) and compression (pooled, English).
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

from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
DEV_LINES = (1, 1000)

# name -> extra `vocab train` flags. {dev} is replaced by the parallel directory. "plain" is the
# baseline every other mode is judged against: plain BPE on the cl100k split (HF's trainer).
# Every other mode starts from the euro-65k recipe (cl100k split, uniform weights, soft parity
# at strength 8 against dev lines 1-1000, ratio targets for historical, code and Latin).
PARITY = ["--no-balance", "--weighting", "uniform", "--parity-dev", "{dev}", "--dev-lines", "1:1000"]
RATIOS = ["--ratio", "historical=3.75", "--ratio", "code=3.76", "--ratio", "la=4.45"]
HARD = PARITY + RATIOS
MODES: dict[str, list[str]] = {
    "plain": ["--no-balance", "--pattern", "cl100k"],
    "plain-qwen35": ["--no-balance", "--pattern", "qwen35"],
    "qwen35-soft8": ["--pattern", "qwen35", "--ratio", "historical=3.8", "--ratio", "code=3.658"],
    "default": [],
    # The frontier: soft parity strength, hard parity (the paper's) with tolerance or window,
    # superword merges with soft and hard parity.
    "soft4": ["--parity-strength", "4"],
    "soft16": ["--parity-strength", "16"],
    "soft40": ["--parity-strength", "40"],
    "soft100": ["--parity-strength", "100"],
    "parity": ["--no-balance", "--parity-dev", "{dev}", "--dev-lines", "1:1000"],
    "hard": HARD,
    "hard-tol0.05": HARD + ["--parity-tolerance", "0.05"],
    "hard-tol0.15": HARD + ["--parity-tolerance", "0.15"],
    "hard-window": HARD + ["--parity-window", "1000"],
    "hard-global32k": HARD + ["--global-merges", "32000"],
    "byte-premium": PARITY + ["--byte-premium", "4.3", "--ratio", "historical=3.9", "--ratio", "code=3.7"],
    "sw80": ["--superword-transition", "0.8"],
    "hard-sw80": HARD + ["--superword-transition", "0.8"],
}


def gini(values: list[float]) -> float:
    n = len(values)
    mean = sum(values) / n
    return sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def split_corpus(shared: Path, share: float, out: Path) -> tuple[Path, Path]:
    """Cuts the last `share` of every training file's lines off into a held-out file of its
    language; returns (train dir, held-out dir). Rewritten only when the split changed."""
    train, heldout = out / "train", out / "heldout"
    stamp = out / "share"
    if stamp.exists() and stamp.read_text() == repr(share):
        return train, heldout
    for d in (train, heldout):
        d.mkdir(parents=True, exist_ok=True)
    for f in sorted((shared / "corpus" / "train").glob("*.txt")):
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
        cut = len(lines) - max(1, int(len(lines) * share))
        (train / f.name).write_text("".join(lines[:cut]), encoding="utf-8")
        (heldout / f.name).write_text("".join(lines[cut:]), encoding="utf-8")
    # The recipe's dev set is ../parallel, relative to the corpus directory.
    link = out / "parallel"
    if not link.exists():
        link.symlink_to((shared / "corpus" / "parallel").resolve())
    stamp.write_text(repr(share))
    return train, heldout


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


# The default recipe's targets (held-out text): (label, test on a row and the plain row).
TARGETS = [
    ("Gini held-out ≤ 0.010", lambda r, p: gini(list(r["held-out"].values())) <= 0.010),
    ("Gini udhr ≤ 0.03", lambda r, p: gini(list(r["udhr"].values())) <= 0.03),
    ("pooled ≥ plain", lambda r, p: r["heldout_bpt"]["all"] >= p["heldout_bpt"]["all"]),
    ("every language ≥ 0.97×", lambda r, p: all(r["heldout_bpt"][l] >= 0.97 * p["heldout_bpt"][l] for l in p["heldout_bpt"])),
    ("historical ≥ +5%", lambda r, p: r["heldout_bpt"]["historical"] >= 1.05 * p["heldout_bpt"]["historical"]),
    ("la ≥ +0%", lambda r, p: r["heldout_bpt"]["la"] >= p["heldout_bpt"]["la"]),
]


def train(name: str, size: int, flags: list[str], corpus: Path, heldout: Path, out_dir: Path, vocab: str) -> tuple[Path, float, str]:
    out = out_dir / f"{name}-{size}.json"
    cmd = [
        vocab, "train",
        "--recipe", str(ROOT / "vocab" / "recipes" / "euro-65k.toml"),
        "--corpus", str(corpus), "--heldout", str(heldout.resolve()),
        "--vocab-size", str(size), "--out", str(out),
    ] + flags
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{run.stderr}")
    return out, seconds, run.stdout


def summary_tables(stdout: str) -> tuple[dict[str, float], dict[str, float]]:
    """Bytes/token per language and pooled ("all") from the summary `vocab train` prints: the
    held-out table (exact bytes and tokens) and the training-text table (in-sample)."""
    heldout, train, table = {}, {}, None
    bytes_tokens = {"heldout": [0, 0], "train": [0.0, 0]}
    for line in stdout.splitlines():
        cells = line.split()
        if cells[:1] == ["language"]:
            table = "heldout" if "lines" in cells else "train" if "docs" in cells else None
        elif table == "heldout" and len(cells) == 6:
            nbytes, tokens = int(cells[2]), int(cells[3])
            heldout[cells[0]] = nbytes / tokens
            bytes_tokens["heldout"][0] += nbytes
            bytes_tokens["heldout"][1] += tokens
        elif table == "train" and len(cells) == 8:
            tokens, bpt = int(cells[5]), float(cells[6])
            train[cells[0]] = bpt
            bytes_tokens["train"][0] += tokens * bpt
            bytes_tokens["train"][1] += tokens
        else:
            table = None
    heldout["all"] = bytes_tokens["heldout"][0] / bytes_tokens["heldout"][1]
    train["all"] = bytes_tokens["train"][0] / bytes_tokens["train"][1]
    return heldout, train


def measure(tok: Tokenizer, sets, stdout: str) -> dict:
    """Token totals per language of every parallel set (encoded by HF `tokenizers`, which loads
    polybpe's tokenizer.json exactly), held-out and in-sample bytes/token from the summary."""
    row: dict = {}
    for set_name, texts in sets.items():
        row[set_name] = {lang: sum(len(e.ids) for e in tok.encode_batch(lines, add_special_tokens=False)) for lang, lines in texts.items()}
    row["heldout_bpt"], row["train_bpt"] = summary_tables(stdout)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=os.environ.get("POLYBPE_SHARED", str(ROOT.parent / "shared")))
    parser.add_argument("--sizes", type=int, nargs="+", default=[65536])
    parser.add_argument("--heldout-share", type=float, default=0.05,
                        help="share of every training file's lines (its tail) held out, never trained on")
    parser.add_argument("--modes", nargs="*", default=list(MODES))
    parser.add_argument("--flags", action="append", default=[], metavar="NAME=FLAGS",
                        help="an extra mode: NAME='--flag value ...'")
    parser.add_argument("--hybrid", type=int, default=2000, help="global merges of parity-hybrid")
    parser.add_argument("--out", default=str(ROOT / "vocab" / "BALANCE.md"))
    parser.add_argument("--json", help="also write the raw numbers here")
    parser.add_argument("--vocab", default=str(ROOT / "target" / "release" / "vocab"), help="the vocab binary")
    args = parser.parse_args()
    shared = Path(args.shared)
    modes = {m: MODES[m] for m in args.modes}
    for extra in args.flags:
        name, flags = extra.split("=", 1)
        modes[name] = flags.split()
    sets = parallel_sets(shared)
    out_dir = ROOT / "out" / "balance"
    out_dir.mkdir(parents=True, exist_ok=True)
    train_dir, heldout_dir = split_corpus(shared, args.heldout_share, out_dir / "split")
    results = []
    for size in args.sizes:
        for name, flags in modes.items():
            flags = [f.replace("{dev}", str(shared / "corpus" / "parallel")).replace("{hybrid}", str(args.hybrid)) for f in flags]
            path, seconds, stdout = train(name, size, flags, train_dir, heldout_dir, out_dir, args.vocab)
            row = measure(Tokenizer.from_file(str(path)), sets, stdout)
            shown = " ".join(flags).replace(str(shared / "corpus" / "parallel"), "../shared/corpus/parallel")
            peak = re.search(r"peak memory: (\d+) MB", stdout)
            row.update(mode=name, size=size, seconds=seconds, flags=shown, peak_mb=int(peak.group(1)) if peak else None)
            results.append(row)
            print(f"{name:>14} {size:>6}: " + "  ".join(
                f"{s} gini {gini(list(row[s].values())):.4f}" for s in sets) +
                f"  held-out b/t {row['heldout_bpt']['all']:.4f}  in-sample b/t {row['train_bpt']['all']:.4f}"
                f"  {seconds:.1f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    write_markdown(Path(args.out), results, sets, args)


def write_markdown(path: Path, results: list[dict], sets, args) -> None:
    command = "scripts/balance_report.py " + " ".join(
        ["--sizes"] + [str(x) for x in args.sizes] + ["--modes"] + list(args.modes) + [f"--heldout-share {args.heldout_share}"]
        + [f"--flags '{f}'" for f in args.flags])
    lines = [
        "# Balancing merges across languages: measured",
        "",
        f"Regenerate with `.venv/bin/python {command}` (after `cargo build --release -p vocab`",
        "with HF `tokenizers` installed). Compression is judged on held-out text:",
        f"the last {args.heldout_share:.0%} of the lines of every file of ../shared/corpus/train is cut off and never",
        "trained on; every vocabulary is trained on the rest with the euro-65k recipe's inputs. `dev` is",
        "lines 1-1000 of ../shared/corpus/parallel (the parity modes' dev set), `held-out` lines 1001-1997",
        "(NTREX, never a dev line), `udhr` is parallel_udhr (with Latin, which has no dev text). Gini is",
        "over the per-language token totals of each set. \"plain\" is `--no-balance --pattern cl100k`,",
        "the baseline a user would otherwise pick (the merges HF's trainer learns); every \"vs plain\" is",
        "against it. In-sample is bytes/token on the trained text itself, which plain BPE maximizes by",
        "construction.",
        "",
        "| size | mode | Gini dev | Gini held-out | Gini udhr | held-out b/t | vs plain | worst language vs plain | historical vs plain | la vs plain | in-sample b/t | vs plain | train s | vs plain | peak MB |",
        "|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    plain = {r["size"]: r for r in results if r["mode"] == "plain"}
    for r in results:
        base = plain.get(r["size"])
        def rel(a: float, b: float) -> str:
            return f"{100 * (a / b - 1):+.2f}%"
        h, b = r["heldout_bpt"], base["heldout_bpt"] if base else None
        worst = min((h[l] / b[l], l) for l in h if l != "all") if b else None
        time_ratio = f"{r['seconds'] / base['seconds']:.2f}×" if base else "-"
        lines.append(
            f"| {r['size']} | {r['mode']} | {gini(list(r['dev'].values())):.4f} | {gini(list(r['held-out'].values())):.4f} | "
            f"{gini(list(r['udhr'].values())):.4f} | {h['all']:.4f} | {rel(h['all'], b['all']) if b else '-'} | "
            f"{f'{worst[1]} {worst[0]:.3f}×' if worst else '-'} | {rel(h['historical'], b['historical']) if b else '-'} | "
            f"{rel(h['la'], b['la']) if b else '-'} | {r['train_bpt']['all']:.4f} | "
            f"{rel(r['train_bpt']['all'], base['train_bpt']['all']) if base else '-'} | {r['seconds']:.1f} | "
            f"{time_ratio} | {r.get('peak_mb') or '-'} |"
        )
    lines += ["", "Flags of each mode (added to the recipe's settings):", ""]
    seen = set()
    for r in results:
        if r["mode"] not in seen:
            seen.add(r["mode"])
            lines.append(f"- `{r['mode']}`: `{r['flags'] or '(the recipe as it is)'}`")
    langs = [l for l in results[0]["heldout_bpt"] if l != "all"]
    for key, title in (("heldout_bpt", "held-out tails (never trained on)"), ("train_bpt", "in-sample (the trained text)")):
        lines += ["", f"## Bytes/token per language: {title}", "",
                  "| size | mode | " + " | ".join(langs) + " | pooled |", "|---:|---|" + "---:|" * (len(langs) + 1)]
        for r in results:
            base = plain.get(r["size"])
            cells = [f"{r[key][l]:.3f}" + (f" ({r[key][l] / base[key][l]:.3f}×)" if base else "") for l in langs + ["all"]]
            lines.append(f"| {r['size']} | {r['mode']} | " + " | ".join(cells) + " |")
    for set_name in sets:
        langs = list(results[0][set_name])
        lines += ["", f"## Tokens per language: {set_name}", "",
                  "| size | mode | " + " | ".join(langs) + " |", "|---:|---|" + "---:|" * len(langs)]
        for r in results:
            en = r[set_name].get("en")
            cells = [f"{r[set_name][l]} ({r[set_name][l] / en:.2f})" if en else str(r[set_name][l]) for l in langs]
            lines.append(f"| {r['size']} | {r['mode']} | " + " | ".join(cells) + " |")
    lines += ["", "## Targets of the default recipe, per mode (held-out text)", "",
              "Pooled and English bytes/token on the held-out tails against `plain`; ✓ where a target is met.", "",
              "| size | mode | Gini held-out | Gini udhr | pooled vs plain | en vs plain | "
              + " | ".join(label for label, _ in TARGETS) + " | met |",
              "|---:|---|---:|---:|---:|---:|" + ":---:|" * len(TARGETS) + "---:|"]
    for r in results:
        base = plain.get(r["size"])
        if not base:
            continue
        met = [test(r, base) for _, test in TARGETS]
        lines.append(
            f"| {r['size']} | {r['mode']} | {gini(list(r['held-out'].values())):.4f} | {gini(list(r['udhr'].values())):.4f} | "
            f"{100 * (r['heldout_bpt']['all'] / base['heldout_bpt']['all'] - 1):+.2f}% | "
            f"{r['heldout_bpt']['en'] / base['heldout_bpt']['en']:.3f}× | "
            + " | ".join("✓" if m else "·" for m in met) + f" | {sum(met)}/{len(met)} |"
        )
    # Hand-written analysis below the marker survives regeneration.
    marker = "<!-- notes: kept when this file is regenerated -->"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = old[old.index(marker):] if marker in old else marker + "\n"
    path.write_text("\n".join(lines) + "\n\n" + notes)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
