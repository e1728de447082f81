"""polybpe: fast multilingual byte-level BPE.

Train a vocabulary (``polybpe.train``), load HuggingFace ``tokenizer.json`` files
(``Tokenizer.from_file``), and encode batches on all cores with the GIL released
(``Tokenizer.encode_batch``).
"""

from ._polybpe import Tokenizer, __version__, train

__all__ = ["Tokenizer", "train", "__version__"]
