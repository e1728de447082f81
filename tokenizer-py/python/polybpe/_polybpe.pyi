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
    def encode(self, text: str, *, allowed_special: AllowedSpecial = (), disallowed_special: DisallowedSpecial = "all") -> list[int]:
        """Token ids of ``text``. Texts over 1 KB are encoded with the GIL released (for shorter
        ones, releasing it would cost more than the encode). Special-token text raises
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

def train(
    files: Sequence[str | PathLike[str]] | None = None,
    texts: Iterable[str | tuple[str, str]] | None = None,
    *,
    vocab_size: int = 65536,
    special_tokens: Literal["pleias-rag", "none"] = "pleias-rag",
    reserved: int = 0,
    extra_special_tokens: Sequence[str] = (),
    pattern: str = "default",
    normalization: Literal["nfc", "none", "nfkc"] = "nfc",
    min_frequency: int = 2,
    max_token_bytes: int | None = None,
    doc_per_file: bool = False,
    skip_invalid: bool = False,
    languages: Mapping[str, str] | None = None,
    num_threads: int | None = None,
    batch_size: int = 8192,
    weighting: str = "proportional",
    weights: Mapping[str, float] | None = None,
    parity_dev: str | PathLike[str] | None = None,
    dev_lines: str | None = None,
    ratio: Mapping[str, float] | None = None,
    parity_exclude: Sequence[str] = (),
    global_merges: int = 0,
    parity_tolerance: float | None = None,
    parity_window: int | None = None,
    parity_alpha: float = 2.0,
    parity_strength: float | None = None,
    counts: Sequence[bytes | str | PathLike[str]] | None = None,
    max_words: int | None = None,
) -> Tokenizer:
    """Trains a vocabulary, with the same options as ``vocab train``.

    Balancing (README, "Balancing languages"): ``weighting`` is ``proportional``, ``uniform``,
    ``temperature`` or ``temperature=ALPHA``, and ``weights`` multiplies language shares.
    ``parity_dev`` (a directory of line-aligned ``<lang>.txt``, lines ``dev_lines`` such as
    ``"1:1000"``) or ``ratio`` (target bytes/token per language) turn on parity-aware merge
    selection, tuned by ``global_merges``, ``parity_tolerance``, ``parity_window`` /
    ``parity_alpha`` and ``parity_strength`` (soft selection).

    ``counts`` trains from word-count files instead (bytes from :func:`count`, or paths written
    by ``vocab count``), merged; the result equals training on the text they were counted from.

    Give ``files`` (txt / jsonl / parquet files or directories; ``languages`` maps file names or
    stems to language codes) or ``texts`` (an iterable of ``str`` or ``(lang, str)``). The result
    is identical at any ``num_threads``.
    """

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


def count(
    files: Sequence[str | PathLike[str]] | None = None,
    texts: Iterable[str | tuple[str, str]] | None = None,
    *,
    special_tokens: Literal["pleias-rag", "none"] = "pleias-rag",
    reserved: int = 0,
    extra_special_tokens: Sequence[str] = (),
    pattern: str = "default",
    normalization: Literal["nfc", "none", "nfkc"] = "nfc",
    doc_per_file: bool = False,
    skip_invalid: bool = False,
    languages: Mapping[str, str] | None = None,
    num_threads: int | None = None,
    batch_size: int = 8192,
    max_words: int | None = None,
) -> bytes:
    """Counts the words of files or texts (one shard of a corpus) into a word-count file's
    bytes, which record the normalization, split pattern and special tokens used. Pass the
    results to :func:`merge_counts` or ``train(counts=...)``; count every shard with the same
    settings (mismatches are refused)."""

def merge_counts(parts: Sequence[bytes | str | PathLike[str]]) -> bytes:
    """Sums word-count files (bytes from :func:`count`, or paths)."""
