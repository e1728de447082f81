"""Tokenizer.encode_files: whole corpora to token arrays and .npy shards that numpy reads."""

import json
from pathlib import Path

import numpy as np
import pytest

import polybpe


@pytest.fixture(scope="module")
def gpt2(shared: Path) -> polybpe.Tokenizer:
    return polybpe.Tokenizer.from_file(shared / "tokenizers" / "gpt2" / "gpt2.json")


def corpus(tmp_path: Path) -> tuple[Path, list[str]]:
    """A directory of a text file and a JSONL file, and its documents in reading order."""
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "a.txt").write_text("Le château d'Ørsted, 1789 — ſouvent!\n\n  indented <|endoftext|> code();\r\n", encoding="utf-8")
    docs_b = ["first record", "second\nrecord with a newline", "ünïcödé " * 40]
    (d / "b.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in docs_b), encoding="utf-8")
    return d, ["Le château d'Ørsted, 1789 — ſouvent!", "  indented <|endoftext|> code();"] + docs_b


def expected(tok: polybpe.Tokenizer, docs: list[str], eod: int | None = None) -> tuple[list[int], list[int]]:
    ids, offsets = [], [0]
    for doc in docs:
        ids += tok.encode(doc, disallowed_special=())
        if eod is not None:
            ids.append(eod)
        offsets.append(len(ids))
    return ids, offsets


def test_arrays_equal_per_document_encode(gpt2, tmp_path: Path):
    d, docs = corpus(tmp_path)
    eod = gpt2.token_to_id("<|endoftext|>")
    for threads in (1, 2):
        ids, offsets = gpt2.encode_files(d, eod="<|endoftext|>", num_threads=threads)
        assert ids.dtype == np.uint16 and offsets.dtype == np.uint64
        assert (ids.tolist(), offsets.tolist()) == expected(gpt2, docs, eod)
    ids, offsets = gpt2.encode_files([d / "a.txt"])
    assert (ids.tolist(), offsets.tolist()) == expected(gpt2, docs[:2])


def test_npy_shards_read_by_numpy_are_thread_count_independent(gpt2, tmp_path: Path):
    d, docs = corpus(tmp_path)
    written = []
    for threads in (1, 2):
        prefix = tmp_path / f"shard{threads}"
        stats = gpt2.encode_files(d, output=prefix, num_threads=threads)
        ids = np.load(stats["ids"])
        offsets = np.load(stats["offsets"], mmap_mode="r")
        assert ids.dtype == np.uint16 and offsets.dtype == np.uint64
        assert (ids.tolist(), offsets.tolist()) == expected(gpt2, docs)
        assert stats["documents"] == len(docs) and stats["tokens"] == len(ids)
        written.append((Path(stats["ids"]).read_bytes(), Path(stats["offsets"]).read_bytes()))
    assert written[0] == written[1]


def test_large_vocabularies_give_uint32_and_whole_files(shared: Path, tmp_path: Path):
    tok = polybpe.Tokenizer.from_file(shared / "tokenizers" / "olmo-dolma2" / "allenai_dolma2.json")
    d, _ = corpus(tmp_path)
    text = (d / "a.txt").read_bytes().decode("utf-8")  # keeps the \r\n
    ids, offsets = tok.encode_files(d / "a.txt", doc_per_file=True)
    assert ids.dtype == np.uint32
    # One document: the file's whole text, line breaks included.
    assert ids.tolist() == tok.encode(text, disallowed_special=())
    assert offsets.tolist() == [0, len(ids)]


def test_bad_input_is_a_clear_error(gpt2, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        gpt2.encode_files(tmp_path / "missing.txt")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"body": "no text"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl.*line 2"):
        gpt2.encode_files(bad, output=tmp_path / "out")
    assert not (tmp_path / "out.ids.npy").exists() and not (tmp_path / "out.offsets.npy").exists()
    good = tmp_path / "good.txt"
    good.write_text("hello\n")
    with pytest.raises(ValueError, match="<nope>"):
        gpt2.encode_files(good, eod="<nope>")
    with pytest.raises(ValueError, match="4000000"):
        gpt2.encode_files(good, eod=4_000_000)
    with pytest.raises(TypeError):
        gpt2.encode_files(3)
