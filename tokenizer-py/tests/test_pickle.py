"""Tokenizers cross process boundaries: pickle, copy, multiprocessing (spawn and fork) and
datasets.map(num_proc=2) workers. The pickled form is the tokenizer.json text itself, so it
needs no file."""

import copy
import json
import multiprocessing
import pickle

import pytest

import polybpe

CORPUS = [
    ("fr", "Le château d'Ørsted est ſouvent cité. L'homme et la femme qu'il aime."),
    ("de", "Die Straße ist lang, und der Müller ſagt: Guten Tag. Über 1789 Häuſer."),
] * 30
# The last text is long enough to be encoded on several threads (in the process's own pool,
# which a forked child must not inherit).
TEXTS = ["Le château ſouvent cité.", "Der Müller ſagt: Guten Tag.", "", "émoji 🎉", "Le château ſouvent cité. " * 3000]


@pytest.fixture(scope="module")
def tok() -> polybpe.Tokenizer:
    return polybpe.train(texts=CORPUS, vocab_size=400, special_tokens="pleias-rag")


def encode_all(tok: polybpe.Tokenizer) -> list[list[int]]:
    return [tok.encode(t) for t in TEXTS]


def test_pickle_round_trip_is_the_tokenizer_json(tok, tmp_path):
    path = tmp_path / "tok.json"
    tok.save(path)
    loaded = polybpe.Tokenizer.from_file(path)
    data = pickle.dumps(loaded)
    path.unlink()  # the pickle does not point at the file
    back = pickle.loads(data)
    assert back.to_str() == tok.to_str()
    assert encode_all(back) == encode_all(tok)
    assert back.special_tokens == tok.special_tokens
    # Compact: the tokenizer.json text without indentation, and a few bytes of framing.
    compact = json.dumps(json.loads(tok.to_str()), ensure_ascii=False, separators=(",", ":")).encode()
    assert len(data) < len(compact) + 200 < len(tok.to_str().encode())
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(tok, protocol=protocol)).to_str() == tok.to_str()


def test_copies_share_the_vocabulary(tok):
    for other in [copy.copy(tok), copy.deepcopy(tok), copy.deepcopy([tok, {"t": tok}])[1]["t"]]:
        assert isinstance(other, polybpe.Tokenizer)
        assert encode_all(other) == encode_all(tok)


def test_loaded_tokenizers_pickle(shared):
    text = "Hello world, l'homme ſouvent 1789 <|endoftext|>"
    for tok in [polybpe.Tokenizer.from_file(shared / "tokenizers" / "gpt2" / "gpt2.json"),
                polybpe.Tokenizer.from_tiktoken(shared / "tokenizers" / "cl100k_base" / "cl100k_base.tiktoken", "cl100k"),
                # polybpe does not write SentencePiece-style files: these pickle as the text they were read from.
                polybpe.Tokenizer.from_file(shared / "tokenizers" / "mistral-7b-v0.1" / "tokenizer.json")]:
        back = pickle.loads(pickle.dumps(tok))
        assert back.encode(text, disallowed_special=()) == tok.encode(text, disallowed_special=())
        assert back.special_tokens == tok.special_tokens


def worker_ids(tok: polybpe.Tokenizer) -> list[list[int]]:
    return encode_all(tok)


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_multiprocessing_pool(tok, method):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no {method} on this platform")
    with multiprocessing.get_context(method).Pool(2) as pool:
        # A worker that hangs (a thread pool inherited through fork without its threads) fails
        # the test instead of stalling it.
        results = pool.map_async(worker_ids, [tok, tok, tok]).get(timeout=120)
    assert results == [encode_all(tok)] * 3


def test_datasets_map_with_two_processes(tok, tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_dict({"text": TEXTS * 5})

    def tokenize(batch):
        return {"ids": tok.encode_batch(batch["text"])}

    mapped = ds.map(tokenize, batched=True, batch_size=4, num_proc=2, cache_file_name=str(tmp_path / "cache.arrow"))
    assert mapped["ids"] == [tok.encode(t) for t in TEXTS * 5]
