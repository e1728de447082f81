#!/usr/bin/env python3
"""Training speed side by side: polybpe, HF tokenizers, rustbpe, bpeasy and SentencePiece train a
vocabulary on the same files in one run; wall time, peak memory and bytes/token on held-out
text, with ratios against HF.

    .venv/bin/python benches/train_peers.py [--vocab-size 65536] [--corpus ../shared/corpus/train]
        [--heldout ../shared/corpus/parallel] [--peers polybpe hf rustbpe bpeasy sentencepiece]

Balanced trainers side by side (`--parity`): polybpe plain, hard parity and soft parity, and HF's
`ParityBpeTrainer` (tokenizers >= 0.23, the parity-aware BPE paper's algorithm, also with
`--hf-global-merges K` plain merges first) train on the corpus files of the languages that have
parallel dev text, with the cl100k split and the same dev lines (`--dev-lines`, 1:1000 of
--heldout); each is scored on the parallel lines after the dev range (never seen in training):
bytes/token pooled and the Gini of the per-language token totals.

    .venv/bin/python benches/train_peers.py --parity [--peers polybpe-plain polybpe-hard
        polybpe-soft8 polybpe-soft40 hf-parity hf-parity-global]

Each trainer runs in its own process, measured by /usr/bin/time (wall, peak RSS), in turn.
Every byte-level trainer uses the cl100k split pattern and min frequency 2 where it has one;
SentencePiece (BPE model, byte fallback, all sentences) splits on whitespace only. Documents are
the lines of the corpus files. Needs `cargo build --release -p vocab`, the polybpe Python
package, and `pip install -r benches/requirements.txt`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CL100K = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
PEERS = ["polybpe", "hf", "rustbpe", "bpeasy", "sentencepiece"]
PARITY_PEERS = ["polybpe-plain", "polybpe-hard", "polybpe-soft8", "polybpe-soft40", "hf-parity", "hf-parity-global"]
# `vocab train` flags of the polybpe modes; {dev} and {lines} are the dev directory and range.
POLYBPE_MODES = {
    "polybpe-plain": [],
    "polybpe-hard": ["--parity-dev", "{dev}", "--dev-lines", "{lines}"],
    "polybpe-soft8": ["--parity-dev", "{dev}", "--dev-lines", "{lines}", "--weighting", "uniform", "--parity-strength", "8"],
    "polybpe-soft40": ["--parity-dev", "{dev}", "--dev-lines", "{lines}", "--weighting", "uniform", "--parity-strength", "40"],
}


def line_range(text: str, n: int) -> tuple[int, int]:
    """A `vocab` line range (FIRST:LAST, 1-based inclusive) as a 0-based slice."""
    a, b = text.split(":")
    return (int(a) - 1 if a else 0), (int(b) if b else n)


def parity_split(heldout: Path, dev_lines: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The parallel files' dev lines and the lines after them (held out), per language."""
    dev, held = {}, {}
    for f in sorted(heldout.glob("*.txt")):
        lines = f.read_text(encoding="utf-8").splitlines()
        a, b = line_range(dev_lines, len(lines))
        dev[f.stem], held[f.stem] = lines[a:b], [l for l in lines[b:] if l]
    return dev, held


def gini(values: list[float]) -> float:
    n, mean = len(values), sum(values) / len(values)
    return sum(abs(a - b) for a in values for b in values) / (2 * n * n * mean)


def score_parity(tokenizer_json: Path, held: dict[str, list[str]]) -> dict:
    """Pooled held-out bytes/token and the Gini of per-language token totals, encoded by HF
    `tokenizers` (which loads every trainer's tokenizer.json the same way)."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    tokens = {lang: sum(len(e.ids) for e in tok.encode_batch(lines, add_special_tokens=False)) for lang, lines in held.items()}
    nbytes = sum(len(l.encode()) for lines in held.values() for l in lines)
    return {"bytes_per_token": nbytes / sum(tokens.values()), "gini": gini(list(tokens.values())), "tokens": tokens}


def run_hf_parity(files: list[Path], vocab_size: int, out: Path, dev: dict[str, list[str]], global_merges: int) -> float:
    """Trains HF's ParityBpeTrainer (one iterator per language, dev lines per language) and
    saves it; returns the training seconds."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(CL100K), "isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.ParityBpeTrainer(
        num_merges=vocab_size - 256, min_frequency=2, global_merges=global_merges, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    langs = [f.stem for f in files]
    start = time.perf_counter()
    trainer.train_from_iterator(tok, train_iterators=[lines([f]) for f in files], dev_iterators=[iter(dev[l]) for l in langs])
    seconds = time.perf_counter() - start
    tok.save(str(out))
    return seconds


def parity_main(args, files: list[Path]) -> None:
    dev, held = parity_split(args.heldout, args.dev_lines)
    files = [f for f in files if f.stem in dev]
    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{len(files)} files ({', '.join(f.stem for f in files)}), {mb:.1f} MB, vocab {args.vocab_size} "
          f"({args.vocab_size - 256} merges), cl100k split, dev lines {args.dev_lines}, {os.cpu_count()} cores")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp)
        for peer in args.peers:
            out = out_dir / f"{peer}.json"
            if peer in POLYBPE_MODES:
                flags = [f.replace("{dev}", str(args.heldout)).replace("{lines}", args.dev_lines) for f in POLYBPE_MODES[peer]]
                cmd = [str(ROOT / "target" / "release" / "vocab"), "train", "--out", str(out), "--vocab-size", str(args.vocab_size),
                       "--pattern", "cl100k", "--special-tokens", "none", "--min-frequency", "2", "-q"]
                for f in files:
                    cmd += ["--corpus", str(f)]
                wall, peak, _ = measure(cmd + flags)
            elif peer in ("hf-parity", "hf-parity-global"):
                cmd = [sys.executable, __file__, "--parity", "--one", peer, "--out-dir", str(out_dir), "--corpus", str(args.corpus),
                       "--heldout", str(args.heldout), "--vocab-size", str(args.vocab_size), "--dev-lines", args.dev_lines,
                       "--hf-global-merges", str(args.hf_global_merges)]
                wall, peak, _ = measure(cmd)
            else:
                raise SystemExit(f"unknown parity peer {peer} (one of {', '.join(PARITY_PEERS)})")
            row = {"peer": peer, "wall": wall, "peak_mb": peak, **score_parity(out, held)}
            results.append(row)
            print(f"  {peer:<18} wall {wall:6.1f} s  peak {peak:5d} MB  held-out bytes/token {row['bytes_per_token']:.3f}  "
                  f"Gini {row['gini']:.4f}", flush=True)
    plain = next((r for r in results if r["peer"] == "polybpe-plain"), None)
    print()
    print("| trainer | Gini held-out | bytes/token held-out (pooled) | vs plain | train time | peak memory |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        rel = f"{100 * (r['bytes_per_token'] / plain['bytes_per_token'] - 1):+.1f}%" if plain else "-"
        print(f"| {r['peer']} | {r['gini']:.4f} | {r['bytes_per_token']:.3f} | {rel} | {r['wall']:.1f} s | {r['peak_mb']} MB |")


def lines(files: list[Path]):
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                line = line.rstrip("\n")
                if line:
                    yield line


def heldout_lines(heldout: Path) -> list[str]:
    return [l for f in sorted(heldout.glob("*.txt")) for l in f.read_text(encoding="utf-8").splitlines() if l]


def run_one(name: str, files: list[Path], vocab_size: int, out_dir: Path, heldout: Path) -> dict:
    """Trains one peer (in this process) and measures bytes/token on held-out text."""
    texts = heldout_lines(heldout)
    start = time.perf_counter()
    if name == "hf":
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(CL100K), "isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
        )
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, min_frequency=2, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        )
        tok.train([str(f) for f in files], trainer)
        seconds = time.perf_counter() - start
        tok.save(str(out_dir / "hf.json"))
        tokens = sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False))
    elif name == "rustbpe":
        import rustbpe
        import tiktoken

        tok = rustbpe.Tokenizer()
        tok.train_from_iterator(lines(files), vocab_size, pattern=CL100K)
        seconds = time.perf_counter() - start
        ranks = {bytes(k): v for k, v in tok.get_mergeable_ranks()}
        enc = tiktoken.Encoding("rustbpe", pat_str=CL100K, mergeable_ranks=ranks, special_tokens={})
        tokens = sum(len(x) for x in enc.encode_ordinary_batch(texts))
    elif name == "bpeasy":
        import bpeasy
        import tiktoken

        vocab = bpeasy.train_bpe(lines(files), CL100K, 128, vocab_size)
        seconds = time.perf_counter() - start
        enc = tiktoken.Encoding("bpeasy", pat_str=CL100K, mergeable_ranks=vocab, special_tokens={})
        tokens = sum(len(x) for x in enc.encode_ordinary_batch(texts))
    elif name == "sentencepiece":
        import sentencepiece as spm

        prefix = out_dir / "spm"
        spm.SentencePieceTrainer.train(
            input=",".join(str(f) for f in files), model_prefix=str(prefix), vocab_size=vocab_size, model_type="bpe",
            byte_fallback=True, character_coverage=1.0, input_sentence_size=0, max_sentence_length=1 << 20,
            num_threads=os.cpu_count() or 1, minloglevel=2,
        )
        seconds = time.perf_counter() - start
        sp = spm.SentencePieceProcessor(model_file=str(prefix) + ".model")
        tokens = sum(len(x) for x in sp.encode(texts))
    else:
        raise SystemExit(f"unknown peer {name}")
    nbytes = sum(len(t.encode()) for t in texts)
    return {"peer": name, "train_seconds": seconds, "bytes_per_token": nbytes / tokens}


def measure(cmd: list[str]) -> tuple[float, int, str]:
    """Runs `cmd` under /usr/bin/time: wall seconds, peak RSS in MB, stdout."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        start = time.perf_counter()
        run = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", t.name] + cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if run.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{run.stderr[-3000:]}")
        peak_kb = int(Path(t.name).read_text().strip().splitlines()[-1])
    return wall, peak_kb // 1024, run.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(os.environ.get("POLYBPE_SHARED", ROOT.parent / "shared"))
    parser.add_argument("--corpus", type=Path, default=shared / "corpus" / "train")
    parser.add_argument("--heldout", type=Path, default=shared / "corpus" / "parallel")
    parser.add_argument("--vocab-size", type=int, default=65536)
    parser.add_argument("--peers", nargs="+")
    parser.add_argument("--parity", action="store_true", help="balanced trainers side by side (see above)")
    parser.add_argument("--dev-lines", default="1:1000", help="dev lines of the parallel files; the lines after are held out")
    parser.add_argument("--hf-global-merges", type=int, default=16000, help="plain merges first, for hf-parity-global")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*.txt"))
    if args.parity:
        if args.one:
            dev, _ = parity_split(args.heldout, args.dev_lines)
            k = args.hf_global_merges if args.one == "hf-parity-global" else 0
            run_hf_parity([f for f in files if f.stem in dev], args.vocab_size, args.out_dir / f"{args.one}.json", dev, k)
            return
        args.peers = args.peers or PARITY_PEERS
        parity_main(args, files)
        return
    args.peers = args.peers or PEERS

    if args.one:
        print(json.dumps(run_one(args.one, files, args.vocab_size, args.out_dir, args.heldout)))
        return

    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{len(files)} files, {mb:.1f} MB, vocab {args.vocab_size}, {os.cpu_count()} cores")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp)
        for peer in args.peers:
            if peer == "polybpe":
                out = out_dir / "polybpe.json"
                cmd = [str(ROOT / "target" / "release" / "vocab"), "train", "--corpus", str(args.corpus), "--out", str(out),
                       "--vocab-size", str(args.vocab_size), "--pattern", "cl100k", "--special-tokens", "none", "-q"]
                wall, peak, _ = measure(cmd)
                import polybpe

                tok = polybpe.Tokenizer.from_file(out)
                texts = heldout_lines(args.heldout)
                tokens = sum(len(x) for x in tok.encode_batch(texts))
                row = {"peer": peer, "train_seconds": wall, "bytes_per_token": sum(len(t.encode()) for t in texts) / tokens}
            else:
                cmd = [sys.executable, __file__, "--one", peer, "--out-dir", str(out_dir), "--corpus", str(args.corpus),
                       "--heldout", str(args.heldout), "--vocab-size", str(args.vocab_size)]
                wall, peak, stdout = measure(cmd)
                row = json.loads(stdout.strip().splitlines()[-1])
            row.update(wall=wall, peak_mb=peak)
            results.append(row)
            print(f"  {peer:<14} wall {wall:6.1f} s  peak {peak:5d} MB  bytes/token {row['bytes_per_token']:.3f}", flush=True)
    hf = next((r for r in results if r["peer"] == "hf"), None)
    print()
    print("| trainer | wall | peak RSS | bytes/token (held-out) | wall vs HF | memory vs HF |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        ratio = (f"{r['wall'] / hf['wall']:.2f}×", f"{r['peak_mb'] / hf['peak_mb']:.2f}×") if hf else ("-", "-")
        print(f"| {r['peer']} | {r['wall']:.1f} s | {r['peak_mb']} MB | {r['bytes_per_token']:.3f} | {ratio[0]} | {ratio[1]} |")


if __name__ == "__main__":
    main()
