"""A polybpe vocabulary trained on a slice of the corpus encodes identically in polybpe, in the
real `tokenizers` library and in `transformers.PreTrainedTokenizerFast`."""

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from conftest import eval_texts, head, polybpe_ids, run_vocab, train_on_heads

TRAIN_LINES = 2000
EVAL_LINES = 1000
VOCAB_SIZE = 8000

PLEIAS_FIRST = ["[UNK]", "<|begin_of_text|>", "<|end_of_text|>", "[PAD]", "<|query_start|>", "<|query_end|>",
                "<|source_start|>", "<|source_end|>", "<|source_id_start|>", "<|source_id_end|>", "<|source_id|>"]

# Strings that exercise the split pattern's corners.
TRICKY = [
    "l'homme d’État, dell'arte, qu'il, aujourd'hui",
    "don't we're John's 'sun' DON’T O'Brien",
    "ſouvent ſ'il Mu\u0364ller ꝛc. æ œ ﬁn",
    "Le château d'Ørsted, 1789 — ſouvent!",
    "1234567 3.14159 10,000 ½ Ⅻ",
    "def f(x):\n    return x ** 2\r\n\t\tpass\n\n\n",
    "emoji 🎉👍🏽 mixed scripts Ελληνικά русский 中文",
    "\x00\x01 NUL and controls \x7f \u200b zero-width \u00a0nbsp",
    "   leading spaces and trailing   ",
    "e\u0301te\u0301 decomposed (NFC composes it)",
    "",
    " ",
    "\n",
]


@pytest.fixture(scope="module")
def trained(shared, vocab_bin, tmp_path_factory):
    return train_on_heads(vocab_bin, shared, tmp_path_factory.mktemp("hf"), TRAIN_LINES, VOCAB_SIZE)


def test_vocab_shape(trained):
    doc = json.loads(trained.read_text(encoding="utf-8"))
    assert len(doc["model"]["vocab"]) == VOCAB_SIZE
    assert [t["content"] for t in doc["added_tokens"][: len(PLEIAS_FIRST)]] == PLEIAS_FIRST
    assert [t["id"] for t in doc["added_tokens"]] == list(range(41))
    assert all(t["special"] and not t["normalized"] for t in doc["added_tokens"])


def test_tokenizers_library_encodes_identically(shared, vocab_bin, trained, tmp_path):
    hf = Tokenizer.from_file(str(trained))
    assert hf.get_vocab_size() == VOCAB_SIZE
    for name, texts in eval_texts(shared, TRAIN_LINES, EVAL_LINES, TRICKY).items():
        ours = polybpe_ids(vocab_bin, trained, texts, tmp_path)
        theirs = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
        assert len(ours) == len(texts)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert a == b, f"{name} line {i + 1}: {texts[i][:80]!r}\npolybpe {a[:20]}\nHF      {b[:20]}"
        # HF's decoder gives the text back, as polybpe's does.
        for text, ids in zip(texts[:50], theirs[:50]):
            assert hf.decode(ids) == __import__("unicodedata").normalize("NFC", text)


def test_transformers_encodes_identically(shared, vocab_bin, trained, tmp_path):
    fast = PreTrainedTokenizerFast(tokenizer_file=str(trained))
    for name in ["parallel/fr.txt", "parallel/pl.txt", "train/historical.txt", "train/code.txt", "tricky"]:
        texts = eval_texts(shared, TRAIN_LINES, EVAL_LINES, TRICKY)[name]
        ours = polybpe_ids(vocab_bin, trained, texts, tmp_path)
        theirs = fast(texts, add_special_tokens=False)["input_ids"]
        assert ours == theirs, name
    assert fast.convert_tokens_to_ids("<|source_end|>") == 7


def test_special_tokens_are_single_ids_when_allowed(vocab_bin, trained, tmp_path):
    hf = Tokenizer.from_file(str(trained))
    prompt = "<|query_start|>Qui a écrit ?<|query_end|>\n<|source_start|><|source_id_start|>1<|source_id_end|>Texte<|source_end|>"
    src = tmp_path / "prompt.jsonl"
    src.write_text(json.dumps(prompt) + "\n", encoding="utf-8")
    allowed = json.loads(run_vocab(vocab_bin, "encode", "--tokenizer", trained, "--jsonl", "--allow-special", src).stdout)
    assert allowed == hf.encode(prompt, add_special_tokens=False).ids
    assert allowed[0] == 4 and 6 in allowed and 8 in allowed and allowed[-1] == 7
    # Without --allow-special the same text is ordinary document text: no special id appears.
    plain = json.loads(run_vocab(vocab_bin, "encode", "--tokenizer", trained, "--jsonl", src).stdout)
    assert not any(i < 41 for i in plain)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(" ".join(map(str, plain)) + "\n")
    assert run_vocab(vocab_bin, "decode", "--tokenizer", trained, ids_file).stdout == prompt


def test_specials_never_learned(trained):
    doc = json.loads(trained.read_text(encoding="utf-8"))
    specials = {t["content"] for t in doc["added_tokens"]}
    for a, b in doc["model"]["merges"]:
        assert a not in specials and b not in specials
    learned = set(doc["model"]["vocab"]) - specials
    assert not any("<|" in t and "|>" in t for t in learned)


@pytest.fixture(scope="module")
def balanced(shared, vocab_bin, trained, tmp_path_factory):
    """The same slice trained with uniform weights and soft parity against the parallel dev set."""
    tmp = tmp_path_factory.mktemp("balanced")
    out = tmp / "tokenizer.json"
    run_vocab(vocab_bin, "train", "--corpus", trained.parent / "corpus", "--out", out, "--vocab-size", VOCAB_SIZE,
              "--special-tokens", "pleias-rag", "--weighting", "uniform", "--parity-dev", shared / "corpus" / "parallel",
              "--dev-lines", "1:1000", "--ratio", "historical=3.2", "--parity-strength", "8", "--quiet")
    return out


def test_balanced_vocabulary_encodes_identically_in_tokenizers(shared, vocab_bin, trained, balanced, tmp_path):
    assert balanced.read_bytes() != trained.read_bytes()
    hf = Tokenizer.from_file(str(balanced))
    texts = eval_texts(shared, TRAIN_LINES, EVAL_LINES, TRICKY)
    for name in ["parallel/nl.txt", "parallel/pl.txt", "train/historical.txt", "train/code.txt", "tricky"]:
        ours = polybpe_ids(vocab_bin, balanced, texts[name], tmp_path)
        theirs = [e.ids for e in hf.encode_batch(texts[name], add_special_tokens=False)]
        assert ours == theirs, name


def test_extended_gpt2_keeps_ids_and_encodes_identically(shared, vocab_bin, tmp_path):
    """`vocab extend` adds French tokens to GPT-2: every old id and merge stays, HF loads the
    result and encodes as polybpe does, and French costs fewer tokens."""
    base = shared / "tokenizers" / "gpt2" / "gpt2.json"
    new_text = tmp_path / "fr.txt"
    new_text.write_text("\n".join(head(shared / "corpus" / "train" / "fr.txt", 0, 5000)) + "\n", encoding="utf-8")
    out = tmp_path / "gpt2-fr.json"
    run_vocab(vocab_bin, "extend", base, "--corpus", new_text, "--add", 500, "--out", out, "--quiet")
    old, new = json.loads(base.read_text(encoding="utf-8")), json.loads(out.read_text(encoding="utf-8"))
    assert all(new["model"]["vocab"][token] == i for token, i in old["model"]["vocab"].items())
    def pairs(merges):  # "a b" strings (older files) or [a, b] lists
        return [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges]

    assert pairs(new["model"]["merges"])[: len(old["model"]["merges"])] == pairs(old["model"]["merges"])
    assert len(new["model"]["vocab"]) == len(old["model"]["vocab"]) + 500
    hf_old, hf_new = Tokenizer.from_file(str(base)), Tokenizer.from_file(str(out))
    lines = (shared / "corpus" / "parallel" / "fr.txt").read_text(encoding="utf-8").splitlines()
    theirs = [e.ids for e in hf_new.encode_batch(lines, add_special_tokens=False)]
    assert polybpe_ids(vocab_bin, out, lines, tmp_path) == theirs
    assert sum(map(len, theirs)) < sum(len(e.ids) for e in hf_old.encode_batch(lines, add_special_tokens=False))
