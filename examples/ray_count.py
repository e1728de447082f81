#!/usr/bin/env python3
"""Scale-out training on Ray: count Parquet shards in parallel, merge the counts, train.

Counting is the part of training that grows with the corpus, and it is embarrassingly parallel:
each Ray Data batch becomes a word-count file (``polybpe.count``), the files are summed
(``polybpe.merge_counts``), and the merge loop runs once on the driver
(``polybpe.train(counts=...)``). The result is byte-identical to ``polybpe.train(files=...)`` on
the same data.

    python examples/ray_count.py SHARD_DIR_OR_FILES... --vocab-size 32768 --out tokenizer.json

Records need a ``text`` column and a ``language`` column (Common Corpus style). Every option of
``polybpe.count`` that shapes the counts (pattern, normalization, special tokens) must be the
same for every shard and for ``train``; mismatched shards are refused.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import ray

import polybpe


def count_batch(batch: dict[str, np.ndarray], **count_options: Any) -> dict[str, np.ndarray]:
    """One Ray Data batch of records -> one word-count file (bytes)."""
    texts = list(zip(batch["language"], batch["text"]))
    counts = polybpe.count(texts=texts, num_threads=1, **count_options)
    return {"counts": np.array([counts], dtype=object)}


def train_with_ray(paths: list[str], *, batch_size: int = 256, count_options: dict | None = None, **train_options: Any) -> polybpe.Tokenizer:
    """Counts the Parquet files at ``paths`` on the Ray cluster and trains on the driver."""
    count_options = count_options or {}
    dataset = ray.data.read_parquet(paths, columns=["text", "language"])
    counted = dataset.map_batches(count_batch, batch_size=batch_size, fn_kwargs=count_options)
    parts = [row["counts"] for row in counted.iter_rows()]
    merged = polybpe.merge_counts(parts)
    return polybpe.train(counts=[merged], **count_options, **train_options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="Parquet files or directories")
    parser.add_argument("--vocab-size", type=int, default=65536)
    parser.add_argument("--out", required=True)
    parser.add_argument("--batch-size", type=int, default=1024, help="records per counting task")
    args = parser.parse_args()
    ray.init(ignore_reinit_error=True)
    tok = train_with_ray(args.paths, batch_size=args.batch_size, vocab_size=args.vocab_size)
    tok.save(args.out)
    print(f"wrote {args.out} ({tok.vocab_size} tokens)")


if __name__ == "__main__":
    main()
