#!/usr/bin/env python3
"""One very long text in one `encode` call: time, and how much the peak memory grows.

    .venv/bin/python benches/long_text.py [--corpus ../shared/corpus/train] [--tokenizer gpt2.json] [--libs polybpe,gigatoken]

The text is every `.txt` file of the corpus joined (122 MB for ../shared/corpus/train), encoded
once with GPT-2's tokenizer.json (cold cache). Each library runs in a process of its own, so the
peak resident memory (`ru_maxrss`) of one does not hide the other's; the growth is the peak
after the call minus the peak before it (the text read and decoded). Ids must be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one(lib: str, corpus: Path, tokenizer: Path) -> dict:
    """Encodes the joined text with `lib` in this process; returns the measurements."""
    text = "".join(f.read_text(encoding="utf-8", errors="replace") for f in sorted(corpus.glob("*.txt")))
    if lib == "polybpe":
        import polybpe

        tok = polybpe.Tokenizer.from_file(str(tokenizer))
        encode = lambda: tok.encode(text, return_numpy=True, disallowed_special=())  # noqa: E731
    else:
        import gigatoken

        tok = gigatoken.Tokenizer(str(tokenizer))
        encode = lambda: tok.encode(text)  # noqa: E731
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    ids = encode()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    import hashlib

    return {
        "bytes": len(text.encode()),
        "ids": len(ids),
        "digest": hashlib.sha256(bytes(memoryview(ids.astype("uint32")))).hexdigest(),
        "seconds": seconds,
        "before_mb": before / 1e3,
        "growth_mb": (after - before) / 1e3,
    }


def main() -> None:
    shared = Path(os.environ.get("POLYBPE_SHARED", ROOT.parent / "shared"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=shared / "corpus" / "train")
    parser.add_argument("--tokenizer", type=Path, default=shared / "tokenizers" / "gpt2" / "gpt2.json")
    parser.add_argument("--libs", default="polybpe,gigatoken")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.corpus, args.tokenizer)))
        return
    results = {}
    for lib in args.libs.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--one", lib, "--corpus", str(args.corpus), "--tokenizer", str(args.tokenizer)],
            check=True, capture_output=True, text=True,
        )
        results[lib] = json.loads(out.stdout.strip().splitlines()[-1])
    first = next(iter(results.values()))
    print(f"one text of {first['bytes'] / 1e6:.1f} MB, {first['ids']:,} ids ({first['ids'] * 4 / 1e6:.0f} MB as uint32), {os.cpu_count()} cores")
    print("\n| library | seconds | peak memory growth |\n|---|---:|---:|")
    for lib, r in results.items():
        print(f"| {lib} | {r['seconds']:.2f} | {r['growth_mb']:.0f} MB |")
    if len({r["digest"] for r in results.values()}) != 1:
        sys.exit("ids differ between libraries")
    print("ids: equal")


if __name__ == "__main__":
    main()
