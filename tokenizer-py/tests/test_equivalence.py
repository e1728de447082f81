"""polybpe gives the ids of the real `tokenizers` library on other projects' byte-level
tokenizer.json files: the first 2 MB of each training file and every parallel line."""

from pathlib import Path

import pytest
from tokenizers import Tokenizer as HfTokenizer

import polybpe

HF_FILES = {
    "gpt2": "gpt2/gpt2.json",
    "olmo-dolma2": "olmo-dolma2/allenai_dolma2.json",
    "olmo-neox": "olmo-gpt-neox-20b-pii-special/allenai_eleuther-ai-gpt-neox-20b-pii-special.json",
    "falcon": "falcon/tokenizer.json",
    "whisper-large-v3": "whisper-large-v3/tokenizer.json",
    "roberta-base": "roberta-base/tokenizer.json",
    # SentencePiece-style: characters, Metaspace (prepend_scheme first, no split), byte fallback.
    "mistral-7b-v0.1": "mistral-7b-v0.1/tokenizer.json",
    # SentencePiece-style with a normalizer chain (NFC, regex Replace with lookaheads, Prepend).
    "lucie-7b": "lucie-7b/tokenizer.json",
}

PREFIX_BYTES = 2_000_000


def lines_of(path: Path, limit: int | None) -> list[str]:
    data = path.read_bytes()
    if limit is not None and len(data) > limit:
        data = data[:limit]
        data = data[: data.rfind(b"\n")]
    return data.decode("utf-8").splitlines()


def texts(shared: Path) -> dict[str, list[str]]:
    out = {}
    for f in sorted((shared / "corpus" / "train").glob("*.txt")):
        out[f"train/{f.name}"] = lines_of(f, PREFIX_BYTES)
    for f in sorted((shared / "corpus" / "parallel").glob("*.txt")):
        out[f"parallel/{f.name}"] = lines_of(f, None)
    return out


@pytest.fixture(scope="module")
def corpus(shared):
    return texts(shared)


@pytest.mark.parametrize("name", sorted(HF_FILES))
def test_hf_tokenizer_json(shared, corpus, name):
    path = shared / "tokenizers" / HF_FILES[name]
    ours = polybpe.Tokenizer.from_file(path)
    theirs = HfTokenizer.from_file(str(path))
    for label, lines in corpus.items():
        # HF recognizes added tokens anywhere in the text (la.txt contains "<s>", RoBERTa's BOS).
        a = ours.encode_batch(lines, allowed_special="all")
        b = [e.ids for e in theirs.encode_batch(lines, add_special_tokens=False)]
        for i, (x, y) in enumerate(zip(a, b)):
            assert x == y, f"{name} {label} line {i + 1}: {lines[i][:80]!r}"


TIKTOKEN_FILES = {
    "r50k_base": ("r50k_base/r50k_base.tiktoken", "r50k"),
    "p50k_base": ("p50k_base/p50k_base.tiktoken", "p50k"),
    "cl100k_base": ("cl100k_base/cl100k_base.tiktoken", "cl100k"),
    "o200k_base": ("o200k_base/o200k_base.tiktoken", "o200k"),
}


def tiktoken_encoding(name: str, ranks: Path):
    """tiktoken's own definition of `name` (pattern, specials) with ranks from a local file."""
    tiktoken = pytest.importorskip("tiktoken")
    import tiktoken_ext.openai_public as public
    from tiktoken.load import load_tiktoken_bpe

    public.load_tiktoken_bpe = lambda *_args, **_kw: load_tiktoken_bpe(str(ranks))
    return tiktoken.Encoding(**getattr(public, name)())


@pytest.mark.parametrize("name", sorted(TIKTOKEN_FILES))
def test_tiktoken_rank_files(shared, corpus, name):
    file, pattern = TIKTOKEN_FILES[name]
    path = shared / "tokenizers" / file
    ours = polybpe.Tokenizer.from_tiktoken(path, pattern=pattern)
    theirs = tiktoken_encoding(name, path)
    for label, lines in corpus.items():
        a = ours.encode_batch(lines, disallowed_special=())
        b = theirs.encode_ordinary_batch(lines)
        for i, (x, y) in enumerate(zip(a, b)):
            assert x == y, f"{name} {label} line {i + 1}: {lines[i][:80]!r}"
    # Special tokens: both refuse them by default and encode them when allowed.
    text = "a<|endoftext|>b"
    with pytest.raises(ValueError):
        ours.encode(text)
    assert ours.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")


def test_sentencepiece_style_decoding_like_hf(shared, corpus):
    path = shared / "tokenizers" / "mistral-7b-v0.1" / "tokenizer.json"
    ours = polybpe.Tokenizer.from_file(path)
    theirs = HfTokenizer.from_file(str(path))
    with pytest.raises(ValueError, match="SentencePiece"):
        ours.to_str()
    for label, lines in corpus.items():
        for line in lines[:200]:
            ids = ours.encode(line, allowed_special="all")
            assert ours.decode(ids) == theirs.decode(ids, skip_special_tokens=False), f"{label}: {line[:80]!r}"
