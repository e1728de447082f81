"""Side-by-side encoding speed: polybpe vs gigatoken, fastokens, riptoken, tokie (and, with --libs,
tiktoken, bpe-openai, kitoken and HF tokenizers), measured in one run on the same text, with the same ids.

Vocabularies (from ../shared/tokenizers; `--own` adds a polybpe-trained tokenizer.json, e.g. the
output of `vocab train --recipe vocab/recipes/euro-65k.toml`):

    gpt2     HF gpt2.json (riptoken: r50k_base.tiktoken, the same ids)
    olmo2    OLMo-2's allenai_dolma2.json (riptoken: cl100k_base.tiktoken, the same ids)
    llama3   Llama 3's tokenizer.model rank file, cl100k split
    o200k    o200k_base.tiktoken
    qwen     qwen.tiktoken, Qwen2 split (single digits)
    own      the file given with --own (polybpe's default split)

Text: the first `--bytes` of each ../shared/corpus/train file. `--docs lines` makes each line a
document (74,559 documents for 1 MB per file); `--docs files` makes each file one document.

Columns, for each library that has the call:
    single   one `encode` call per document, one thread, each library's own return type (lists,
             except gigatoken's numpy arrays)
    single_arrays  one `encode` call per document returning a numpy array (polybpe
             `return_numpy=True`, gigatoken's `encode`), one thread
    lists    the batch call returning Python lists (all cores)
    arrays   the batch call returning arrays (polybpe `return_numpy`, gigatoken's awkward array,
             fastokens `encode_batch_flat`)
    files    the library reads the files itself (polybpe and gigatoken `encode_files`)

`--cache warm`: every library keeps one tokenizer and the same text; each column's call runs
once on the text before timing. `--cache cold`: every timed call gets a freshly loaded tokenizer (load not timed)
and round r reads the r-th `--bytes` slice of each file, so no round meets text a tokenizer has
seen (a library whose cache outlives its tokenizer object would still profit from earlier rounds
of the same run).

Rounds are interleaved (each round runs every library and column once) and each cell keeps its
best time, because this shared machine's speed drifts within minutes. Every library's ids must
equal polybpe's, or the run fails. Ratios are polybpe's speed over gigatoken's.

    .venv/bin/pip install -r benches/requirements.txt
    .venv/bin/python benches/peers.py [--vocabs gpt2,olmo2,...] [--docs lines|files]
                                      [--cache warm|cold] [--rounds 3] [--own default.json]
"""

import argparse
import gc
import os
import tempfile
import time
from itertools import chain
from pathlib import Path

# numpy's OpenBLAS threads wait for work by spinning: on two cores they took 5% of a profile's
# samples from the libraries measured. Nothing here multiplies matrices.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import polybpe

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("single", "single_arrays", "lists", "arrays", "files")

# name -> (tokenizer.json, or None) / (rank file, polybpe pattern, gigatoken scheme, tiktoken regex)
CL100K_REGEX = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
O200K_REGEX = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""", r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""", r"""\s*[\r\n]+""", r"""\s+(?!\S)""", r"""\s+""",
])
GPT2_REGEX = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
QWEN_REGEX = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""


class Vocab:
    """Where one vocabulary comes from, for each library."""

    def __init__(self, name, json=None, ranks=None, pattern=None, scheme=None, regex=None):
        self.name, self.json, self.ranks, self.pattern, self.scheme, self.regex = name, json, ranks, pattern, scheme, regex


def vocabularies(tok: Path, own: Path | None) -> dict[str, Vocab]:
    v = {
        "gpt2": Vocab("gpt2", json=tok / "gpt2" / "gpt2.json", ranks=tok / "r50k_base" / "r50k_base.tiktoken", regex=GPT2_REGEX),
        "olmo2": Vocab("olmo2", json=tok / "olmo-dolma2" / "allenai_dolma2.json", ranks=tok / "cl100k_base" / "cl100k_base.tiktoken", regex=CL100K_REGEX),
        "llama3": Vocab("llama3", ranks=tok / "llama3-tiktoken" / "tokenizer.model", pattern="llama3", scheme="gpt4", regex=CL100K_REGEX),
        "o200k": Vocab("o200k", ranks=tok / "o200k_base" / "o200k_base.tiktoken", pattern="o200k", scheme="o200k", regex=O200K_REGEX),
        "qwen": Vocab("qwen", ranks=tok / "qwen-tiktoken" / "qwen.tiktoken", pattern="qwen", scheme="qwen2", regex=QWEN_REGEX),
    }
    if own is not None:
        v["own"] = Vocab("own", json=own)
    return v


def flat(seqs) -> tuple[np.ndarray, np.ndarray]:
    """(all ids, per-document lengths) of a sequence of id lists or arrays."""
    seqs = list(seqs)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
    ids = np.fromiter(chain.from_iterable(seqs), dtype=np.uint32, count=int(lengths.sum()))
    return ids, lengths


# Each library: load(vocab) -> tokenizer or None (not supported), and per column a function
# (tokenizer, docs or files) -> result, and a canonicalizer result -> (ids, lengths).


class Polybpe:
    name = "polybpe"

    def load(self, v):
        if v.json is not None:
            return polybpe.Tokenizer.from_file(v.json)
        return polybpe.Tokenizer.from_tiktoken(v.ranks, pattern=v.pattern)

    def single(self, t, docs):
        return [t.encode(x, disallowed_special=()) for x in docs]

    def single_arrays(self, t, docs):
        return [t.encode(x, return_numpy=True, disallowed_special=()) for x in docs]

    def lists(self, t, docs):
        return t.encode_batch(docs, disallowed_special=())

    def arrays(self, t, docs):
        return t.encode_batch(docs, return_numpy=True, disallowed_special=())

    def files(self, t, files, per_file):
        if not hasattr(t, "encode_files"):
            return None
        return t.encode_files([str(f) for f in files], doc_per_file=per_file)

    def canonical(self, column, out):
        if column in ("arrays", "files"):
            ids, offsets = out
            return np.asarray(ids, dtype=np.uint32), np.diff(np.asarray(offsets, dtype=np.int64))
        return flat(out)


class Gigatoken:
    name = "gigatoken"

    def load(self, v):
        import gigatoken

        if v.json is not None:
            try:
                return gigatoken.Tokenizer(str(v.json))
            except Exception as e:  # refuses split patterns it has no fast path for
                print(f"  gigatoken cannot load {v.name}: {e}")
                return None
        try:
            if v.scheme is None:
                return gigatoken.Tokenizer.from_tiktoken(v.ranks)
            return gigatoken.Tokenizer.from_tiktoken(v.ranks, pretokenizer=v.scheme, special_tokens={})
        except BaseException as e:  # a Rust panic on Llama 3's rank file is a BaseException
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            print(f"  gigatoken cannot load {v.name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            return None

    def single(self, t, docs):
        return [t.encode(x) for x in docs]

    # Its `encode` returns an array already: one call, timed in both cells.
    single_arrays = single

    def lists(self, t, docs):
        return t.encode_batch_list(docs)

    def arrays(self, t, docs):
        return t.encode_batch(docs)

    def files(self, t, files, per_file):
        import gigatoken

        source = gigatoken.TextFileSource([str(f) for f in files], separator=None if per_file else "\n")
        return t.encode_files(source)

    def canonical(self, column, out):
        if column in ("arrays", "files"):
            import awkward as ak

            return np.asarray(ak.flatten(out), dtype=np.uint32), np.asarray(ak.num(out), dtype=np.int64)
        return flat(out)


class Fastokens:
    name = "fastokens"

    def load(self, v):
        import fastokens

        if v.json is not None:
            return fastokens.Tokenizer.from_file(str(v.json))
        return fastokens.Tokenizer.from_tiktoken(str(v.ranks), pattern=v.regex, special_tokens={})

    def single(self, t, docs):
        return [t.encode(x).ids for x in docs]

    def lists(self, t, docs):
        return [e.ids for e in t.encode_batch(docs)]

    def arrays(self, t, docs):
        return t.encode_batch_flat(docs)

    files = None

    def canonical(self, column, out):
        if column == "arrays":
            ids, offsets = out
            return np.frombuffer(ids, np.uint32), np.diff(np.frombuffer(offsets, np.uint64).astype(np.int64))
        return flat(out)


class TiktokenApi:
    """The calls of libraries shaped like tiktoken's `Encoding` (riptoken, bpe-openai)."""

    def single(self, t, docs):
        return [t.encode_ordinary(x) for x in docs]

    def lists(self, t, docs):
        return t.encode_ordinary_batch(docs)

    def canonical(self, column, out):
        return flat(out)


class Riptoken(TiktokenApi):
    """tiktoken rank files only (for gpt2 and olmo2, the r50k and cl100k files of the same ids)."""

    name = "riptoken"

    def load(self, v):
        import riptoken

        if v.ranks is None:
            return None
        return riptoken.CoreBPE(riptoken.load_tiktoken_bpe(str(v.ranks)), {}, v.regex)

    arrays = files = None


class Tokie:
    name = "tokie"

    def load(self, v):
        import tokie

        return tokie.Tokenizer.from_json(str(v.json)) if v.json is not None else None

    def single(self, t, docs):
        return [t.encode(x).ids for x in docs]

    def lists(self, t, docs):
        return [e.ids for e in t.encode_batch(docs)]

    arrays = files = None

    def canonical(self, column, out):
        return flat(out)


class Tiktoken:
    name = "tiktoken"

    def load(self, v):
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        if v.ranks is None:
            return None
        return tiktoken.Encoding(v.name, pat_str=v.regex, mergeable_ranks=load_tiktoken_bpe(str(v.ranks)), special_tokens={})

    def single(self, t, docs):
        return [t.encode_ordinary(x) for x in docs]

    def lists(self, t, docs):
        return t.encode_ordinary_batch(docs, num_threads=os.cpu_count())

    arrays = files = None

    def canonical(self, column, out):
        return flat(out)


class BpeOpenai(TiktokenApi):
    """cl100k and o200k only (its built-in encodings)."""

    name = "bpe-openai"

    def load(self, v):
        import bpe_openai

        names = {"cl100k_base.tiktoken": "cl100k_base", "o200k_base.tiktoken": "o200k_base"}
        name = names.get(v.ranks.name) if v.ranks is not None else None
        return bpe_openai.get_encoding(name) if name else None

    arrays = files = None


class Kitoken:
    name = "kitoken"

    def load(self, v):
        import kitoken

        if v.json is not None:
            return kitoken.Kitoken.from_tokenizers_file(str(v.json))
        return None

    def single(self, t, docs):
        return [t.encode(x) for x in docs]

    def lists(self, t, docs):
        return t.encode_all(docs)

    arrays = files = None

    def canonical(self, column, out):
        return flat(out)


class HfTokenizers:
    name = "hf-tokenizers"

    def load(self, v):
        from tokenizers import Tokenizer

        return Tokenizer.from_file(str(v.json)) if v.json is not None else None

    def single(self, t, docs):
        return [t.encode(x, add_special_tokens=False).ids for x in docs]

    def lists(self, t, docs):
        return [e.ids for e in t.encode_batch(docs, add_special_tokens=False)]

    arrays = files = None

    def canonical(self, column, out):
        return flat(out)


LIBRARIES = {c.name: c for c in (Polybpe, Gigatoken, Fastokens, Riptoken, Tokie, Tiktoken, BpeOpenai, Kitoken, HfTokenizers)}


def read_slices(shared: Path, limit: int, index: int, out_dir: Path) -> list[Path]:
    """Bytes [index * limit, (index + 1) * limit) of each train file, cut to whole lines, written
    to `out_dir` (so that the libraries that read files read the same text)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for f in sorted((shared / "corpus" / "train").glob("*.txt")):
        with open(f, "rb") as fh:
            data = fh.read((index + 1) * limit + 1)
        start = 0
        if index > 0:
            start = data.rfind(b"\n", 0, index * limit) + 1
        data = data[start:]
        data = data[: data.rfind(b"\n", 0, limit) + 1]
        if not data:
            raise SystemExit(f"{f} has no slice {index} of {limit} bytes: lower --bytes or --rounds")
        path = out_dir / f.name
        path.write_bytes(data)
        files.append(path)
    return files


def documents(files: list[Path], per_file: bool) -> list[str]:
    """Lines (the corpus readers' documents: split at \\n, empty lines skipped) or whole files."""
    docs = []
    for f in files:
        text = f.read_text("utf-8")
        docs.extend([text] if per_file else [line for line in text.split("\n") if line])
    return docs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("POLYBPE_SHARED", ROOT.parent / "shared")))
    ap.add_argument("--bytes", type=int, default=1_000_000, help="bytes read from each train file")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--vocabs", default="gpt2,olmo2,llama3,o200k,qwen,own")
    ap.add_argument("--libs", default="polybpe,gigatoken,fastokens,riptoken,tokie",
                    help=f"comma-separated, from {','.join(LIBRARIES)}")
    ap.add_argument("--columns", default=",".join(COLUMNS))
    ap.add_argument("--docs", choices=("lines", "files"), default="lines")
    ap.add_argument("--cache", choices=("warm", "cold"), default="warm")
    ap.add_argument("--own", type=Path, help="a polybpe tokenizer.json (the `own` vocabulary)")
    args = ap.parse_args()

    per_file = args.docs == "files"
    columns = args.columns.split(",")
    libs = [LIBRARIES[n]() for n in args.libs.split(",")]
    assert libs[0].name == "polybpe", "polybpe first: it is the reference"
    vocabs = vocabularies(args.shared / "tokenizers", args.own)
    tmp = Path(tempfile.mkdtemp(prefix="peers-"))
    slices = [read_slices(args.shared, args.bytes, r if args.cache == "cold" else 0, tmp / f"slice{r}") for r in range(args.rounds)]
    slice_docs = [documents(files, per_file) for files in slices]
    mb = sum(len(d.encode()) for d in slice_docs[0]) / 1e6
    print(f"{len(slice_docs[0])} documents ({args.docs}), {mb:.1f} MB, {args.cache} cache, {args.rounds} rounds, {os.cpu_count()} cores")

    for vname in args.vocabs.split(","):
        if vname not in vocabs:
            print(f"\n## {vname}: skipped (no --own file)" if vname == "own" else f"unknown vocabulary {vname}")
            continue
        v = vocabs[vname]
        loaded = {}
        for lib in libs:
            try:
                t = lib.load(v)
            except ImportError:
                t = None
            except Exception as e:  # e.g. fastokens refusing Llama 3's rank file
                print(f"  {lib.name} cannot load {vname}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
                t = None
            if t is not None:
                loaded[lib.name] = t
        if "polybpe" not in loaded:
            raise SystemExit(f"polybpe cannot load {vname}: it is the reference")
        active = [lib for lib in libs if lib.name in loaded]
        best = {(lib.name, c): float("inf") for lib in active for c in columns}
        results = {}
        for r in range(args.rounds):
            docs, files = slice_docs[r], slices[r]
            if args.cache == "warm" and r == 0:
                # Each call warms what it uses (a library's threads may split the work
                # differently in each call), so each column's own call runs once untimed.
                for lib in active:
                    for c in columns:
                        fn = getattr(lib, c, None)
                        if fn is not None:
                            fn(loaded[lib.name], *((files, per_file) if c == "files" else (docs,)))
            for lib in active:
                for c in columns:
                    fn = getattr(lib, c, None)
                    if fn is None:
                        continue
                    t = lib.load(v) if args.cache == "cold" else loaded[lib.name]
                    arg = (files, per_file) if c == "files" else (docs,)
                    gc.collect()
                    start = time.perf_counter()
                    out = fn(t, *arg)
                    elapsed = time.perf_counter() - start
                    if out is None:
                        continue
                    best[(lib.name, c)] = min(best[(lib.name, c)], elapsed)
                    results[(lib.name, c, r)] = lib.canonical(c, out)
        # Ids: every cell of every round equals polybpe's ids of that round (its first column).
        ref = next(c for c in columns if ("polybpe", c, 0) in results)
        bad = []
        for (name, c, r), (ids, lengths) in results.items():
            ref_ids, ref_lengths = results[("polybpe", ref, r)]
            same_ids = np.array_equal(ids, ref_ids)
            # Readers of files may keep empty lines as empty documents: compare non-empty ones.
            same_docs = np.array_equal(lengths[lengths > 0], ref_lengths[ref_lengths > 0])
            if not (same_ids and same_docs):
                bad.append(f"{name}/{c}/round {r}")
        tokens = len(results[("polybpe", ref, 0)][0])
        print(f"\n## {vname} ({tokens:,} tokens per round; MB/s, best of {args.rounds}; × = polybpe / gigatoken)")
        print(f"| library | {' | '.join(columns)} |")
        print(f"|---|{'---:|' * len(columns)}")
        speed = {k: (mb / t if t != float("inf") else None) for k, t in best.items()}
        for lib in active:
            if getattr(lib, "single_arrays", None) == lib.single and {"single", "single_arrays"} <= set(columns):
                # One call timed in two cells: both keep the best of all its runs.
                both = max(speed[(lib.name, "single")] or 0, speed[(lib.name, "single_arrays")] or 0) or None
                speed[(lib.name, "single")] = speed[(lib.name, "single_arrays")] = both
        for lib in active:
            cells = [f"{speed[(lib.name, c)]:.1f}" if speed.get((lib.name, c)) else "—" for c in columns]
            print(f"| {lib.name} | {' | '.join(cells)} |")
        if "gigatoken" in loaded:
            ratios = []
            for c in columns:
                ours, theirs = speed.get(("polybpe", c)), speed.get(("gigatoken", c))
                ratios.append(f"{ours / theirs:.2f}×" if ours and theirs else "—")
            print(f"| polybpe / gigatoken | {' | '.join(ratios)} |")
        if bad:
            raise SystemExit(f"ids differ from polybpe's: {', '.join(bad)}")
        print("ids: every library equal to polybpe in every cell")


if __name__ == "__main__":
    main()
