"""The Python API: encoding, batches, numpy output, special tokens, errors, threads, training."""

import threading
from pathlib import Path

import numpy as np
import pytest

import polybpe

CORPUS = [
    ("fr", "Le château d'Ørsted est ſouvent cité. L'homme et la femme qu'il aime."),
    ("de", "Die Straße ist lang, und der Müller ſagt: Guten Tag. Über 1789 Häuſer."),
    ("en", "The quick brown fox doesn't jump over the lazy dog's back; we're sure."),
] * 30


@pytest.fixture(scope="module")
def tok() -> polybpe.Tokenizer:
    return polybpe.train(texts=CORPUS, vocab_size=420, special_tokens="pleias-rag")


def test_train_from_texts_and_round_trip(tok):
    assert tok.vocab_size == 420
    assert tok.special_tokens["<|source_end|>"] == 7
    text = "Le château ſouvent! 🎉 e\u0301"
    assert tok.decode(tok.encode(text)) == "Le château ſouvent! 🎉 é"
    assert tok.count_tokens(text) == len(tok.encode(text))


def test_same_result_at_any_thread_count():
    one = polybpe.train(texts=CORPUS, vocab_size=400, num_threads=1)
    two = polybpe.train(texts=CORPUS, vocab_size=400, num_threads=2)
    assert one.to_str() == two.to_str()


def test_train_from_files(tmp_path: Path):
    (tmp_path / "fr.txt").write_text("\n".join(t for l, t in CORPUS if l == "fr"), encoding="utf-8")
    (tmp_path / "de.txt").write_text("\n".join(t for l, t in CORPUS if l == "de"), encoding="utf-8")
    tok = polybpe.train(files=[tmp_path], vocab_size=320, special_tokens="none")
    assert tok.vocab_size == 320
    assert tok.special_tokens == {}


def test_balanced_training(tmp_path: Path):
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "fr.txt").write_text("Le château est cité.\nL'homme et la femme.\n", encoding="utf-8")
    (dev / "de.txt").write_text("Die Straße ist lang.\nDer Müller sagt.\n", encoding="utf-8")
    plain = polybpe.train(texts=CORPUS, vocab_size=360, special_tokens="none")
    options = dict(texts=CORPUS, vocab_size=360, special_tokens="none", weighting="uniform", parity_dev=dev,
                   dev_lines="1:2", ratio={"en": 3.0}, parity_strength=4.0)
    balanced = polybpe.train(**options, num_threads=1)
    assert balanced.to_str() != plain.to_str()
    assert balanced.to_str() == polybpe.train(**options, num_threads=2).to_str()
    hard = polybpe.train(texts=CORPUS, vocab_size=360, special_tokens="none", parity_dev=dev, parity_window=10)
    assert hard.vocab_size == 360
    with pytest.raises(ValueError, match="unknown weighting"):
        polybpe.train(texts=CORPUS, vocab_size=360, weighting="zipf")
    with pytest.raises(ValueError, match="not in the training corpus"):
        polybpe.train(texts=CORPUS, vocab_size=360, ratio={"la": 3.0})
    with pytest.raises(ValueError, match="line range"):
        polybpe.train(texts=CORPUS, vocab_size=360, parity_dev=dev, dev_lines="2-1")


def test_counts_of_shards_train_like_the_whole(tmp_path: Path):
    whole = polybpe.train(texts=CORPUS, vocab_size=380)
    shards = [polybpe.count(texts=CORPUS[i::3], num_threads=1 + i % 2) for i in range(3)]
    assert all(isinstance(s, bytes) and s.startswith(b"PBPECNT\n") for s in shards)
    assert polybpe.train(counts=shards, vocab_size=380).to_str() == whole.to_str()
    merged = polybpe.merge_counts(shards)
    (tmp_path / "all.counts").write_bytes(merged)
    assert polybpe.train(counts=[tmp_path / "all.counts"], vocab_size=380).to_str() == whole.to_str()
    # Shards counted with other settings, or damaged, are refused with a clear error.
    other = polybpe.count(texts=CORPUS, normalization="nfkc")
    with pytest.raises(ValueError, match=r"counts\[1\].*normalization nfkc"):
        polybpe.merge_counts([shards[0], other])
    with pytest.raises(ValueError, match=r"counts\[0\].*truncated"):
        polybpe.train(counts=[merged[:-20]], vocab_size=380)
    with pytest.raises(ValueError, match="not a polybpe word-count file"):
        polybpe.train(counts=[b"hello"], vocab_size=380)
    with pytest.raises(TypeError, match="exactly one"):
        polybpe.train(texts=CORPUS, counts=shards)


def test_save_and_load(tok, tmp_path: Path):
    path = tmp_path / "tok.json"
    tok.save(path)
    back = polybpe.Tokenizer.from_file(path)
    assert back.to_str() == tok.to_str()
    assert back.encode("l'homme ſagt") == tok.encode("l'homme ſagt")


def test_batch_lists_and_numpy(tok):
    texts = ["", "le chat", "Die Straße " * 50, "ſ"]
    lists = tok.encode_batch(texts)
    assert lists == [tok.encode(t) for t in texts]
    ids, offsets = tok.encode_batch(texts, return_numpy=True, num_threads=2)
    assert ids.dtype == np.uint32 and offsets.dtype == np.int64
    assert offsets.shape == (len(texts) + 1,) and offsets[0] == 0 and offsets[-1] == len(ids)
    for i, expected in enumerate(lists):
        assert ids[offsets[i]:offsets[i + 1]].tolist() == expected
    assert tok.decode_batch(lists) == [tok.decode(x) for x in lists]


def test_encode_returns_a_numpy_array_on_request(tok):
    for text in ["", "le chat", "Die Straße " * 200, "ſ", "a <|source_end|> b"]:
        expected = tok.encode(text, allowed_special="all")
        ids = tok.encode(text, return_numpy=True, allowed_special="all")
        assert isinstance(ids, np.ndarray) and ids.dtype == np.uint32 and ids.ndim == 1
        assert ids.tolist() == expected
    # The special-token rules are the same whatever the return type.
    with pytest.raises(ValueError, match="source_end"):
        tok.encode("a <|source_end|> b", return_numpy=True)
    assert tok.encode("a <|source_end|> b", return_numpy=True, disallowed_special=()).tolist() == tok.encode("a <|source_end|> b", disallowed_special=())


def test_long_texts_encode_like_short_ones(tok):
    # Texts of 64 KiB and more take their own buffer (handed to the array without a copy), and
    # their pieces are encoded on all threads: the ids are those of one thread.
    long = "le chat dort. Die Straße ſ " * 3000 + "<|source_end|>" + " fin" * 10
    assert len(long.encode()) >= 1 << 16
    expected = tok.encode_batch([long], num_threads=1, allowed_special="all")[0]
    assert expected == [i for t in long.split("<|source_end|>") for i in tok.encode(t) + [7]][:-1]
    assert tok.encode(long, allowed_special="all") == expected
    assert tok.encode(long, return_numpy=True, allowed_special="all").tolist() == expected
    with pytest.raises(ValueError, match="source_end"):
        tok.encode(long, return_numpy=True)


def test_batches_of_many_texts_keep_order_and_offsets(tok):
    # Batches are encoded in runs of texts sharing one buffer: offsets must carry across runs.
    texts = [("le chat " * (i % 7) + "ſ" * (i % 3) + ("<|source_end|>" if i % 50 == 7 else "")) for i in range(1000)]
    expected = [tok.encode(t, allowed_special="all") for t in texts]
    for threads in (1, 2, 3):
        assert tok.encode_batch(texts, num_threads=threads, allowed_special="all") == expected
        ids, offsets = tok.encode_batch(texts, return_numpy=True, num_threads=threads, allowed_special="all")
        assert offsets[-1] == len(ids) == sum(map(len, expected))
        assert [ids[offsets[i]:offsets[i + 1]].tolist() for i in range(len(texts))] == expected
    # A disallowed special token far into the batch is still reported.
    with pytest.raises(ValueError, match="source_end"):
        tok.encode_batch(texts, num_threads=2)
    with pytest.raises(ValueError, match="source_end"):
        tok.encode_batch(texts, num_threads=2, return_numpy=True)


def test_batch_lists_are_ordinary_lists_and_gc_state_is_kept(tok):
    import gc

    texts = ["le chat dort", "Die Straße"] * 100
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            lists = tok.encode_batch(texts)
            assert gc.isenabled() == enabled
        finally:
            gc.enable()
        assert all(type(x) is list and all(type(i) is int for i in x) for x in lists)
        # Lists are independent objects: changing one leaves the others (and later calls) alone.
        lists[0].append(-1)
        lists[0][0] = 10**30
        assert lists[2] == tok.encode(texts[0]) and tok.encode_batch(texts[:1]) == [tok.encode(texts[0])]


def test_every_string_layout_encodes_as_its_utf8(tok, tmp_path: Path):
    # CPython keeps a str as 1, 2 or 4 bytes per character (ASCII apart), with or without a
    # UTF-8 copy made earlier; each is read its own way. The oracle reads the UTF-8 from a file.
    import ctypes
    import unicodedata

    as_utf8 = ctypes.pythonapi.PyUnicode_AsUTF8
    as_utf8.argtypes, as_utf8.restype = [ctypes.py_object], ctypes.c_char_p
    short = ["le chat dort.", "Le château ſans Ørsted. ", "Die Straße ſagt „Tag“. ", "fin 🎉 e\u0301 "]
    texts = short + [t * (70_000 // len(t)) for t in short]
    texts += [t + "é" for t in texts]
    cached = ["".join([t, "ü"]) for t in texts]
    for t in cached:
        as_utf8(t)  # CPython now holds its UTF-8
    texts += cached
    for i, t in enumerate(texts):
        (tmp_path / f"{i:03}.txt").write_bytes(t.encode())
    ids, offsets = tok.encode_files([str(tmp_path / f"{i:03}.txt") for i in range(len(texts))], doc_per_file=True)
    expected = [ids[offsets[i]:offsets[i + 1]].tolist() for i in range(len(texts))]
    assert [tok.encode(t) for t in texts] == expected
    assert [tok.encode(t, return_numpy=True).tolist() for t in texts] == expected
    assert [tok.count_tokens(t) for t in texts] == list(map(len, expected))
    for threads in (1, 2):
        assert tok.encode_batch(texts, num_threads=threads) == expected
    assert all(tok.decode(e) == unicodedata.normalize("NFC", t) for e, t in zip(expected, texts))
    # A lone surrogate has no UTF-8: refused as before, alone or in a batch.
    for bad in ("a\ud800b", "Straße \udfff" * 40_000):
        with pytest.raises(UnicodeEncodeError):
            tok.encode(bad)
        with pytest.raises(UnicodeEncodeError):
            tok.encode_batch(["ok", bad])


def test_empty_and_huge_strings(tok):
    assert tok.encode("") == []
    assert tok.decode([]) == ""
    huge = "ſ" * 200_000 + " le chat " * 20_000
    assert tok.decode(tok.encode(huge)) == huge


def test_special_tokens_like_tiktoken(tok):
    doc = "Citation: <|source_end|> fin"
    with pytest.raises(ValueError, match="source_end"):
        tok.encode(doc)
    as_text = tok.encode(doc, disallowed_special=())
    assert 7 not in as_text and tok.decode(as_text) == doc
    as_special = tok.encode(doc, allowed_special={"<|source_end|>"})
    assert as_special.count(7) == 1
    assert tok.encode(doc, allowed_special="all") == as_special
    with pytest.raises(ValueError):
        tok.encode(doc, allowed_special={"<|not_a_token|>"})
    with pytest.raises(ValueError):
        tok.encode_batch(["ok", doc])


def test_rag_prompt_inserts_real_ids(tok):
    ids = tok.encode_rag_prompt("Qui ?", ["Le texte.", (7, "Autre <|source_end|> texte")])
    sp = tok.special_tokens
    assert ids[0] == sp["<|query_start|>"] and ids[-1] == sp["<|source_analysis_start|>"]
    assert ids.count(sp["<|source_end|>"]) == 2
    assert ids.count(sp["<|source_id_start|>"]) == 2
    assert "Autre <|source_end|> texte" in tok.decode(ids)


def test_token_lookups(tok):
    assert tok.token_to_id("<|end_of_text|>") == 2
    assert tok.id_to_token(2) == "<|end_of_text|>"
    space_id = tok.token_to_id("Ġ")
    assert space_id is not None and tok.decode_single_token_bytes(space_id) == b" "
    assert tok.token_to_id("not-a-token-at-all") is None
    assert tok.id_to_token(10**6) is None


def test_errors_are_python_exceptions(tmp_path: Path, tok):
    with pytest.raises(FileNotFoundError):
        polybpe.Tokenizer.from_file(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"model": {"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}}')
    with pytest.raises(ValueError, match="dropout"):
        polybpe.Tokenizer.from_file(bad)
    bad.write_text('{"model": {"type": "BPE", "byte_fallback": true, "vocab": {}, "merges": []}}')
    with pytest.raises(ValueError, match="empty"):
        polybpe.Tokenizer.from_file(bad)
    bad.write_text("{ truncated")
    with pytest.raises(ValueError, match="JSON"):
        polybpe.Tokenizer.from_file(bad)
    with pytest.raises(KeyError):
        tok.decode([10**7])
    with pytest.raises(ValueError, match="too small"):
        polybpe.train(texts=CORPUS, vocab_size=100)
    with pytest.raises(ValueError, match="empty"):
        polybpe.train(texts=[], vocab_size=300)
    with pytest.raises(TypeError):
        polybpe.train(texts=[42], vocab_size=300)
    with pytest.raises(TypeError):
        polybpe.train(vocab_size=300)
    with pytest.raises(FileNotFoundError):
        polybpe.train(files=[tmp_path / "nope.txt"], vocab_size=300)
    with pytest.raises(ValueError):
        tok.encode_batch(["x"], num_threads=0)
    invalid = tmp_path / "fr.txt"
    invalid.write_bytes(b"bonjour\ncaf\xe9\n")
    with pytest.raises(ValueError, match="byte offset 11"):
        polybpe.train(files=[invalid], vocab_size=300)


def test_thread_safety(tok):
    texts = [t for _, t in CORPUS]
    expected = tok.encode_batch(texts)
    results, errors = [], []

    def work():
        try:
            for _ in range(20):
                results.append(tok.encode_batch(texts) == expected and [tok.encode(t) for t in texts] == expected)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 120 and all(results)


def test_side_by_side_with_tokenizers_and_transformers(tok, tmp_path: Path):
    from tokenizers import Tokenizer as HfTokenizer
    from transformers import PreTrainedTokenizerFast

    path = tmp_path / "tok.json"
    tok.save(path)
    text = "L'homme d’État ſagt: don't 1789!"
    assert HfTokenizer.from_file(str(path)).encode(text, add_special_tokens=False).ids == tok.encode(text)
    assert PreTrainedTokenizerFast(tokenizer_file=str(path)).encode(text, add_special_tokens=False) == tok.encode(text)
