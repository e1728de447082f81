"""polybpe: fast multilingual byte-level BPE.

Train a vocabulary (``polybpe.train``), load HuggingFace ``tokenizer.json`` files
(``Tokenizer.from_file``) and tiktoken rank files (``Tokenizer.from_tiktoken``), encode batches
on all cores with the GIL released (``Tokenizer.encode_batch``), and compare what tokenizers
cost per language (``polybpe.fertility``, ``polybpe.compare_report``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

from ._polybpe import Tokenizer, __version__, fertility_rows, train

__all__ = ["Tokenizer", "train", "fertility", "compare_report", "__version__"]

TokenizerSpec = Union[Tokenizer, str, "os.PathLike[str]"]


def _load(spec: TokenizerSpec) -> Tokenizer:
    """A Tokenizer, or a file: ``*.tiktoken`` (pattern from the name, or ``path@pattern``) or
    a tokenizer.json."""
    if isinstance(spec, Tokenizer):
        return spec
    text = os.fspath(spec)
    path, _, pattern = text.rpartition("@") if "@" in Path(text).name else (text, "", "")
    if pattern or path.endswith(".tiktoken"):
        stem = Path(path).stem
        return Tokenizer.from_tiktoken(path, pattern=pattern or stem.replace("_base", ""))
    return Tokenizer.from_file(path)


def _name(spec: TokenizerSpec, index: int) -> str:
    if isinstance(spec, Tokenizer):
        return f"tokenizer{index + 1}"
    path = Path(os.fspath(spec).split("@")[0])
    return path.parent.name if path.stem in ("tokenizer", "vocab") and path.parent.name else path.stem


def _named(tokenizers: Mapping[str, TokenizerSpec] | Sequence[TokenizerSpec] | TokenizerSpec) -> list[tuple[str, Tokenizer]]:
    if isinstance(tokenizers, Mapping):
        return [(str(name), _load(spec)) for name, spec in tokenizers.items()]
    if isinstance(tokenizers, (Tokenizer, str, os.PathLike)):
        tokenizers = [tokenizers]
    return [(_name(spec, i), _load(spec)) for i, spec in enumerate(tokenizers)]


def fertility(
    tokenizers: Mapping[str, TokenizerSpec] | Sequence[TokenizerSpec] | TokenizerSpec,
    parallel: str | os.PathLike[str] | Mapping[str, Sequence[str]] | None = None,
    texts: str | os.PathLike[str] | Mapping[str, Sequence[str]] | None = None,
    *,
    langs: Sequence[str] | None = None,
    reference: str = "en",
    as_dataframe: bool | None = None,
) -> Any:
    """Per-language costs of each tokenizer: one row per tokenizer × language.

    ``tokenizers``: a ``{name: Tokenizer or path}`` mapping, or a list of them (named after
    their files). ``parallel``: line-aligned translations (a directory of ``<lang>.txt`` or
    ``{lang: [lines]}``), on which parity against ``reference`` is measured; ``texts``: more
    text per language, counted in every column but parity. Columns: tokenizer, lang, lines,
    tokens, words, chars, bytes, fertility, chars_per_token, bytes_per_token, cont_words,
    parity (+ parity_mean/median/p90), renyi, vocab_use, gini, unused_tokens, model_vocab
    (definitions in the README). Returns a pandas DataFrame when pandas is installed (or
    ``as_dataframe=True``), else a list of dicts.
    """
    rows = fertility_rows(_named(tokenizers), parallel, texts, langs=list(langs) if langs else None, reference=reference)
    return _maybe_dataframe(rows, as_dataframe)


def compare_report(
    tokenizers: Mapping[str, TokenizerSpec] | Sequence[TokenizerSpec] | TokenizerSpec,
    path: str | os.PathLike[str],
    parallel: str | os.PathLike[str] | Mapping[str, Sequence[str]] | None = None,
    texts: str | os.PathLike[str] | Mapping[str, Sequence[str]] | None = None,
    *,
    langs: Sequence[str] | None = None,
    reference: str = "en",
    as_dataframe: bool | None = None,
) -> Any:
    """Like :func:`fertility`, and writes a chart to ``path``: ``.html`` for a self-contained
    report (chart and tables), ``.svg`` for the chart alone. Returns the rows."""
    rows = fertility_rows(
        _named(tokenizers), parallel, texts, langs=list(langs) if langs else None, reference=reference, chart=os.fspath(path)
    )
    return _maybe_dataframe(rows, as_dataframe)


def _maybe_dataframe(rows: list[dict], as_dataframe: bool | None) -> Any:
    if as_dataframe is False:
        return rows
    try:
        import pandas as pd
    except ImportError:
        if as_dataframe:
            raise
        return rows
    return pd.DataFrame(rows)
