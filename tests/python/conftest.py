"""Shared fixtures: paths to ../shared data and the `vocab` binary."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    return Path(os.environ.get("POLYBPE_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "corpus" / "train").is_dir():
        pytest.skip(f"shared corpus not found at {path} (set POLYBPE_SHARED)")
    return path


@pytest.fixture(scope="session")
def vocab_bin() -> str:
    binary = os.environ.get("POLYBPE_VOCAB_BIN")
    if binary:
        return binary
    subprocess.run(["cargo", "build", "--quiet", "-p", "vocab"], cwd=ROOT, check=True)
    return str(ROOT / "target" / "debug" / "vocab")


def run_vocab(vocab_bin: str, *args, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the CLI and returns the completed process (stdout/stderr as text)."""
    result = subprocess.run([vocab_bin, *map(str, args)], input=input, capture_output=True)
    result.stdout = result.stdout.decode("utf-8", errors="replace")
    result.stderr = result.stderr.decode("utf-8", errors="replace")
    if check and result.returncode != 0:
        raise AssertionError(f"vocab {' '.join(map(str, args))} failed:\n{result.stderr}")
    return result


def head(path: Path, start: int, count: int) -> list[str]:
    """Lines `start` to `start + count` of a text file, without their line ends."""
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for i, line in zip(range(start + count), f) if i >= start]


def train_on_heads(vocab_bin: str, shared: Path, tmp: Path, lines: int, vocab_size: int, *args) -> Path:
    """`vocab train` with the Pleias specials on the first `lines` lines of every training
    file (more `args` passed through); returns the tokenizer.json."""
    corpus = tmp / "corpus"
    corpus.mkdir()
    for src in sorted((shared / "corpus" / "train").glob("*.txt")):
        (corpus / src.name).write_text("\n".join(head(src, 0, lines)) + "\n", encoding="utf-8")
    out = tmp / "tokenizer.json"
    run_vocab(vocab_bin, "train", "--corpus", corpus, "--out", out, "--vocab-size", vocab_size,
              "--special-tokens", "pleias-rag", "--quiet", *args)
    return out


def polybpe_ids(vocab_bin: str, tokenizer: Path, texts: list[str], tmp_path: Path) -> list[list[int]]:
    """Ids of each text as `vocab encode --jsonl` gives them."""
    src = tmp_path / "texts.jsonl"
    src.write_text("".join(json.dumps(t) + "\n" for t in texts), encoding="utf-8")
    out = run_vocab(vocab_bin, "encode", "--tokenizer", tokenizer, "--jsonl", src).stdout
    return [json.loads(line) for line in out.splitlines()]


def eval_texts(shared: Path, skip: int, count: int, extra: list[str] | None = None) -> dict[str, list[str]]:
    """Every parallel line, lines `skip` to `skip + count` of every training file (after the
    lines training read) and, as "tricky", the `extra` strings."""
    texts = {}
    for src in sorted((shared / "corpus" / "parallel").glob("*.txt")):
        texts[f"parallel/{src.name}"] = src.read_text(encoding="utf-8").splitlines()
    for src in sorted((shared / "corpus" / "train").glob("*.txt")):
        texts[f"train/{src.name}"] = head(src, skip, count)
    if extra is not None:
        texts["tricky"] = extra
    return texts
