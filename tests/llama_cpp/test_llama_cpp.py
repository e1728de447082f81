"""polybpe vocabularies in llama.cpp itself: GGUF export, ids, special tokens, chkhsh.

Run by tests/llama_cpp/run.sh, which builds llama.cpp and the `tokenize` driver and sets
LLAMA_CPP_DIR (the build: include/, lib/, share/) and LLAMA_TOKENIZE (the driver).
"""

import ast
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from conftest import ROOT, run_vocab, shared, shared_dir, vocab_bin  # noqa: E402,F401

RECIPE = ROOT / "vocab" / "recipes" / "euro-65k.toml"
# The llama.cpp pre-tokenizer each split pattern is exported as (`tokenizer.ggml.pre`).
LLAMA_CPP_PRE = {"qwen35": "qwen35", "qwen2": "qwen2", "cl100k": "llama-bpe", "llama3": "llama-bpe", "gpt2": "gpt-2"}
# The slice of each training file the test vocabularies are trained on (the rest of the recipe's
# settings are kept; balancing is left out to keep the run short).
TRAIN_LINES = 4000
VOCAB_SIZE = 32768
CHECK_LINES = 1000
RAG_LINES = [
    "<|query_start|>Où est le château d'Ørsted ?<|query_end|>",
    "<|source_start|><|source_id_start|>1<|source_id_end|>Le château, 1789.<|source_end|>",
    "<|answer_start|>Il est à Copenhague.<|answer_end|><|end_of_text|>",
    "<|im_start|>user\nbonjour<|im_end|>",
]


def llama_cpp_dir() -> Path:
    return Path(os.environ["LLAMA_CPP_DIR"])


def llama_tokenize(gguf: Path, lines_file: Path, parse_special: bool) -> list[list[int]]:
    out = subprocess.run(
        [os.environ["LLAMA_TOKENIZE"], str(gguf), str(lines_file), "1" if parse_special else "0"],
        capture_output=True, check=True,
        env={**os.environ, "LD_LIBRARY_PATH": str(llama_cpp_dir() / "lib")},
    ).stdout.decode()
    return [[int(x) for x in line.split()] for line in out.split("\n")[:-1]]


def polybpe_encode(vocab_bin: str, tokenizer: Path, lines_file: Path, allow_special: bool) -> list[list[int]]:
    args = ["encode", "-t", tokenizer, "--lines", lines_file] + (["--allow-special"] if allow_special else [])
    out = run_vocab(vocab_bin, *args).stdout
    return [[int(x) for x in line.split()] for line in out.split("\n")[:-1]]


def recipe_pattern(vocab_bin: str) -> str:
    """The default recipe's split pattern, as `vocab train --dry-run` resolves it."""
    return json.loads(run_vocab(vocab_bin, "train", "--recipe", RECIPE, "--dry-run").stdout)["settings"]["count"]["pattern"]


def pytest_generate_tests(metafunc):
    """Every vocabulary test runs on the default recipe's pattern and, when that is another one,
    on qwen35 (the other pattern whose marks-in-words and single digits llama.cpp runs exactly)."""
    if "pattern" in metafunc.fixturenames:
        bin_ = os.environ.get("POLYBPE_VOCAB_BIN", str(ROOT / "target" / "debug" / "vocab"))
        patterns = [recipe_pattern(bin_)] if Path(bin_).exists() else ["default recipe"]
        metafunc.parametrize("pattern", patterns + [p for p in ["qwen35"] if p not in patterns], scope="module")


@pytest.fixture(scope="module")
def trained(shared, vocab_bin, tmp_path_factory, pattern) -> Path:
    """The default recipe (its specials, normalization and pattern, or `pattern`) on a slice of the corpus."""
    work = tmp_path_factory.mktemp("train")
    corpus = work / "corpus"
    corpus.mkdir()
    for f in sorted((shared / "corpus" / "train").glob("*.txt")):
        with open(f, encoding="utf-8") as src:
            head = [line for _, line in zip(range(TRAIN_LINES), src)]
        (corpus / f.name).write_text("".join(head), encoding="utf-8")
    out = work / "tokenizer.json"
    run_vocab(vocab_bin, "train", "--recipe", RECIPE, "--corpus", corpus, "--no-balance", "--pattern", pattern,
              "--vocab-size", VOCAB_SIZE, "--out", out, "--quiet")
    return out


@pytest.fixture(scope="module")
def gguf_file(trained, vocab_bin) -> Path:
    out = trained.with_suffix(".gguf")
    result = run_vocab(vocab_bin, "export", trained, "--gguf", out)
    assert "pre-tokenizer" in result.stdout
    return out


def nfc_lines_file(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(unicodedata.normalize("NFC", line.rstrip("\n")) + "\n" for line in lines), encoding="utf-8")
    return path


def test_gguf_keys_read_back_with_gguf_package(trained, gguf_file, pattern):
    from gguf import GGUFReader, TokenType

    reader = GGUFReader(gguf_file)
    fields = reader.fields

    def scalar(key):
        field = fields[key]
        return field.contents()

    hf = json.loads(trained.read_text(encoding="utf-8"))
    assert scalar("general.architecture") == "llama"
    assert scalar("tokenizer.ggml.model") == "gpt2"
    assert scalar("tokenizer.ggml.pre") == LLAMA_CPP_PRE[pattern]
    tokens = scalar("tokenizer.ggml.tokens")
    types = scalar("tokenizer.ggml.token_type")
    vocab = hf["model"]["vocab"]
    assert len(tokens) == len(types) == len(vocab) + len([t for t in hf["added_tokens"] if t["content"] not in vocab])
    added = {t["id"] for t in hf["added_tokens"]}
    for text, id_ in vocab.items():
        assert tokens[id_] == text
        assert types[id_] == (TokenType.CONTROL if id_ in added else TokenType.NORMAL)
    for added in hf["added_tokens"]:
        assert tokens[added["id"]] == added["content"]
        assert types[added["id"]] == TokenType.CONTROL
    assert scalar("tokenizer.ggml.merges") == [" ".join(m) if isinstance(m, list) else m for m in hf["model"]["merges"]]
    ids = {t["content"]: t["id"] for t in hf["added_tokens"]}
    assert scalar("tokenizer.ggml.bos_token_id") == ids["<|begin_of_text|>"]
    assert scalar("tokenizer.ggml.eos_token_id") == ids["<|end_of_text|>"]
    assert scalar("tokenizer.ggml.padding_token_id") == ids["[PAD]"]
    assert scalar("tokenizer.ggml.unknown_token_id") == ids["[UNK]"]
    assert scalar("tokenizer.ggml.add_bos_token") is False
    assert scalar("tokenizer.ggml.add_eos_token") is False


def test_recipe_pattern_is_exported_as_its_llama_cpp_pre(vocab_bin):
    """The default recipe trains with a pattern llama.cpp runs (the parametrized tests cover it)."""
    assert recipe_pattern(vocab_bin) in LLAMA_CPP_PRE


def test_pattern_is_spelt_as_in_llama_cpp(trained, gguf_file):
    """The tokenizer.json regex is the one llama.cpp's source quotes for the GGUF's pre-tokenizer:
    the pre name leads to its `LLAMA_VOCAB_PRE_TYPE_…` in llama-vocab.cpp, and that type's case
    block quotes the original regex of tokenizer.json."""
    from gguf import GGUFReader

    pre = GGUFReader(gguf_file).fields["tokenizer.ggml.pre"].contents()
    regex = json.loads(trained.read_text(encoding="utf-8"))["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
    source = (llama_cpp_dir() / "share" / "llama-vocab.cpp").read_text(encoding="utf-8")
    # `tokenizer_pre == "NAME"` (possibly among other names), then `pre_type = LLAMA_VOCAB_PRE_TYPE_X;`.
    named = re.search(r'tokenizer_pre == "' + re.escape(pre) + r'"[^;]*?pre_type\s*=\s*(LLAMA_VOCAB_PRE_TYPE_\w+)', source, re.S)
    assert named, f"llama-vocab.cpp has no pre-tokenizer named {pre!r}"
    block = source[source.index(f"case {named.group(1)}:"):]
    block = block[: block.index("break;")]
    quoted = regex.replace("\\", "\\\\")
    assert f'"{quoted}"' in block, (pre, named.group(1), regex)


@pytest.mark.parametrize("kind", ["parallel", "train"])
def test_llama_cpp_ids_equal_polybpe(kind, shared, trained, gguf_file, vocab_bin, tmp_path):
    total = differing = 0
    examples = []
    folder = shared / "corpus" / kind
    for f in sorted(folder.glob("*.txt")):
        with open(f, encoding="utf-8") as src:
            lines = src.readlines() if kind == "parallel" else [line for _, line in zip(range(CHECK_LINES), src)]
        lines_file = nfc_lines_file(tmp_path / f.name, lines)
        ours = polybpe_encode(vocab_bin, trained, lines_file, allow_special=False)
        theirs = llama_tokenize(gguf_file, lines_file, parse_special=False)
        assert len(ours) == len(theirs) == len(lines), f.name
        for i, (a, b) in enumerate(zip(ours, theirs)):
            total += 1
            if a != b:
                differing += 1
                if len(examples) < 5:
                    examples.append(f"{f.name}:{i + 1}: polybpe {a[:12]} llama.cpp {b[:12]}")
    print(f"\n{kind}: llama.cpp ids equal polybpe's on {total - differing} of {total} lines")
    assert differing == 0, "\n".join(examples)


def test_rag_special_tokens(trained, gguf_file, vocab_bin, tmp_path):
    specials = {t["id"] for t in json.loads(trained.read_text(encoding="utf-8"))["added_tokens"]}
    lines_file = nfc_lines_file(tmp_path / "rag.txt", [line.replace("\n", " ") for line in RAG_LINES])
    parsed = llama_tokenize(gguf_file, lines_file, parse_special=True)
    assert parsed == polybpe_encode(vocab_bin, trained, lines_file, allow_special=True)
    plain = llama_tokenize(gguf_file, lines_file, parse_special=False)
    assert plain == polybpe_encode(vocab_bin, trained, lines_file, allow_special=False)
    for line, with_specials, as_text in zip(RAG_LINES, parsed, plain):
        markers = re.findall(r"<\|[a-z_]+\|>", line)
        assert len([i for i in with_specials if i in specials]) == len(markers), line
        assert not any(i in specials for i in as_text), line


def test_chkhsh_matches_transformers(trained, vocab_bin, pattern):
    from hashlib import sha256

    from transformers import PreTrainedTokenizerFast

    script = (llama_cpp_dir() / "share" / "convert_hf_to_gguf_update.py").read_text(encoding="utf-8")
    chktxt = ast.literal_eval(re.search(r"^CHK_TXT = (.*)$", script, re.M).group(1))
    expected = sha256(str(PreTrainedTokenizerFast(tokenizer_file=str(trained)).encode(chktxt)).encode()).hexdigest()
    shown = run_vocab(vocab_bin, "inspect", trained).stdout
    assert f"chkhsh {expected}" in shown
    assert f'if chkhsh == "{expected}":' in shown and f'res = "{LLAMA_CPP_PRE[pattern]}"' in shown


def test_default_pattern_is_refused_naming_the_nearest(tmp_path, vocab_bin):
    corpus = tmp_path / "fr.txt"
    corpus.write_text("l'homme et l'arte d'Ørsted\n" * 50, encoding="utf-8")
    tokenizer = tmp_path / "default.json"
    run_vocab(vocab_bin, "train", "--corpus", corpus, "--pattern", "default", "--special-tokens", "none",
              "--vocab-size", 300, "--out", tokenizer, "--quiet")
    result = run_vocab(vocab_bin, "export", tokenizer, "--gguf", tmp_path / "default.gguf", check=False)
    assert result.returncode == 1
    assert "qwen35" in result.stderr and "elision" in result.stderr
    assert not (tmp_path / "default.gguf").exists()
    assert "llama.cpp: cannot run" in run_vocab(vocab_bin, "inspect", tokenizer).stdout
