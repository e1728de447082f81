"""Python training says what it did: progress on stderr, a report equal to the CLI's summary,
and errors (not degenerate vocabularies) for degenerate settings."""

import json

import pytest

import polybpe

CORPUS = [("fr", "le chat et le chien dorment dans la maison"), ("de", "die Katze und der Hund schlafen im Haus")] * 40


def test_report_holds_what_the_cli_prints(capfd):
    tok, report = polybpe.train(texts=CORPUS, vocab_size=300, special_tokens="none", report=True)
    assert isinstance(report, polybpe.TrainReport)
    assert report.vocab_size == tok.vocab_size == 300
    assert report.documents == len(CORPUS)
    assert [row["lang"] for row in report.languages] == ["fr", "de"]
    assert sum(row["tokens"] for row in report.languages) == sum(len(tok.encode(t, disallowed_special=())) for _, t in CORPUS)
    summary = str(report)
    assert "language" in summary and "bytes/tok" in summary and "fr " in summary
    # Not quiet: progress and the same summary on stderr.
    err = capfd.readouterr().err
    assert "counted" in err and summary in err


def test_quiet_prints_nothing(capfd):
    polybpe.train(texts=CORPUS, vocab_size=300, special_tokens="none", quiet=True)
    assert capfd.readouterr().err == ""


def test_unreachable_vocab_size_is_a_warning_in_the_report():
    tok, report = polybpe.train(texts=["ab ab"], vocab_size=5000, special_tokens="none", quiet=True, report=True)
    assert report.stopped_early
    assert tok.vocab_size < 5000
    assert any("ran out of pairs" in w for w in report.warnings), report.warnings


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pattern": ""}, "pattern is empty"),
        ({"max_words": 0}, "max_words is 0"),
        ({"max_token_bytes": 0}, "max_token_bytes is 0"),
        ({"max_token_bytes": 1}, "max_token_bytes is 1"),
        ({"vocab_size": 100}, "too small"),
    ],
)
def test_degenerate_settings_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        polybpe.train(texts=CORPUS, special_tokens="none", quiet=True, **kwargs)


def test_a_single_string_is_not_a_corpus():
    with pytest.raises(ValueError, match="single string"):
        polybpe.train(texts="le chat et le chien", vocab_size=300, quiet=True)


def test_a_bad_text_names_its_index():
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        polybpe.train(texts=["le chat", None], vocab_size=300, quiet=True)


def test_recipe_file_with_keyword_overrides(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('vocab_size = 300\nspecial_tokens = "none"\npattern = "gpt2"\n', encoding="utf-8")
    tok = polybpe.train(texts=CORPUS, recipe=recipe, quiet=True)
    assert tok.to_str() == polybpe.train(texts=CORPUS, vocab_size=300, special_tokens="none", pattern="gpt2", quiet=True).to_str()
    tok = polybpe.train(texts=CORPUS, recipe=recipe, vocab_size=290, quiet=True)
    assert tok.vocab_size == 290
    settings = json.loads(polybpe.resolve_settings(recipe=recipe, vocab_size=290))
    assert settings["settings"]["count"]["pattern"] == "gpt2"


def test_count_takes_no_merge_settings():
    with pytest.raises(TypeError, match="vocab_size"):
        polybpe.count(texts=CORPUS, vocab_size=1000)
    data = polybpe.count(texts=CORPUS, special_tokens="none", quiet=True)
    assert polybpe.train(counts=[data], vocab_size=300, special_tokens="none", quiet=True).vocab_size == 300


def test_reweight_every_changes_soft_parity(tmp_path):
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "fr.txt").write_text("le chat dort\nla maison\n", encoding="utf-8")
    (dev / "de.txt").write_text("die Katze schläft\ndas Haus\n", encoding="utf-8")
    common = dict(texts=CORPUS, vocab_size=330, special_tokens="none", parity_dev=dev, parity_strength=8.0, quiet=True)
    often = polybpe.train(reweight_every=1, **common).to_str()
    rarely = polybpe.train(reweight_every=50, **common).to_str()
    assert often != rarely


def test_null_texts_are_counted_and_reported(tmp_path):
    corpus = tmp_path / "docs.jsonl"
    rows = ['{"text": "le chat et le chien", "language": "fr"}'] * 20 + ['{"text": null, "language": "fr"}'] * 3
    corpus.write_text("\n".join(rows) + "\n", encoding="utf-8")
    _, report = polybpe.train(files=[corpus], vocab_size=300, special_tokens="none", quiet=True, report=True)
    assert report.skipped_null == 3
    assert report.documents == 20
    assert any("null text" in w for w in report.warnings), report.warnings
    assert "3 records with null text skipped" in str(report)


def test_heldout_text_is_scored_in_the_report(tmp_path):
    held = tmp_path / "held"
    held.mkdir()
    (held / "fr.txt").write_text("un oiseau chante\n", encoding="utf-8")
    (held / "de.txt").write_text("ein Vogel singt\n", encoding="utf-8")
    tok, report = polybpe.train(texts=CORPUS, vocab_size=300, special_tokens="none", heldout=held, quiet=True, report=True)
    rows = {row["lang"]: row for row in report.heldout["languages"]}
    assert rows["fr"]["bytes"] == len("un oiseau chante".encode())
    assert rows["fr"]["tokens"] == len(tok.encode("un oiseau chante", disallowed_special=()))
    assert report.heldout["pooled_bytes_per_token"] > 1
    assert "held-out text" in str(report)
    # Held-out lines that are dev lines are refused.
    with pytest.raises(ValueError, match="overlap the dev lines"):
        polybpe.train(texts=CORPUS, vocab_size=300, special_tokens="none", parity_dev=held, heldout=held, quiet=True)
