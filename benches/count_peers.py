#!/usr/bin/env python3
"""Training's first phase side by side: pre-tokenize a corpus and count its distinct pieces.

    .venv/bin/python benches/count_peers.py [--corpus ../shared/corpus/train] [--rounds 3]

- polybpe: `polybpe.count(files=...)` with the GPT-2 split, no normalization, no special tokens:
  reads the files (one document per line), counts per language, sorts, and returns the count
  file's bytes (what `vocab count` writes).
- gigatoken: `pretokenized_counts(data, b"\\n")` on the same files' bytes, joined, already in
  memory (its reading is not timed), with its built-in GPT-2 pre-tokenizer (the only split its
  trainer has), returning a list of (piece, count).
- gigatoken, files: the same call, timed with the reading and joining of the files that its
  Python API needs in memory (the comparison "on the same files").

Both run in this process on all cores, interleaved, best of `--rounds`; the run fails unless both
find the same number of distinct pieces and of piece occurrences. Prints MB/s and the ratio
polybpe / gigatoken (above 1: polybpe is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def count_file_totals(data: bytes) -> tuple[int, int]:
    """(distinct words, word occurrences) from a polybpe count file's header."""
    assert data[:8] == b"PBPECNT\n", "not a count file"
    (header_len,) = struct.unpack_from("<I", data, 12)
    header = json.loads(data[16 : 16 + header_len])
    return header["words"], sum(t["words"] for t in header["per_language"])


def main() -> None:
    shared = Path(os.environ.get("POLYBPE_SHARED", ROOT.parent / "shared"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=shared / "corpus" / "train")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import gigatoken.gigatoken_rs as gigatoken
    import polybpe

    files = sorted(args.corpus.glob("*.txt"))
    if not files:
        sys.exit(f"no .txt files in {args.corpus}")
    data = b"".join(f.read_bytes().rstrip(b"\n") + b"\n" for f in files)
    mb = len(data) / 1e6

    def run_polybpe() -> tuple[int, int]:
        counts = polybpe.count(files=[str(f) for f in files], pattern="gpt2", normalization="none", special_tokens="none", quiet=True)
        return count_file_totals(counts)

    def run_gigatoken() -> tuple[int, int]:
        pieces = gigatoken.pretokenized_counts(data, b"\n")
        return len(pieces), sum(n for _, n in pieces)

    def run_gigatoken_files() -> tuple[int, int]:
        joined = b"".join(f.read_bytes().rstrip(b"\n") + b"\n" for f in files)
        pieces = gigatoken.pretokenized_counts(joined, b"\n")
        return len(pieces), sum(n for _, n in pieces)

    runs = {"polybpe": run_polybpe, "gigatoken": run_gigatoken, "gigatoken, files": run_gigatoken_files}
    best: dict[str, float] = {}
    found: dict[str, tuple[int, int]] = {}
    for round_ in range(args.rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            found[name] = run()
            seconds = time.perf_counter() - start
            best[name] = min(best.get(name, seconds), seconds)
            print(f"round {round_ + 1}: {name} {seconds:.3f} s", file=sys.stderr)
    for name in runs:
        if found[name] != found["polybpe"]:
            sys.exit(f"the counts differ: polybpe {found['polybpe']}, {name} {found[name]} (distinct, occurrences)")
    distinct, occurrences = found["polybpe"]
    print(f"{len(files)} files, {mb:.1f} MB, {distinct:,} distinct pieces, {occurrences:,} occurrences; best of {args.rounds}, {os.cpu_count()} cores\n")
    print("| counter | seconds | MB/s |")
    print("|---|---:|---:|")
    for name in runs:
        print(f"| {name} | {best[name]:.3f} | {mb / best[name]:.1f} |")
    print(f"\npolybpe / gigatoken: {best['gigatoken'] / best['polybpe']:.2f}× (data in memory), "
          f"{best['gigatoken, files'] / best['polybpe']:.2f}× (reading the files)")


if __name__ == "__main__":
    main()
