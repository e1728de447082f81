"""`vocab train`, `polybpe.train` and the recipe fuzz target resolve settings with one piece of
code (`polybpe::train::Recipe`): for random recipes and random flag sets, the CLI's
`--dry-run` and Python's `resolve_settings` give the same settings, or the same error. (The fuzz
target calls `Recipe::parse`, `resolve` and `Trainer::new` as the CLI does for a recipe without
flags, which the first case of every draw checks.)"""

from __future__ import annotations

import json
import random

import pytest

polybpe = pytest.importorskip("polybpe")

from conftest import run_vocab  # noqa: E402

# Values drawn for each setting: valid ones and a few that must be refused.
RECIPE_VALUES = {
    "vocab_size": [300, 1000, 65536, 100],
    "special_tokens": ['"pleias-rag"', '"none"', '"bogus"'],
    "reserved": [0, 3],
    "extra_special_tokens": ['["<|a|>"]', '["<|a|>", "<|a|>"]', "[]"],
    "pattern": ['"default"', '"gpt2"', '"cl100k"', '"o200k"', '""', '"\\\\w+|\\\\s+"', '"(?<"'],
    "normalization": ['"nfc"', '"none"', '"nfkc"', '"nfd"'],
    "min_frequency": [1, 2, 5],
    "max_token_bytes": [1, 2, 16],
    "max_words": [0, 1000],
    "doc_per_file": ["true", "false"],
    "skip_invalid": ["true", "false"],
    "text_field": ['"body"'],
    "lang_field": ['"lang"'],
}
BALANCE_VALUES = {
    "weighting": ['"proportional"', '"uniform"', '"temperature"', '"temperature=0.5"', '"bogus"'],
    "temperature": [0.3, 0.7, 1.5],
    "weights": ["{ la = 2.0 }", "{ la = -1.0 }", "{ fr = 0.5, de = 1.5 }"],
}
PARITY_VALUES = {
    "dev": ['"../parallel"', '"/abs/dev"'],
    "dev_lines": ['"1:1000"', '"5:"', '":9"', '"0:3"', '"x"'],
    "ratio": ["{ historical = 3.8 }", "{ code = 0.0 }"],
    "exclude": ['["pl"]'],
    "global_merges": [0, 500],
    "tolerance": [0.05, -1.0],
    "window": [100, 0],
    "alpha": [2.0, 0.0],
    "strength": [8.0, -1.0],
    "reweight_every": [10],
}

# Flags and the keyword arguments of the same meaning: (flag, kwarg, values).
FLAGS = [
    ("--vocab-size", "vocab_size", [400, 2000, 200]),
    ("--special-tokens", "special_tokens", ["none", "pleias-rag"]),
    ("--reserved", "reserved", [2]),
    ("--pattern", "pattern", ["gpt2", "cl100k", ""]),
    ("--normalization", "normalization", ["nfkc", "none"]),
    ("--min-frequency", "min_frequency", [3]),
    ("--max-token-bytes", "max_token_bytes", [8, 0]),
    ("--max-words", "max_words", [5000, 0]),
    ("--text-field", "text_field", ["content"]),
    ("--lang-field", "lang_field", ["language_code"]),
    ("--weighting", "weighting", ["uniform", "temperature=0.2", "proportional"]),
    ("--parity-dev", "parity_dev", ["devdir"]),
    ("--dev-lines", "dev_lines", ["1:500", "2:"]),
    ("--global-merges", "global_merges", [100]),
    ("--parity-tolerance", "parity_tolerance", [0.1]),
    ("--parity-window", "parity_window", [50]),
    ("--parity-alpha", "parity_alpha", [3.0]),
    ("--parity-strength", "parity_strength", [4.0]),
    ("--reweight-every", "reweight_every", [20]),
]
# Flags that repeat, as LANG=VALUE, and their mapping kwargs.
MAP_FLAGS = [("--weight", "weights", [("la", 0.5), ("code", 2.0)]), ("--ratio", "ratio", [("code", 3.5)])]
SWITCHES = [("--no-balance", "no_balance"), ("--no-parity", "no_parity"), ("--doc-per-file", "doc_per_file"), ("--skip-invalid", "skip_invalid")]


def random_recipe(rng: random.Random) -> str:
    lines = [f"{key} = {rng.choice(values)}" for key, values in RECIPE_VALUES.items() if rng.random() < 0.25]
    for table, values in (("balance", BALANCE_VALUES), ("parity", PARITY_VALUES)):
        if rng.random() < 0.5:
            lines.append(f"[{table}]")
            lines += [f"{key} = {rng.choice(v)}" for key, v in values.items() if rng.random() < 0.3]
    if rng.random() < 0.3:
        lines += ["[[inputs]]", 'path = "fr.txt"', 'lang = "fr"']
    return "\n".join(lines) + "\n"


def random_flags(rng: random.Random) -> tuple[list[str], dict]:
    flags, kwargs = [], {}
    for flag, kwarg, values in FLAGS:
        if rng.random() < 0.12:
            value = rng.choice(values)
            flags += [flag, str(value)]
            kwargs[kwarg] = value
    for flag, kwarg, values in MAP_FLAGS:
        if rng.random() < 0.12:
            lang, value = rng.choice(values)
            flags += [flag, f"{lang}={value}"]
            kwargs[kwarg] = {lang: value}
    if rng.random() < 0.1:
        flags += ["--parity-exclude", "de"]
        kwargs["parity_exclude"] = ["de"]
    if rng.random() < 0.1:
        flags += ["--lang", "a.txt=fr"]
        kwargs["languages"] = {"a.txt": "fr"}
    for flag, kwarg in SWITCHES:
        if rng.random() < 0.08:
            flags.append(flag)
            kwargs[kwarg] = True
    return flags, kwargs


def cli_settings(vocab_bin, recipe, corpus, flags):
    result = run_vocab(vocab_bin, "train", "--recipe", recipe, "--corpus", corpus, "--dry-run", *flags, check=False)
    if result.returncode == 0:
        return ("ok", json.loads(result.stdout))
    assert result.stderr.startswith("error: "), result.stderr
    return ("error", result.stderr[len("error: "):].strip())


def python_settings(recipe, corpus, kwargs):
    try:
        return ("ok", json.loads(polybpe.resolve_settings([corpus], recipe=recipe, **kwargs)))
    except ValueError as e:
        return ("error", str(e).strip())


@pytest.mark.parametrize("seed", range(8))
def test_cli_and_python_resolve_the_same_settings(tmp_path, vocab_bin, seed):
    rng = random.Random(seed)
    corpus = str(tmp_path / "corpus")
    outcomes = {"ok": 0, "error": 0}
    for case in range(25):
        recipe = tmp_path / f"r{case}.toml"
        recipe.write_text(random_recipe(rng), encoding="utf-8")
        flags, kwargs = random_flags(rng) if case else ([], {})
        cli = cli_settings(vocab_bin, recipe, corpus, flags)
        py = python_settings(str(recipe), corpus, kwargs)
        assert cli == py, f"recipe:\n{recipe.read_text()}\nflags: {flags}\nkwargs: {kwargs}"
        outcomes[cli[0]] += 1
    # The draws exercise both outcomes.
    assert outcomes["ok"] > 0 and outcomes["error"] > 0, outcomes


def test_python_kwargs_override_the_recipe(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('vocab_size = 1000\npattern = "gpt2"\n[balance]\nweighting = "uniform"\n', encoding="utf-8")
    settings = json.loads(polybpe.resolve_settings([str(tmp_path)], recipe=str(recipe), vocab_size=2000))
    assert settings["settings"]["merge"]["vocab_size"] == 2000
    assert settings["settings"]["count"]["pattern"] == "gpt2"
    assert settings["settings"]["merge"]["weighting"] == "uniform"
    # reweight_every reaches parity settings from Python as from the CLI.
    settings = json.loads(polybpe.resolve_settings([str(tmp_path)], parity_dev=str(tmp_path), parity_strength=4.0, reweight_every=7))
    assert settings["settings"]["merge"]["parity"]["reweight_every"] == 7


def test_stray_parity_settings_are_an_error_in_python_too(tmp_path):
    with pytest.raises(ValueError, match="needs a dev set"):
        polybpe.resolve_settings([str(tmp_path)], parity_strength=4.0)


def test_unknown_and_mistyped_kwargs_are_type_errors(tmp_path):
    with pytest.raises(TypeError, match="vocab_sise"):
        polybpe.resolve_settings([str(tmp_path)], vocab_sise=1000)
    with pytest.raises(TypeError, match="vocab_size"):
        polybpe.resolve_settings([str(tmp_path)], vocab_size="big")
    with pytest.raises(TypeError, match="parity_exclude"):
        polybpe.resolve_settings([str(tmp_path)], parity_exclude="de")
