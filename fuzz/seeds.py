#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets into fuzz/corpus/<target>/seed-*.

Everything is cut from the shared data folder at run time ($POLYBPE_SHARED, else ../shared
beside the repository): lines of every language of the training and parallel corpora,
sample.jsonl records, llama.cpp's tokenizer test strings, cut-down tokenizer.json and tiktoken
files, and the project's recipes. Missing shared files are skipped. Seeds for `count_file` are
made by `vocab count` in run.sh. Standard library only.

Usage: seeds.py [SHARED_DIR]
"""

import json
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared"

# Text seeds are cut to this many bytes (at a character boundary): the text targets run with
# -max_len=512 (run.sh), and longer seeds would be cut inside a character and rejected.
TEXT_BYTES = 400


def cut(text: str, limit: int) -> str:
    data = text.encode()[:limit]
    return data.decode(errors="ignore")


def write(target: str, name: str, data) -> None:
    out = FUZZ / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (out / f"seed-{name}").write_bytes(data)


def lines(path: Path, n: int) -> list:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\n") for _, line in zip(range(n), f)]


def text_seeds() -> dict:
    """name -> text: corpus lines of every language, sample.jsonl, llama.cpp test strings."""
    seeds = {}
    corpus = SHARED / "corpus"
    for folder, n in (("train", 25), ("parallel", 5)):
        for path in sorted((corpus / folder).glob("*.txt")):
            for i, line in enumerate(lines(path, n)):
                seeds[f"{folder}-{path.stem}-{i:02}"] = cut(line, TEXT_BYTES)
    for i, line in enumerate(lines(corpus / "sample.jsonl", 10)):
        seeds[f"jsonl-raw-{i:02}"] = cut(line, TEXT_BYTES)
        try:
            seeds[f"jsonl-text-{i:02}"] = cut(json.loads(line).get("text", ""), TEXT_BYTES)
        except ValueError:
            pass
    inp = SHARED / "tokenizers/llama.cpp-vocab-tests/ggml-vocab-gpt-2.gguf.inp"
    if inp.is_file():
        cases = inp.read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")
        for i, case in enumerate(cases):
            seeds[f"llamacpp-{i:02}"] = cut(case, TEXT_BYTES)
    return seeds


def cut_tokenizer_json(path: Path, keep_ids: int) -> str:
    """The file with only the vocab ids below `keep_ids`, the merges among them and the
    first 20 added tokens."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(doc.get("added_tokens"), list):
        doc["added_tokens"] = doc["added_tokens"][:20]
    model = doc.get("model", {})
    vocab = {token: i for token, i in model.get("vocab", {}).items() if i < keep_ids}
    merges = []
    for merge in model.get("merges", []):
        a, b = merge.split(" ", 1) if isinstance(merge, str) else merge
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(merge)
    model["vocab"], model["merges"] = vocab, merges
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


TOKENIZER_JSON = [
    # (file under tokenizers/, ids kept): byte-level files keep their 256 bytes and a few
    # merges; SentencePiece-style ones their <0xNN> tokens (ids 3-258) and some pieces.
    ("gpt2/gpt2.json", 400),
    ("olmo-dolma2/allenai_dolma2.json", 400),
    ("olmo-gpt-neox-20b-pii-special/allenai_eleuther-ai-gpt-neox-20b-pii-special.json", 400),
    ("falcon/tokenizer.json", 400),
    ("whisper-large-v3/tokenizer.json", 400),
    ("roberta-base/tokenizer.json", 400),
    ("mistral-7b-v0.1/tokenizer.json", 500),
    ("lucie-7b/tokenizer.json", 500),
]

TIKTOKEN = [
    "r50k_base/r50k_base.tiktoken",
    "cl100k_base/cl100k_base.tiktoken",
    "o200k_base/o200k_base.tiktoken",
    "qwen-tiktoken/qwen.tiktoken",
    "whisper-tiktoken/multilingual.tiktoken",
    "llama3-tiktoken/tokenizer.model",
]

# Recipes beyond the shipped ones, for the keys those do not use.
RECIPES = {
    "window": 'name = "w"\nvocab_size = 4096\nspecial_tokens = "none"\nreserved = 8\n'
    'extra_special_tokens = ["<|a|>", "<|b|>"]\npattern = "cl100k"\nnormalization = "nfkc"\n'
    "max_token_bytes = 16\nmax_words = 100000\ndoc_per_file = true\nskip_invalid = false\n"
    '[balance]\nweighting = "temperature"\ntemperature = 0.5\nweights = { fr = 2.0, en = 0.5 }\n'
    '[parity]\ndev = "/tmp/dev"\ndev_lines = "1:"\nexclude = ["en"]\nglobal_merges = 100\n'
    "tolerance = 0.05\nwindow = 50\nalpha = 1.5\nreweight_every = 10\n",
    "regex": 'vocab_size = 1000\npattern = "\\\\p{L}+|\\\\s+|."\n[[inputs]]\npath = "a.txt"\n',
    "empty": "",
}


def main() -> None:
    texts = text_seeds()
    for target in ("scanner", "roundtrip", "roundtrip_reference"):
        for name, text in texts.items():
            write(target, name, text)
    tokenizers = SHARED / "tokenizers"
    for file, keep in TOKENIZER_JSON:
        if (tokenizers / file).is_file():
            name = file.split("/")[0]
            write("tokenizer_json", name, cut_tokenizer_json(tokenizers / file, keep))
    for file in ("gpt2/gpt2.json", "mistral-tekken/tekken_240718.json", "lucie-7b/tokenizer_config.json"):
        path = tokenizers / file
        if path.is_file():  # A first slice: valid JSON up to a cut, or another format.
            write("tokenizer_json", "head-" + file.split("/")[0], cut(path.read_text(encoding="utf-8"), 2000))
    for file in TIKTOKEN:
        path = tokenizers / file
        if path.is_file():
            name = file.split("/")[0]
            head = lines(path, 2000)
            write("tiktoken_file", f"{name}-300", "\n".join(head[:300]) + "\n")
            write("tiktoken_file", f"{name}-2000", "\n".join(head) + "\n")
            write("tiktoken_file", f"{name}-crlf", "\r\n".join(head[:280]) + "\r\n")
    for path in sorted((REPO / "vocab/recipes").glob("*.toml")):
        write("recipe", path.stem, path.read_bytes())
    for name, text in RECIPES.items():
        write("recipe", name, text)
    counts = {d.name: len(list(d.glob("seed-*"))) for d in sorted((FUZZ / "corpus").iterdir()) if d.is_dir()}
    print("seeds: " + ", ".join(f"{t} {n}" for t, n in counts.items() if n))


if __name__ == "__main__":
    main()
