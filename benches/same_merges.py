"""Checks that polybpe and HF `tokenizers` learn the same merges from the same lines.

    .venv/bin/python benches/same_merges.py [--corpus ../shared/corpus/train] [--vocab-size 65536]

Both train on every non-empty line of the corpus files (without its newline), with the cl100k
split, min frequency 2 and the 256 byte tokens; prints the first merge that differs (if any)
and both tokenizers' token counts on the held-out parallel text. Exits 1 if the merges differ.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from train_peers import CL100K, ROOT, heldout_lines, lines  # noqa: E402


def main() -> None:
    shared = Path(os.environ.get("POLYBPE_SHARED", ROOT.parent / "shared"))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=shared / "corpus" / "train")
    parser.add_argument("--heldout", type=Path, default=shared / "corpus" / "parallel")
    parser.add_argument("--vocab-size", type=int, default=65536)
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*.txt"))

    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(CL100K), "isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab_size, min_frequency=2, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    hf.train_from_iterator(lines(files), trainer)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "polybpe.json"
        subprocess.run(
            [str(ROOT / "target" / "release" / "vocab"), "train", *(arg for f in files for arg in ("--corpus", str(f))), "--out", str(out),
             "--vocab-size", str(args.vocab_size), "--pattern", "cl100k", "--special-tokens", "none", "--min-frequency", "2", "-q"],
            check=True,
        )
        import polybpe

        ours = polybpe.Tokenizer.from_file(out)
        our_merges = json.loads(out.read_text())["model"]["merges"]

    def pairs(merges):
        return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in merges]

    hf_merges, our_merges = pairs(json.loads(hf.to_str())["model"]["merges"]), pairs(our_merges)
    first = next((i for i, (a, b) in enumerate(zip(hf_merges, our_merges)) if a != b), None)
    if first is None and len(hf_merges) == len(our_merges):
        print(f"same {len(our_merges)} merges, in the same order")
    else:
        where = first if first is not None else min(len(hf_merges), len(our_merges))
        print(f"merges differ at {where}: HF {hf_merges[where:where + 1]} polybpe {our_merges[where:where + 1]}"
              f" (HF {len(hf_merges)}, polybpe {len(our_merges)})")
    texts = heldout_lines(args.heldout)
    nbytes = sum(len(t.encode()) for t in texts)
    hf_tokens = sum(len(e.ids) for e in hf.encode_batch(texts, add_special_tokens=False))
    our_tokens = sum(len(ids) for ids in ours.encode_batch(texts))
    print(f"held-out tokens: HF {hf_tokens} ({nbytes / hf_tokens:.4f} bytes/token), polybpe {our_tokens} ({nbytes / our_tokens:.4f})")
    sys.exit(0 if first is None and len(hf_merges) == len(our_merges) else 1)


if __name__ == "__main__":
    main()
