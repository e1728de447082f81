"""Type stubs of the compiled extension (see the Rust sources in tokenizer-py/src)."""

from os import PathLike
from typing import AbstractSet, Any, Collection, Iterable, Literal, Mapping, Sequence, overload

import numpy as np
import numpy.typing as npt

__version__: str

AllowedSpecial = Literal["all"] | AbstractSet[str] | None
DisallowedSpecial = Literal["all"] | Collection[str] | None

class Tokenizer:
    """A byte-level BPE tokenizer: polybpe-trained, or loaded from a HuggingFace tokenizer.json.

    Special tokens follow tiktoken's rules: by default (``allowed_special=()``,
    ``disallowed_special="all"``) text that contains a special token's text raises
    ``ValueError``; allow the token to encode it as its special id, or pass
    ``disallowed_special=()`` to encode it as ordinary text.

    Tokenizers are immutable and pickle as their tokenizer.json text, so they cross to
    ``multiprocessing`` and ``datasets.map(num_proc=...)`` workers.
    """

    @staticmethod
    def from_file(path: str | PathLike[str]) -> Tokenizer:
        """Loads a tokenizer.json. Raises OSError if unreadable, ValueError if it is not a
        byte-level BPE polybpe can encode exactly (e.g. SentencePiece byte_fallback models)."""
    @staticmethod
    def from_tiktoken(path: str | PathLike[str], pattern: str = "cl100k") -> Tokenizer:
        """Loads a tiktoken rank file with a named pattern (r50k, p50k, cl100k, o200k, llama3,
        qwen, whisper) or a regex; ids equal tiktoken's."""
    def save_tiktoken(self, path: str | PathLike[str]) -> None:
        """Writes the model tokens as a tiktoken rank file."""
    @staticmethod
    def from_str(json: str) -> Tokenizer:
        """Parses tokenizer.json text."""
    def save(self, path: str | PathLike[str]) -> None:
        """Writes a HuggingFace tokenizer.json atomically (never half-written)."""
    def to_str(self) -> str:
        """The tokenizer.json text."""
    def save_pretrained(self, directory: str | PathLike[str], *, model_max_length: int | None = None,
                        split_special_tokens: bool = True) -> None:
        """Writes a model folder ``transformers.AutoTokenizer.from_pretrained(directory)`` loads:
        tokenizer.json, tokenizer_config.json (bos/eos/pad/unk, ``model_max_length``, the Pleias
        RAG chat template) and special_tokens_map.json. ``split_special_tokens=True`` (the
        default) makes ``tokenizer(text)`` in transformers keep special-token text as text; a
        folder for ``apply_chat_template`` needs False (README, "Special tokens in transformers")."""
    def __reduce__(self) -> tuple[Any, tuple[str]]: ...
    def __copy__(self) -> Tokenizer: ...
    def __deepcopy__(self, memo: Any) -> Tokenizer: ...
    @overload
    def encode(self, text: str, *, return_numpy: Literal[False] = False, allowed_special: AllowedSpecial = (),
               disallowed_special: DisallowedSpecial = "all") -> list[int]: ...
    @overload
    def encode(self, text: str, *, return_numpy: Literal[True], allowed_special: AllowedSpecial = (),
               disallowed_special: DisallowedSpecial = "all") -> npt.NDArray[np.uint32]:
        """Token ids of ``text``: a list, or with ``return_numpy=True`` a ``uint32`` array (no
        list for the garbage collector to walk: 1.3-1.9x the speed of lists on lines of
        text, see benches/RESULTS.md). Texts over 1 KB are encoded with the GIL released (for
        shorter ones, releasing it would cost more than the encode), and texts of 64 KiB or more
        on all cores (``RAYON_NUM_THREADS`` caps them), with the ids of one thread. Special-token text raises
        ValueError unless allowed (``allowed_special``) or accepted as ordinary text
        (``disallowed_special=()``)."""
    @overload
    def encode_batch(self, texts: Sequence[str], *, num_threads: int | None = None, return_numpy: Literal[False] = False,
                     allowed_special: AllowedSpecial = (), disallowed_special: DisallowedSpecial = "all") -> list[list[int]]: ...
    @overload
    def encode_batch(self, texts: Sequence[str], *, num_threads: int | None = None, return_numpy: Literal[True],
                     allowed_special: AllowedSpecial = (), disallowed_special: DisallowedSpecial = "all"
                     ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
        """Encodes on all cores (or ``num_threads``) with the GIL released. The id lists share
        one int object per id (cheap for millions of ids). With ``return_numpy=True``: ``(ids, offsets)``, text ``i`` being ``ids[offsets[i]:offsets[i+1]]``."""
    @overload
    def encode_files(self, paths: str | PathLike[str] | Sequence[str | PathLike[str]], *, output: None = None,
                     doc_per_file: bool = False, text_field: str | None = None, skip_invalid: bool = False,
                     eod: str | int | None = None, num_threads: int | None = None
                     ) -> tuple[npt.NDArray[np.uint16] | npt.NDArray[np.uint32], npt.NDArray[np.uint64]]: ...
    @overload
    def encode_files(self, paths: str | PathLike[str] | Sequence[str | PathLike[str]], *, output: str | PathLike[str],
                     doc_per_file: bool = False, text_field: str | None = None, skip_invalid: bool = False,
                     eod: str | int | None = None, num_threads: int | None = None) -> dict[str, Any]:
        """Encodes corpus files (text lines or files, JSONL, Parquet, directories) on all cores:
        ``(ids, offsets)`` (ids ``uint16`` when the vocabulary fits, else ``uint32``; ``uint64``
        offsets, document ``i`` being ``ids[offsets[i]:offsets[i+1]]``), or with ``output`` the
        same arrays written to ``output + ".ids.npy"`` and ``output + ".offsets.npy"``."""
    def encode_rag_prompt(self, query: str, sources: Sequence[str | tuple[object, str]]) -> list[int]:
        """Ids of a Pleias RAG prompt with real special ids; special-token text inside the query
        or sources stays ordinary text."""
    def count_tokens(self, text: str) -> int:
        """Number of tokens, special-token text counted as ordinary text."""
    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``; raises KeyError for an id not in the vocabulary, ValueError for one
        that is no token id at all (negative, or 2**32 and above), naming its index."""
    def decode_batch(self, batch: Sequence[Sequence[int]], *, num_threads: int | None = None) -> list[str]:
        """Decodes many sequences in parallel."""
    def decode_single_token_bytes(self, id: int) -> bytes:
        """The bytes of one token (KeyError if unused, ValueError if not a token id)."""
    def token_to_id(self, token: str) -> int | None:
        """Id of a token in HF byte-level spelling (``"Ġthe"``) or a special token's text."""
    def id_to_token(self, id: int) -> str | None:
        """HF byte-level spelling of a token id."""
    @property
    def vocab_size(self) -> int:
        """One past the largest id."""
    @property
    def special_tokens(self) -> dict[str, int]:
        """Special tokens as ``{text: id}``."""
    def __len__(self) -> int: ...

@overload
def train(
    files: Sequence[str | PathLike[str]] | None = None,
    texts: Iterable[str | tuple[str, str]] | None = None,
    counts: Sequence[bytes | str | PathLike[str]] | None = None,
    *,
    report: Literal[False] = False,
    recipe: str | PathLike[str] | None = None,
    special_tokens: Literal["pleias-rag", "none"] | None = None,
    extra_special_tokens: Sequence[str] | None = None,
    reserved: int | None = None,
    pattern: str | None = None,
    normalization: Literal["nfc", "none", "nfkc"] | None = None,
    max_words: int | None = None,
    doc_per_file: bool | None = None,
    skip_invalid: bool | None = None,
    text_field: str | None = None,
    lang_field: str | None = None,
    languages: Mapping[str, str] | None = None,
    keep_languages: Mapping[str, Sequence[str]] | None = None,
    max_bytes_per_lang: int | None = None,
    vocab_size: int | None = None,
    min_frequency: int | None = None,
    max_token_bytes: int | None = None,
    weighting: str | None = None,
    temperature: float | None = None,
    weights: Mapping[str, float] | None = None,
    parity_dev: str | PathLike[str] | None = None,
    dev_lines: str | None = None,
    ratio: Mapping[str, float] | None = None,
    parity_exclude: Sequence[str] | None = None,
    global_merges: int | None = None,
    parity_tolerance: float | None = None,
    parity_window: int | None = None,
    parity_alpha: float | None = None,
    parity_strength: float | None = None,
    reweight_every: int | None = None,
    byte_premium: float | None = None,
    superword_transition: int | float | None = None,
    superword_pattern: str | None = None,
    max_superword_words: int | None = None,
    no_balance: bool = False,
    no_parity: bool = False,
    heldout: str | PathLike[str] | None = None,
    heldout_lines: str | None = None,
    num_threads: int | None = None,
    batch_size: int = 8192,
    quiet: bool = False,
) -> Tokenizer: ...
@overload
def train(
    files: Sequence[str | PathLike[str]] | None = None,
    texts: Iterable[str | tuple[str, str]] | None = None,
    counts: Sequence[bytes | str | PathLike[str]] | None = None,
    *,
    report: Literal[True],
    recipe: str | PathLike[str] | None = None,
    special_tokens: Literal["pleias-rag", "none"] | None = None,
    extra_special_tokens: Sequence[str] | None = None,
    reserved: int | None = None,
    pattern: str | None = None,
    normalization: Literal["nfc", "none", "nfkc"] | None = None,
    max_words: int | None = None,
    doc_per_file: bool | None = None,
    skip_invalid: bool | None = None,
    text_field: str | None = None,
    lang_field: str | None = None,
    languages: Mapping[str, str] | None = None,
    keep_languages: Mapping[str, Sequence[str]] | None = None,
    max_bytes_per_lang: int | None = None,
    vocab_size: int | None = None,
    min_frequency: int | None = None,
    max_token_bytes: int | None = None,
    weighting: str | None = None,
    temperature: float | None = None,
    weights: Mapping[str, float] | None = None,
    parity_dev: str | PathLike[str] | None = None,
    dev_lines: str | None = None,
    ratio: Mapping[str, float] | None = None,
    parity_exclude: Sequence[str] | None = None,
    global_merges: int | None = None,
    parity_tolerance: float | None = None,
    parity_window: int | None = None,
    parity_alpha: float | None = None,
    parity_strength: float | None = None,
    reweight_every: int | None = None,
    byte_premium: float | None = None,
    superword_transition: int | float | None = None,
    superword_pattern: str | None = None,
    max_superword_words: int | None = None,
    no_balance: bool = False,
    no_parity: bool = False,
    heldout: str | PathLike[str] | None = None,
    heldout_lines: str | None = None,
    num_threads: int | None = None,
    batch_size: int = 8192,
    quiet: bool = False,
) -> tuple[Tokenizer, TrainReport]:
    """Trains a vocabulary, with the same settings as ``vocab train``.

    Every setting is optional: ``None`` means "not set", so the value comes from ``recipe`` (a
    recipe TOML file, as ``vocab train --recipe``), else the default (65,536 tokens, the
    ``pleias-rag`` special tokens, the ``default`` pattern, NFC, ``min_frequency`` 2). Keyword
    arguments override the recipe's values as flags do; lists and maps replace the recipe's.

    Balancing (README, "Balancing languages"): ``weighting`` is ``proportional``, ``uniform``,
    ``temperature`` or ``temperature=ALPHA``, and ``weights`` multiplies language shares.
    ``parity_dev`` (a directory of line-aligned ``<lang>.txt``, lines ``dev_lines`` such as
    ``"1:1000"``) or ``ratio`` (target bytes/token per language) turn on parity-aware merge
    selection, tuned by ``global_merges``, ``parity_tolerance``, ``parity_window`` /
    ``parity_alpha``, ``parity_strength`` (soft selection) and ``reweight_every``.
    ``byte_premium`` (a reference bytes/token) balances dev languages by ratio targets scaled
    by their mean bytes per dev line instead of by their dev tokens.
    ``no_balance`` drops the recipe's balance and parity tables, ``no_parity`` parity alone.
    ``heldout`` (a directory of ``<lang>.txt`` never trained on, lines ``heldout_lines``) is
    scored after training: the report's ``heldout`` holds bytes/token per language and pooled.

    Superword merges (README, "Superword merges"): ``superword_transition`` (a number of merges,
    or a share of them such as ``0.8``) starts a second stage whose merges may join words
    across spaces, split by ``superword_pattern`` (``"superbpe"`` or a regex) and capped at
    ``max_superword_words`` words per token (default 4). It needs ``files``.

    Give ``files`` (txt / jsonl / parquet files or directories, or Hub corpora
    ``hf://datasets/OWNER/NAME[@REVISION][/GLOB]``; with a recipe that lists inputs, the one
    corpus directory they are relative to; ``languages`` maps file names or stems to language
    codes; ``keep_languages`` (``{tag: [label, ...]}``) keeps only those languages and
    ``max_bytes_per_lang`` caps each), ``texts`` (an iterable of ``str`` or ``(lang, str)``), or
    ``counts`` (word-count files: bytes from :func:`count`, or paths written by ``vocab
    count``; the result equals training on the text they were counted from).

    Progress and the summary ``vocab train`` prints go to stderr unless ``quiet``; with
    ``report=True`` the result is ``(tokenizer, TrainReport)``. The result is identical at any
    ``num_threads``. Bad settings raise ``ValueError`` (``TypeError`` for a wrong type or an
    unknown argument), naming the setting.
    """

def count(
    files: Sequence[str | PathLike[str]] | None = None,
    texts: Iterable[str | tuple[str, str]] | None = None,
    *,
    recipe: str | PathLike[str] | None = None,
    special_tokens: Literal["pleias-rag", "none"] | None = None,
    extra_special_tokens: Sequence[str] | None = None,
    reserved: int | None = None,
    pattern: str | None = None,
    normalization: Literal["nfc", "none", "nfkc"] | None = None,
    max_words: int | None = None,
    doc_per_file: bool | None = None,
    skip_invalid: bool | None = None,
    text_field: str | None = None,
    lang_field: str | None = None,
    languages: Mapping[str, str] | None = None,
    keep_languages: Mapping[str, Sequence[str]] | None = None,
    max_bytes_per_lang: int | None = None,
    num_threads: int | None = None,
    batch_size: int = 8192,
    quiet: bool = False,
) -> bytes:
    """Counts the words of files or texts (one shard of a corpus) into a word-count file's
    bytes, which record the counting settings (normalization, split pattern, special tokens,
    the long-piece cut). Pass the results to :func:`merge_counts` or ``train(counts=...)``;
    count every shard with the same settings (mismatches are refused). Settings as in
    :func:`train` (counting ones only)."""

def merge_counts(parts: Sequence[bytes | str | PathLike[str]]) -> bytes:
    """Sums word-count files (bytes from :func:`count`, or paths)."""

def resolve_settings(
    files: Sequence[str | PathLike[str]] | None = None,
    *,
    recipe: str | PathLike[str] | None = None,
    special_tokens: Literal["pleias-rag", "none"] | None = None,
    extra_special_tokens: Sequence[str] | None = None,
    reserved: int | None = None,
    pattern: str | None = None,
    normalization: Literal["nfc", "none", "nfkc"] | None = None,
    max_words: int | None = None,
    doc_per_file: bool | None = None,
    skip_invalid: bool | None = None,
    text_field: str | None = None,
    lang_field: str | None = None,
    languages: Mapping[str, str] | None = None,
    keep_languages: Mapping[str, Sequence[str]] | None = None,
    max_bytes_per_lang: int | None = None,
    vocab_size: int | None = None,
    min_frequency: int | None = None,
    max_token_bytes: int | None = None,
    weighting: str | None = None,
    temperature: float | None = None,
    weights: Mapping[str, float] | None = None,
    parity_dev: str | PathLike[str] | None = None,
    dev_lines: str | None = None,
    ratio: Mapping[str, float] | None = None,
    parity_exclude: Sequence[str] | None = None,
    global_merges: int | None = None,
    parity_tolerance: float | None = None,
    parity_window: int | None = None,
    parity_alpha: float | None = None,
    parity_strength: float | None = None,
    reweight_every: int | None = None,
    byte_premium: float | None = None,
    superword_transition: int | float | None = None,
    superword_pattern: str | None = None,
    max_superword_words: int | None = None,
    no_balance: bool = False,
    no_parity: bool = False,
    heldout: str | PathLike[str] | None = None,
    heldout_lines: str | None = None,
    num_threads: int | None = None,
    batch_size: int = 8192,
    quiet: bool = False,
) -> str:
    """The settings :func:`train` would use for these arguments, as JSON text: defaults
    applied, recipe and keyword arguments combined, checked (the text ``vocab train --dry-run``
    prints for the same recipe and flags)."""

class TrainReport:
    """What :func:`train` did: the numbers ``vocab train`` prints; ``str(report)`` is the
    summary itself."""
    vocab_size: int
    special_tokens: int
    merges: int
    duplicate_merges: int
    stopped_early: bool
    files: int
    documents: int
    bytes: int
    distinct_words: int
    skipped_invalid: int
    skipped_empty: int
    skipped_null: int
    languages: list[dict[str, Any]]
    """One dict per language: lang, documents, bytes, words, share, tokens, bytes_per_token,
    tokens_per_word."""
    balance: list[dict[str, Any]] | None
    """One dict per balanced language (lang, target, merges, dev_tokens_before,
    dev_tokens_after, bytes_per_token); None without parity-aware selection."""
    heldout: dict[str, Any] | None
    """Held-out scoring (dir, lines, pooled_bytes_per_token, gini, languages: one dict per
    language with lang, lines, bytes, tokens, bytes_per_token); None without held-out text."""
    warnings: list[str]
    count_seconds: float
    merge_seconds: float
    peak_memory_mb: int | None
    summary: str

def load_spec(spec: str | PathLike[str]) -> tuple[str, Tokenizer]:
    """Loads ``[NAME=]PATH[@PATTERN]`` (a tokenizer.json, or a tiktoken rank file with its
    pattern, implied by names like ``cl100k_base.tiktoken``) as ``(name, Tokenizer)``; the name
    is NAME, else the file stem (the folder's name for ``tokenizer.json``)."""

def fertility_rows(
    tokenizers: Sequence[tuple[str, Tokenizer]],
    parallel: str | PathLike[str] | Mapping[str, Sequence[str]] | None = None,
    texts: str | PathLike[str] | Mapping[str, Sequence[str]] | None = None,
    *,
    langs: Sequence[str] | None = None,
    reference: str = "en",
    chart: str | PathLike[str] | None = None,
) -> list[dict[str, Any]]:
    """The rows behind ``polybpe.fertility`` (one dict per tokenizer × language); with
    ``chart``, also writes an ``.svg`` chart or ``.html`` report there."""
