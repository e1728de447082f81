"""polybpe: fast multilingual byte-level BPE.

Train a vocabulary (``polybpe.train``), load HuggingFace ``tokenizer.json`` files
(``Tokenizer.from_file``) and tiktoken rank files (``Tokenizer.from_tiktoken``), encode batches
on all cores with the GIL released (``Tokenizer.encode_batch``), and compare what tokenizers
cost per language (``polybpe.fertility``, ``polybpe.compare_report``).
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence, Union

from ._polybpe import TrainReport, Tokenizer, __version__, count, fertility_rows, load_spec, merge_counts, resolve_settings, train

__all__ = ["Tokenizer", "TrainReport", "train", "count", "merge_counts", "resolve_settings", "fertility", "compare_report", "__version__"]

TokenizerSpec = Union[Tokenizer, str, "os.PathLike[str]"]


def _from_pickle(json: str) -> Tokenizer:
    """Rebuilds a pickled :class:`Tokenizer` from its tokenizer.json text (``Tokenizer.__reduce__``)."""
    return Tokenizer.from_str(json)


def _named(tokenizers: Mapping[str, TokenizerSpec] | Sequence[TokenizerSpec] | TokenizerSpec) -> list[tuple[str, Tokenizer]]:
    """(name, Tokenizer) pairs. Files are ``[NAME=]PATH[@PATTERN]`` as ``vocab compare`` takes
    them (a tokenizer.json, or a tiktoken rank file with its pattern) and are named the same way."""
    if isinstance(tokenizers, Mapping):
        return [(str(name), spec if isinstance(spec, Tokenizer) else load_spec(spec)[1]) for name, spec in tokenizers.items()]
    if isinstance(tokenizers, (Tokenizer, str, os.PathLike)):
        tokenizers = [tokenizers]
    return [(f"tokenizer{i + 1}", spec) if isinstance(spec, Tokenizer) else load_spec(spec) for i, spec in enumerate(tokenizers)]


def _rows(tokenizers, parallel, texts, langs, reference, as_dataframe, chart=None) -> Any:
    rows = fertility_rows(
        _named(tokenizers), parallel, texts, langs=list(langs) if langs else None, reference=reference, chart=chart
    )
    return _maybe_dataframe(rows, as_dataframe)


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
    return _rows(tokenizers, parallel, texts, langs, reference, as_dataframe)


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
    return _rows(tokenizers, parallel, texts, langs, reference, as_dataframe, chart=os.fspath(path))


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
