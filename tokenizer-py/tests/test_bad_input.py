"""The README's "Bad input" table through the Python API: every case raises an ordinary Python
exception with a message that names the file, line or field (never pyo3's PanicException), or is
handled as documented; the riskiest cases run in a child interpreter that must exit cleanly."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import polybpe

BOM = b"\xef\xbb\xbf"
LINES = "le chat et le chien, l'homme et la femme\nder Hund und die Katze, ſo ſagt man\n"


def no_panic(excinfo) -> None:
    """pyo3 panics derive from BaseException: make sure the error is not one in disguise."""
    assert type(excinfo.value).__name__ != "PanicException"
    assert "panicked" not in str(excinfo.value)


def raises(exc, match, call, *args, **kwargs):
    with pytest.raises(exc, match=match) as excinfo:
        call(*args, **kwargs)
    no_panic(excinfo)
    return excinfo.value


def run_child(code: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter; an abort or a panic shows in its exit status."""
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout)
    assert child.returncode == 0, f"child exited with {child.returncode}:\n{child.stdout}\n{child.stderr}"
    assert "PanicException" not in child.stderr and "panicked" not in child.stderr, child.stderr
    return child


def train_files(paths, **kwargs) -> polybpe.Tokenizer:
    return polybpe.train(files=[str(p) for p in paths], special_tokens="none", **kwargs)


def test_invalid_utf8_names_file_offset_and_line(tmp_path: Path):
    bad = tmp_path / "fr.txt"
    bad.write_bytes(LINES.encode() + b"caf\xe9\n")
    err = raises(ValueError, "invalid UTF-8", train_files, [bad], vocab_size=300)
    assert "fr.txt" in str(err) and f"byte offset {len(LINES.encode()) + 3}" in str(err) and "line 3" in str(err)
    assert train_files([bad], vocab_size=300, skip_invalid=True).vocab_size > 256


def test_bom_at_file_start_is_not_text(tmp_path: Path):
    for i in range(6):
        (tmp_path / "with").mkdir(exist_ok=True)
        (tmp_path / "without").mkdir(exist_ok=True)
        (tmp_path / "with" / f"f{i}.txt").write_bytes(BOM + LINES.encode() * 3)
        (tmp_path / "without" / f"f{i}.txt").write_bytes(LINES.encode() * 3)
    with_bom = train_files([tmp_path / "with"], vocab_size=600)
    without = train_files([tmp_path / "without"], vocab_size=600)
    assert with_bom.to_str() == without.to_str()
    # In a Python string U+FEFF is a character like any other, and round-trips.
    assert with_bom.decode(with_bom.encode("\ufeffle chat")) == "\ufeffle chat"


def test_crlf_files_train_like_lf_files(tmp_path: Path):
    (tmp_path / "lf").mkdir()
    (tmp_path / "crlf").mkdir()
    (tmp_path / "lf" / "fr.txt").write_bytes(LINES.encode() * 20)
    (tmp_path / "crlf" / "fr.txt").write_bytes(LINES.replace("\n", "\r\n").encode() * 20)
    lf = train_files([tmp_path / "lf"], vocab_size=400)
    assert lf.to_str() == train_files([tmp_path / "crlf"], vocab_size=400).to_str()
    text = "le chat\r\nder Hund\rlone\r\n"
    assert lf.decode(lf.encode(text)) == text


def test_nul_bytes_are_ordinary_text():
    tok = polybpe.train(texts=["le\0chat et\0le\0chien"] * 30, vocab_size=300, special_tokens="none")
    assert any("\0" in tok.decode([i]) and len(tok.decode([i])) > 1 for i in range(256, tok.vocab_size))
    assert tok.decode(tok.encode("\0le\0chat\0\0")) == "\0le\0chat\0\0"


def test_long_line_without_spaces_in_a_child():
    """8 MB here (the CLI test runs the full 100 MB): the same one-piece path through the
    binding, in a child so that an abort would show."""
    run_child(
        """
        import random, polybpe
        random.seed(3)
        words = ["le", "chat", "et", "chien", "der", "Hund", "und", "Katze"]
        line = "".join(random.choice(words) for _ in range(2_000_000))[: 8 << 20]
        tok = polybpe.train(texts=[line], vocab_size=400, special_tokens="none")
        ids = tok.encode(line)
        assert tok.decode(ids) == line
        assert len(ids) < len(line) // 2
        """
    )


def test_empty_files_are_skipped(tmp_path: Path):
    (tmp_path / "fr.txt").write_text(LINES * 10, encoding="utf-8")
    (tmp_path / "de.txt").write_bytes(b"")
    (tmp_path / "en.txt").write_bytes(b"\n\r\n\n")
    alone = train_files([tmp_path / "fr.txt"], vocab_size=350)
    assert train_files([tmp_path], vocab_size=350).to_str() == alone.to_str()


def test_empty_corpus(tmp_path: Path):
    (tmp_path / "a.txt").write_bytes(b"\n\n")
    (tmp_path / "b.jsonl").write_bytes(b'{"text": ""}\n')
    raises(ValueError, "the corpus is empty", train_files, [tmp_path], vocab_size=300)
    raises(ValueError, "the corpus is empty", polybpe.train, texts=[], vocab_size=300)
    raises(ValueError, "the corpus is empty", polybpe.train, texts=["", ""], vocab_size=300)
    (tmp_path / "notes").mkdir()
    raises(ValueError, "no input files", train_files, [tmp_path / "notes"], vocab_size=300)


def test_vocab_size_too_small():
    raises(ValueError, r"vocab size 290 is too small.*41 special tokens \+ 256 byte tokens = 297",
           polybpe.train, texts=["le chat"], vocab_size=290)


def test_malformed_or_truncated_tokenizer_json(tmp_path: Path):
    tok = polybpe.train(texts=[LINES] * 10, vocab_size=320, special_tokens="none")
    text = tok.to_str()
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) // 2], encoding="utf-8")
    err = raises(ValueError, "EOF while parsing", polybpe.Tokenizer.from_file, cut)
    assert "cut.json" in str(err) and " line " in str(err) and " column " in str(err)
    comma = tmp_path / "comma.json"
    comma.write_text('{\n  "model": {"type": "BPE",}\n}', encoding="utf-8")
    raises(ValueError, "comma.json.*trailing comma at line 2 column 27", polybpe.Tokenizer.from_file, comma)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"model": \xff}')
    raises(ValueError, "binary.json.*invalid UTF-8 at byte offset 10", polybpe.Tokenizer.from_file, binary)
    raises(ValueError, "EOF while parsing", polybpe.Tokenizer.from_str, text[:100])
    raises(FileNotFoundError, "missing.json", polybpe.Tokenizer.from_file, tmp_path / "missing.json")


def test_mangled_tokenizer_json_never_panics():
    """Cut, spliced and byte-flipped tokenizer.json: a ValueError every time it is refused."""
    run_child(
        """
        import random, polybpe
        tok = polybpe.train(texts=["le chat et le chien, der Hund"] * 20, vocab_size=300)
        text = tok.to_str()
        random.seed(7)
        refused = 0
        for _ in range(300):
            chars = list(text)
            for _ in range(random.randint(1, 4)):
                i = random.randrange(len(chars))
                op = random.random()
                if op < 0.4:
                    chars[i] = random.choice('{}[]",:0123456789-aé\\\\ ')
                elif op < 0.7:
                    del chars[i : i + random.randint(1, 40)]
                else:
                    j = random.randrange(len(chars))
                    chars[i:i] = chars[j : j + random.randint(1, 40)]
            try:
                mangled = polybpe.Tokenizer.from_str("".join(chars))
            except ValueError as e:
                assert str(e), "empty message"
                refused += 1
                continue
            mangled.decode(mangled.encode("le chat, der Hund", disallowed_special=()))
        assert refused > 100, refused
        """
    )


def test_tiktoken_duplicate_ranks_name_the_line(tmp_path: Path):
    ranks = tmp_path / "dup.tiktoken"
    ranks.write_text("IQ== 0\nIg== 1\nIw== 1\n")
    raises(ValueError, r"dup.tiktoken: line 3: rank 1 already used on line 2", polybpe.Tokenizer.from_tiktoken, ranks, pattern="cl100k")
    tokens = tmp_path / "tok.tiktoken"
    tokens.write_text("IQ== 0\nIg== 1\nIQ== 2\n")
    raises(ValueError, r"tok.tiktoken: line 3: .* already has rank 0 on line 1", polybpe.Tokenizer.from_tiktoken, tokens, pattern="cl100k")


def test_parquet_without_text_column(tmp_path: Path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "shard.parquet"
    pq.write_table(pa.table({"id": [1, 2], "content": ["le chat", "der Hund"]}), path)
    raises(ValueError, r"shard.parquet: cannot read Parquet: no column `text` \(columns: id, content\)", train_files, [path], vocab_size=300)
    # A damaged file is refused with its name, never a panic.
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"text": [f"texte numéro {i}" for i in range(300)]}), good, row_group_size=100)
    data = good.read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    raises(ValueError, "cut.parquet", train_files, [tmp_path / "cut.parquet"], vocab_size=300)


def test_language_codes(tmp_path: Path):
    (tmp_path / "fr.txt").write_text(LINES * 10, encoding="utf-8")
    # Any code is a label, in files and in texts.
    assert polybpe.train(texts=[("xx", LINES)] * 10, vocab_size=300).vocab_size == 300
    raises(ValueError, r'"frr" is given for "typo.txt", which names no input file', train_files, [tmp_path], vocab_size=300, languages={"typo.txt": "frr"})
    raises(ValueError, r'"yy".*the corpus does not have', train_files, [tmp_path], vocab_size=300, weighting="uniform", weights={"yy": 2.0})
    raises(ValueError, r'"yy".*not in the training corpus', train_files, [tmp_path], vocab_size=300, ratio={"yy": 3.0})


def test_special_token_text_in_the_corpus():
    tok = polybpe.train(texts=["<|source_start|>le chat<|source_end|> et <|end_of_text|>"] * 40, vocab_size=420)
    for i in range(41, tok.vocab_size):
        piece = tok.decode_single_token_bytes(i)
        assert b"<|" not in piece and b"|>" not in piece, piece
    raises(ValueError, "source_end", tok.encode, "a <|source_end|>")
    plain = tok.encode("a <|source_end|>", disallowed_special=())
    assert all(i >= 41 for i in plain)
    assert tok.encode("<|source_end|>", allowed_special="all") == [7]


def test_output_path_not_writable(tmp_path: Path):
    tok = polybpe.train(texts=[LINES] * 10, vocab_size=300, special_tokens="none")
    taken = tmp_path / "taken"
    taken.mkdir()
    err = raises(OSError, "taken", tok.save, taken)
    assert not isinstance(err, FileNotFoundError)
    raises(FileNotFoundError, "nodir", tok.save, tmp_path / "nodir" / "t.json")
    raises(OSError, "polybpe-t.json", tok.save, "/proc/polybpe-t.json")
    assert sorted(os.listdir(tmp_path)) == ["taken"]


def test_disk_full_keeps_the_old_file(tmp_path: Path):
    """A file-size limit with SIGXFSZ ignored makes writes fail as on a full disk."""
    out = tmp_path / "t.json"
    out.write_bytes(b"old tokenizer")
    child = run_child(
        f"""
        import resource, signal, polybpe
        tok = polybpe.train(texts=[{LINES!r}] * 10, vocab_size=400)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        try:
            tok.save({str(out)!r})
        except OSError as e:
            print(type(e).__name__, e)
        else:
            raise SystemExit("saved past the size limit")
        """
    )
    assert "t.json" in child.stdout and "File too large" in child.stdout, child.stdout
    assert out.read_bytes() == b"old tokenizer"
    assert os.listdir(tmp_path) == ["t.json"]


def test_interrupted_training_leaves_old_or_new_file(tmp_path: Path):
    lines = [f"ligne {i}: le chat {i * 7 % 13} et le chien {i % 97}, der Hund {i * 31 % 101}" for i in range(4000)]
    corpus = tmp_path / "fr.txt"
    corpus.write_text("\n".join(lines), encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import sys, polybpe
        polybpe.train(files=[{str(corpus)!r}], vocab_size=3000).save(sys.argv[1])
        """
    )
    reference = tmp_path / "reference.json"
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", script, str(reference)], check=True)
    full_run = time.monotonic() - start
    expected = reference.read_bytes()
    json.loads(expected)

    out = tmp_path / "out" / "t.json"
    out.parent.mkdir()
    interrupted = 0
    for step in range(12):
        out.write_bytes(b"old")
        child = subprocess.Popen([sys.executable, "-c", script, str(out)], stderr=subprocess.DEVNULL)
        time.sleep(full_run * step / 10)
        finished = child.poll() is not None
        child.send_signal(signal.SIGKILL)
        child.wait()
        now = out.read_bytes()
        assert now in (b"old", expected), f"kill at step {step} left {len(now)} bytes of something else"
        interrupted += not finished and now == b"old"
    assert interrupted > 0


def test_bad_ids_and_arguments_are_ordinary_errors(tmp_path: Path):
    tok = polybpe.train(texts=[LINES] * 10, vocab_size=300)
    raises(KeyError, "99999", tok.decode, [1, 2, 99999])
    # Negative or too large ids are no token ids at all: ValueError naming the item, in every
    # method that takes ids.
    raises(ValueError, re.escape("ids[1] = -1"), tok.decode, [5, -1])
    raises(ValueError, re.escape("ids[0] = 4294967296"), tok.decode, [2**32])
    raises(ValueError, re.escape("ids[0] = 1267650600228229401496703205376"), tok.decode, [2**100])
    raises(ValueError, re.escape("batch[1][0] = -1"), tok.decode_batch, [[5], [-1]])
    raises(ValueError, "id = -1", tok.decode_single_token_bytes, -1)
    raises(ValueError, "id = -1", tok.id_to_token, -1)
    raises(TypeError, re.escape("ids[1] must be an int"), tok.decode, [5, "6"])
    raises(TypeError, "not a string", tok.decode, "123")
    assert tok.decode(np.array([40, 41], dtype=np.int64)) == tok.decode([40, 41])
    # A bad item of a batch is named by its index.
    raises(TypeError, re.escape("texts[1] is None"), tok.encode_batch, ["a", None])
    raises(TypeError, re.escape("texts[2] is 3 (int)"), tok.encode_batch, ["a", "b", 3])
    raises(TypeError, "not a str", tok.encode_batch, "one string")
    raises(TypeError, None, tok.encode, b"bytes")
    raises(ValueError, "num_threads", tok.encode_batch, ["a"], num_threads=0)


def test_help_shows_the_real_special_token_defaults():
    for method in [polybpe.Tokenizer.encode, polybpe.Tokenizer.encode_batch]:
        signature = method.__text_signature__
        assert "disallowed_special='all'" in signature and "allowed_special=()" in signature, signature
        assert "disallowed_special=None" not in signature
    tok = polybpe.train(texts=[LINES] * 10, vocab_size=300)
    # What the signature shows is what omitting the arguments does.
    text = "a <|end_of_text|> b"
    with pytest.raises(ValueError):
        tok.encode(text)
    with pytest.raises(ValueError):
        tok.encode(text, allowed_special=(), disallowed_special="all")
