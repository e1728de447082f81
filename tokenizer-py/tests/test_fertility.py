"""polybpe.fertility against an independent computation with the real `tokenizers` and
`tiktoken` libraries on ../shared/corpus/parallel: token counts exact, ratios to 1e-9."""

import json
import statistics
from pathlib import Path

import pytest

import polybpe

LANGS = ["de", "en", "es", "fr", "it", "nl", "pl", "pt"]
REFERENCE_PARITY = {
    "gpt2": {"de": 2.13, "es": 1.87, "fr": 1.95, "it": 1.91, "nl": 2.00, "pl": 2.70, "pt": 1.89},
    "cl100k": {"de": 1.56, "es": 1.46, "fr": 1.55, "it": 1.56, "nl": 1.63, "pl": 1.93, "pt": 1.47},
}


def gini(values):
    n, total = len(values), sum(values)
    return sum(abs(a - b) for a in values for b in values) / (2 * n * total)


@pytest.fixture(scope="module")
def parallel(shared: Path):
    return {lang: (shared / "corpus" / "parallel" / f"{lang}.txt").read_text(encoding="utf-8").splitlines() for lang in LANGS}


@pytest.fixture(scope="module")
def reference_counts(shared: Path, parallel):
    """Tokens per line, by the real libraries."""
    import tiktoken
    import tiktoken_ext.openai_public as public
    from tiktoken.load import load_tiktoken_bpe
    from tokenizers import Tokenizer as HfTokenizer

    ranks = str(shared / "tokenizers" / "cl100k_base" / "cl100k_base.tiktoken")
    public.load_tiktoken_bpe = lambda *_a, **_k: load_tiktoken_bpe(ranks)
    enc = tiktoken.Encoding(**public.cl100k_base())
    hf = HfTokenizer.from_file(str(shared / "tokenizers" / "gpt2" / "gpt2.json"))
    return {
        "gpt2": {lang: [len(e.ids) for e in hf.encode_batch(lines, add_special_tokens=False)] for lang, lines in parallel.items()},
        "cl100k": {lang: [len(x) for x in enc.encode_ordinary_batch(lines)] for lang, lines in parallel.items()},
    }


def test_matches_the_real_libraries(shared: Path, parallel, reference_counts):
    tokenizers = {
        "gpt2": str(shared / "tokenizers" / "gpt2" / "gpt2.json"),
        "cl100k": str(shared / "tokenizers" / "cl100k_base" / "cl100k_base.tiktoken"),
    }
    rows = polybpe.fertility(tokenizers, parallel=shared / "corpus" / "parallel", as_dataframe=False)
    assert len(rows) == 2 * len(LANGS)
    for name, counts in reference_counts.items():
        mine = {r["lang"]: r for r in rows if r["tokenizer"] == name}
        totals = {lang: sum(c) for lang, c in counts.items()}
        for lang, lines in parallel.items():
            row = mine[lang]
            assert row["tokens"] == totals[lang], (name, lang)
            assert row["lines"] == len(lines)
            chars = sum(len(line) for line in lines)
            assert row["chars"] == chars and row["bytes"] == sum(len(line.encode()) for line in lines)
            assert row["chars_per_token"] == pytest.approx(chars / totals[lang], rel=1e-9)
            assert row["fertility"] == pytest.approx(totals[lang] / row["words"], rel=1e-9)
            assert row["parity"] == pytest.approx(totals[lang] / totals["en"], rel=1e-9)
            ratios = [a / b for a, b in zip(counts[lang], counts["en"]) if b > 0]
            assert row["parity_mean"] == pytest.approx(statistics.fmean(ratios), rel=1e-9)
            assert row["parity_median"] == pytest.approx(statistics.median(ratios), rel=1e-9)
            if lang != "en":
                assert round(row["parity"], 2) == pytest.approx(REFERENCE_PARITY[name][lang], abs=0.006)
        assert mine["en"]["gini"] == pytest.approx(gini(list(totals.values())), rel=1e-9)


def test_mapping_input_report_and_bad_arguments(tmp_path: Path, shared: Path):
    tok = polybpe.Tokenizer.from_file(shared / "tokenizers" / "gpt2" / "gpt2.json")
    parallel = {"en": ["the cat", "", "a dog"], "fr": ["le chat", "", "un chien"]}
    report = tmp_path / "report.html"
    rows = polybpe.compare_report({"a": tok, "b": tok}, report, parallel=parallel, as_dataframe=False)
    assert [(r["tokenizer"], r["lang"]) for r in rows] == [("a", "en"), ("a", "fr"), ("b", "en"), ("b", "fr")]
    assert rows[0]["parity"] == 1.0 and rows[0]["words"] == 4
    json.dumps(rows)  # plain JSON-compatible values
    assert "<svg" in report.read_text()
    with pytest.raises(ValueError, match="line-aligned"):
        polybpe.fertility(tok, parallel={"en": ["a"], "fr": ["b", "c"]})
    with pytest.raises(ValueError, match="reference"):
        polybpe.fertility(tok, parallel=parallel, reference="de")
    with pytest.raises(TypeError, match="list of lines"):
        polybpe.fertility(tok, parallel={"en": "not a list"})
    with pytest.raises(FileNotFoundError):
        polybpe.fertility(tok, parallel=tmp_path / "missing")
    with pytest.raises(ValueError, match=r"\.svg or \.html"):
        polybpe.compare_report(tok, tmp_path / "x.png", parallel=parallel)
    assert not (tmp_path / "x.png").exists()
