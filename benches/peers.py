"""Side-by-side encoding speed on cl100k: polybpe vs tokie, tiktoken, bpe-openai, kitoken and
HF tokenizers, measured in one run on the same text.

Text: the first 1 MB of each ../shared/corpus/train file, each line a document. "single" encodes
document by document on one thread; "batch" hands all documents to the library's batch call
(all cores). Every library's token counts must agree with polybpe's, or the run fails.

    .venv/bin/pip install -r benches/requirements.txt
    .venv/bin/python benches/peers.py [--shared ../shared] [--repeat 3]
"""

import argparse
import os
import time
from pathlib import Path

import polybpe

ROOT = Path(__file__).resolve().parents[1]


def load_docs(shared: Path, limit: int) -> list[str]:
    docs = []
    for f in sorted((shared / "corpus" / "train").glob("*.txt")):
        data = f.read_bytes()[:limit]
        data = data[: data.rfind(b"\n")]
        docs.extend(data.decode("utf-8").splitlines())
    return docs


def tiktoken_encoding(name: str, ranks: Path):
    """tiktoken's own definition of `name` (pattern, specials), with ranks read from `ranks`
    instead of downloaded."""
    import tiktoken
    import tiktoken_ext.openai_public as public
    from tiktoken.load import load_tiktoken_bpe

    public.load_tiktoken_bpe = lambda *_args, **_kw: load_tiktoken_bpe(str(ranks))
    return tiktoken.Encoding(**getattr(public, name)())


def peers(shared: Path):
    """(name, single(docs) -> counts, batch(docs) -> counts) for each installed library."""
    tok_dir = shared / "tokenizers"
    dolma2 = tok_dir / "olmo-dolma2" / "allenai_dolma2.json"
    ranks = tok_dir / "cl100k_base" / "cl100k_base.tiktoken"

    if hasattr(polybpe.Tokenizer, "from_tiktoken"):
        ours = polybpe.Tokenizer.from_tiktoken(ranks, pattern="cl100k")
    else:
        ours = polybpe.Tokenizer.from_file(dolma2)
    yield ("polybpe", lambda d: [len(ours.encode(t, disallowed_special=())) for t in d],
           lambda d: [len(x) for x in ours.encode_batch(d, disallowed_special=())])

    try:
        import tokie

        t = tokie.Tokenizer.from_json(str(dolma2))
        yield ("tokie", lambda d: [len(t.encode(x).ids) for x in d], lambda d: [len(e.ids) for e in t.encode_batch(d)])
    except ImportError:
        pass
    try:
        enc = tiktoken_encoding("cl100k_base", ranks)
        yield ("tiktoken", lambda d: [len(enc.encode_ordinary(x)) for x in d],
               lambda d: [len(x) for x in enc.encode_ordinary_batch(d, num_threads=os.cpu_count())])
    except ImportError:
        pass
    try:
        import bpe_openai

        b = bpe_openai.get_encoding("cl100k_base")
        yield ("bpe-openai", lambda d: [len(b.encode_ordinary(x)) for x in d],
               lambda d: [len(x) for x in b.encode_ordinary_batch(d)])
    except ImportError:
        pass
    try:
        import kitoken

        k = kitoken.Kitoken.from_tiktoken_file(str(ranks))
        yield ("kitoken", lambda d: [len(k.encode(x)) for x in d], lambda d: [len(x) for x in k.encode_all(d)])
    except ImportError:
        pass
    try:
        from tokenizers import Tokenizer

        h = Tokenizer.from_file(str(dolma2))
        yield ("hf-tokenizers", lambda d: [len(h.encode(x, add_special_tokens=False).ids) for x in d],
               lambda d: [len(e.ids) for e in h.encode_batch(d, add_special_tokens=False)])
    except ImportError:
        pass


def best_time(f, docs, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = f(docs)
        best = min(best, time.perf_counter() - start)
    return best, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("POLYBPE_SHARED", ROOT.parent / "shared")))
    ap.add_argument("--bytes", type=int, default=1_000_000, help="bytes read from each train file")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    docs = load_docs(args.shared, args.bytes)
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    print(f"{len(docs)} documents, {mb:.1f} MB, {os.cpu_count()} cores")
    # Round-robin over the libraries, best time of each: the machine's speed drifts (shared
    # hosts), and interleaving spreads the drift evenly instead of favouring whoever ran first.
    libs = list(peers(args.shared))
    for _, _, batch in libs:
        batch(docs[:100])  # warm up (thread pools, caches of the first documents)
    best = {name: [float("inf"), float("inf")] for name, _, _ in libs}
    counts = {}
    for _ in range(args.repeat):
        for name, single, batch in libs:
            t1, c1 = best_time(single, docs, 1)
            tb, cb = best_time(batch, docs, 1)
            best[name] = [min(best[name][0], t1), min(best[name][1], tb)]
            counts[name] = (c1, cb)
    reference = counts[libs[0][0]][0]
    rows = []
    for name, _, _ in libs:
        c1, cb = counts[name]
        rows.append((name, mb / best[name][0], mb / best[name][1], sum(c1), c1 == reference and cb == reference))
    base = rows[0]
    print(f"{'library':<14} {'single MB/s':>12} {'batch MB/s':>11} {'tokens':>10}  agree  polybpe is ×faster (single / batch)")
    for name, s, b, n, agree in rows:
        print(f"{name:<14} {s:>12.2f} {b:>11.2f} {n:>10}  {'yes' if agree else 'NO':>5}  {base[1] / s:>6.2f} / {base[2] / b:.2f}")
    if not all(r[4] for r in rows):
        raise SystemExit("token counts disagree")


if __name__ == "__main__":
    main()
