"""Superword vocabularies (`--superword-transition`) are standard tokenizer.json files: the real
`tokenizers` and `transformers.PreTrainedTokenizerFast` encode every parallel line and 1,000
unseen lines per training file exactly as polybpe does."""

import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer
from transformers import PreTrainedTokenizerFast

from conftest import eval_texts, polybpe_ids, run_vocab, train_on_heads

TRAIN_LINES = 2000
EVAL_LINES = 1000
VOCAB_SIZE = 8000

# Strings at the stage-2 split's boundaries.
TRICKY = [
    "Note: the end of the day. In the middle of the night: at the end",
    "by the way,  in 2024 we said 1234567 times... yes!!\nthe next line\r\nand the next",
    "of the of the of the of the of the of the",
    "   leading spaces and trailing   ",
    "l'homme d’État, dell'arte, qu'il, aujourd'hui de la république",
    "def f(x):\n    return x ** 2\r\n\t\tpass\n\n\n",
    "ſouvent ſ'il Mu\u0364ller ꝛc. æ œ ﬁn — «à la fois»",
    "emoji 🎉👍🏽 mixed scripts Ελληνικά русский 中文",
    "",
    " ",
    "\n",
]


@pytest.fixture(scope="module", params=["default", "cl100k-parity"])
def trained(request, shared, vocab_bin, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp(f"superword-{request.param}")
    if request.param == "default":
        args = ["--superword-transition", "0.6"]
    else:
        args = ["--pattern", "cl100k", "--superword-transition", "3000", "--max-superword-words", "3",
                "--parity-dev", shared / "corpus" / "parallel", "--dev-lines", "1:1000"]
    return train_on_heads(vocab_bin, shared, tmp, TRAIN_LINES, VOCAB_SIZE, *args)


def assert_same(name: str, texts: list[str], ours: list[list[int]], theirs: list[list[int]], who: str):
    assert len(ours) == len(texts) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a == b, f"{name} line {i + 1}: {texts[i][:80]!r}\npolybpe {a[:20]}\n{who} {b[:20]}"


def test_a_standard_file_with_superword_tokens(trained):
    doc = json.loads(trained.read_text(encoding="utf-8"))
    steps = doc["pre_tokenizer"]["pretokenizers"]
    assert [s["type"] for s in steps] == ["Split", "ByteLevel"]
    assert steps[0]["behavior"] == "Isolated" and steps[1]["use_regex"] is False
    assert len(doc["model"]["vocab"]) == VOCAB_SIZE
    # Some learned tokens join words across a space ("Ġof", "Ġthe" → "ĠofĠthe").
    spanning = [t for t in doc["model"]["vocab"] if "Ġ" in t.lstrip("Ġ") and t.strip("Ġ") and "Ċ" not in t]
    assert len(spanning) > 100, spanning[:20]


def test_tokenizers_and_transformers_encode_identically(shared, vocab_bin, trained, tmp_path):
    hf = Tokenizer.from_file(str(trained))
    fast = PreTrainedTokenizerFast(tokenizer_file=str(trained))
    shorter = 0
    for name, texts in eval_texts(shared, TRAIN_LINES, EVAL_LINES, TRICKY).items():
        ours = polybpe_ids(vocab_bin, trained, texts, tmp_path)
        theirs = [e.ids for e in hf.encode_batch(texts, add_special_tokens=False)]
        assert_same(name, texts, ours, theirs, "HF     ")
        assert_same(name, texts, ours, fast(texts, add_special_tokens=False)["input_ids"], "transformers")
        for text, ids in zip(texts[:50], theirs[:50]):
            assert hf.decode(ids) == __import__("unicodedata").normalize("NFC", text)
        shorter += sum(len(ids) for ids in ours)
    assert shorter > 0


def test_settings_are_checked_by_name(vocab_bin, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "en.txt").write_text("the house of the king\n" * 20, encoding="utf-8")
    for flags, message in [
        (["--superword-transition", "1.5"], "superword_transition 1.5"),
        (["--superword-transition", "lots"], "superword_transition \"lots\""),
        (["--superword-transition", "0.8", "--max-superword-words", "1"], "max_superword_words is 1"),
        (["--superword-pattern", "superbpe"], "superword_pattern is set without superword_transition"),
        (["--superword-transition", "0.8", "--superword-pattern", "(?<"], "superword_pattern"),
    ]:
        result = run_vocab(vocab_bin, "train", "--corpus", corpus, "--out", tmp_path / "t.json", "--vocab-size", "400", *flags, check=False)
        assert result.returncode != 0 and message in result.stderr, (flags, result.stderr)
        assert "panicked" not in result.stderr
    counts = tmp_path / "c.counts"
    run_vocab(vocab_bin, "count", "--corpus", corpus, "--out", counts, "--quiet")
    result = run_vocab(vocab_bin, "train", "--counts", counts, "--out", tmp_path / "t.json", "--vocab-size", "400",
                       "--superword-transition", "0.5", "--quiet", check=False)
    assert result.returncode != 0 and "train from files" in result.stderr, result.stderr


def test_cli_and_python_resolve_the_same_superword_settings(vocab_bin, tmp_path):
    polybpe = pytest.importorskip("polybpe")
    corpus = str(tmp_path / "corpus")
    recipe = tmp_path / "r.toml"
    recipe.write_text("vocab_size = 2000\nsuperword_transition = 0.75\nmax_superword_words = 3\n", encoding="utf-8")
    for flags, kwargs in [
        ([], {}),
        (["--superword-transition", "1200"], {"superword_transition": 1200}),
        (["--superword-pattern", r"\s*[\r\n]+"], {"superword_pattern": r"\s*[\r\n]+"}),
        (["--max-superword-words", "5"], {"max_superword_words": 5}),
    ]:
        cli = json.loads(run_vocab(vocab_bin, "train", "--recipe", recipe, "--corpus", corpus, "--dry-run", *flags).stdout)
        py = json.loads(polybpe.resolve_settings([corpus], recipe=str(recipe), **kwargs))
        assert cli == py
        assert "superword" in cli["settings"]["merge"]


def test_python_trains_superwords_from_files_only(tmp_path):
    polybpe = pytest.importorskip("polybpe")
    corpus = tmp_path / "en.txt"
    corpus.write_text("at the end of the day, the house of the king\n" * 50, encoding="utf-8")
    plain = polybpe.train([str(corpus)], vocab_size=340, special_tokens="none", quiet=True)
    tok = polybpe.train([str(corpus)], vocab_size=340, special_tokens="none", superword_transition=0.5, quiet=True)
    ids = tok.encode("at the end of the day")
    assert len(ids) < len(plain.encode("at the end of the day"))
    assert tok.decode(ids) == "at the end of the day"
    with pytest.raises(ValueError, match="train from files"):
        polybpe.train(texts=["at the end of the day"] * 50, vocab_size=340, superword_transition=0.5, quiet=True)
    with pytest.raises(ValueError, match="superword_transition 1.5"):
        polybpe.train([str(corpus)], vocab_size=340, superword_transition=1.5, quiet=True)
