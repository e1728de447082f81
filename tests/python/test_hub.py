"""Corpora and tokenizers on the Hugging Face Hub (`hf://`), against a fake Hub on 127.0.0.1.

The server speaks the endpoints `huggingface_hub` uses — the tree listing
(`/api/datasets/{repo}/tree/{rev}?recursive=true`) and the `resolve` URLs with HTTP ranges —
serving Parquet files written here with pyarrow, and counts the requests. `HF_ENDPOINT` points
the CLI and the Python package at it; `POLYBPE_CACHE` keeps each test's cache apart.
"""

import hashlib
import json
import os
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import polybpe
from conftest import run_vocab

REPO = "test-org/two-langs"
SOURCE = f"hf://datasets/{REPO}"


class FakeHub:
    """A Hub with files per repository; `mode` per path bends the answers: `no-range` (whole
    file, status 200), `drop` (the connection closes halfway), `missing` (404)."""

    def __init__(self):
        self.files: dict[tuple[str, str], bytes] = {}  # (kind/repo, path) -> content
        self.mode: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []  # (kind, path)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.requests if k == kind)

    def handle(self, req: BaseHTTPRequestHandler):
        url = urlparse(req.path)
        listing = re.fullmatch(r"/api/(datasets|models)/(.+?)/tree/([^/]+)(?:/(.+))?", url.path)
        if listing:
            kind, repo, _rev, folder = listing.groups()
            folder = unquote(folder or "")
            self.requests.append(("list", folder))
            entries = []
            for (key, path), data in sorted(self.files.items()):
                if key == f"{kind}/{repo}" and path.startswith(f"{folder}/" if folder else ""):
                    entries.append({
                        "type": "file", "path": path, "size": len(data), "oid": hashlib.sha1(data).hexdigest(),
                        "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134},
                    })
            if not any(key == f"{kind}/{repo}" for key, _ in self.files):
                return self.reply(req, 404, b'{"error":"Repository not found"}', "application/json")
            return self.reply(req, 200, json.dumps(entries).encode(), "application/json")
        resolve = re.fullmatch(r"/(datasets/)?(.+?)/resolve/([^/]+)/(.+)", url.path)
        if not resolve:
            return self.reply(req, 404, b"not found")
        kind = "datasets" if resolve.group(1) else "models"
        repo, path = resolve.group(2), unquote(resolve.group(4))
        self.requests.append(("resolve", path))
        data = self.files.get((f"{kind}/{repo}", path))
        mode = self.mode.get(path)
        if data is None or mode == "missing":
            return self.reply(req, 404, b"Entry not found")
        etag = f'"{hashlib.sha256(data).hexdigest()}"'
        ranged = re.fullmatch(r"bytes=(\d+)-(\d+)", req.headers.get("Range", ""))
        if mode == "drop":
            req.send_response(200)
            req.send_header("Content-Length", str(len(data)))
            req.end_headers()
            req.wfile.write(data[: len(data) // 2])
            req.wfile.flush()
            req.close_connection = True
            return
        if ranged and mode != "no-range":
            first, last = int(ranged.group(1)), int(ranged.group(2))
            body = data[first : last + 1]
            req.send_response(206)
            req.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
            req.send_header("Content-Length", str(len(body)))
            req.send_header("ETag", etag)
            req.end_headers()
            req.wfile.write(body)
            return
        self.reply(req, 200, data, etag=etag)

    @staticmethod
    def reply(req, status, body, content_type="application/octet-stream", etag=None):
        req.send_response(status)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(body)))
        if etag:
            req.send_header("ETag", etag)
        req.end_headers()
        req.wfile.write(body)


FR = ["Le chat dort sur le canapé depuis ce matin.", "Nous irons à la plage demain si le temps le permet.",
      "La bibliothèque ferme ses portes à dix-huit heures."]
DE = ["Die Katze schläft seit heute Morgen auf dem Sofa.", "Morgen fahren wir ans Meer, wenn das Wetter hält.",
      "Die Bibliothek schließt um achtzehn Uhr."]


def write_parquet(path: Path, rows: list[tuple[str, str]], row_group_size: int):
    table = pa.table({"id": list(range(len(rows))), "text": [t for _, t in rows], "language": [l for l, _ in rows]})
    pq.write_table(table, path, row_group_size=row_group_size)


@pytest.fixture
def corpus(tmp_path) -> Path:
    """Two Parquet files with French and German rows in several row groups each."""
    local = tmp_path / "local" / "data"
    local.mkdir(parents=True)
    a = [("fr" if i % 3 else "de", f"{(FR if i % 3 else DE)[i % 3]} ({i})") for i in range(300)]
    b = [("de", f"{DE[i % 3]} [{i}]") for i in range(200)] + [("fr", f"{FR[i % 3]} [{i}]") for i in range(200)]
    write_parquet(local / "a.parquet", a, 50)
    write_parquet(local / "b.parquet", b, 50)
    return tmp_path / "local"


@pytest.fixture
def hub(corpus):
    server = FakeHub()
    for path in sorted((corpus / "data").iterdir()):
        server.files[(f"datasets/{REPO}", f"data/{path.name}")] = path.read_bytes()
    server.files[(f"datasets/{REPO}", "README.md")] = b"# not Parquet\n"
    yield server
    server.stop()


@pytest.fixture
def env(tmp_path, hub, monkeypatch):
    """The environment of a run against the fake Hub, also set in this process for Python."""
    values = {"HF_ENDPOINT": hub.endpoint, "POLYBPE_CACHE": str(tmp_path / "cache"), "HF_TOKEN": "test-token"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return values


TRAIN = ["--vocab-size", "400", "--special-tokens", "none", "--quiet"]


def cache_files(env) -> list[Path]:
    return sorted(p for p in Path(env["POLYBPE_CACHE"]).rglob("*") if p.is_file())


def test_cli_training_from_the_hub_equals_local_training_and_reuses_the_cache(tmp_path, corpus, hub, env, vocab_bin):
    local_out, hub_out = tmp_path / "local.json", tmp_path / "hub.json"
    run_vocab(vocab_bin, "train", "--corpus", corpus / "data", "--out", local_out, *TRAIN)
    run_vocab(vocab_bin, "train", "--corpus", SOURCE, "--out", hub_out, *TRAIN)
    assert hub_out.read_bytes() == local_out.read_bytes()
    # Footer + text and language chunks of 6 + 8 row groups, fetched by range, never whole.
    fetched = hub.count("resolve")
    assert fetched >= 2 + 14, hub.requests
    assert "README.md" not in [p for _, p in hub.requests]

    again = tmp_path / "again.json"
    run_vocab(vocab_bin, "train", "--corpus", SOURCE, "--out", again, *TRAIN)
    assert again.read_bytes() == local_out.read_bytes()
    assert hub.count("resolve") == fetched, "the second run fetched file data again"

    # Offline, with the server gone: the cache alone.
    hub.stop()
    offline = tmp_path / "offline.json"
    run = run_vocab(vocab_bin, "train", "--corpus", SOURCE, "--out", offline, *TRAIN, check=False)
    assert run.returncode == 1 and "/api/datasets/test-org/two-langs/tree/main" in run.stderr, run.stderr
    assert "HF_HUB_OFFLINE=1" in run.stderr, run.stderr
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        run_vocab(vocab_bin, "train", "--corpus", SOURCE, "--out", offline, *TRAIN)
    finally:
        del os.environ["HF_HUB_OFFLINE"]
    assert offline.read_bytes() == local_out.read_bytes()


def test_python_training_from_the_hub_equals_local_training(corpus, hub, env):
    kwargs = dict(vocab_size=400, special_tokens="none", quiet=True)
    local = polybpe.train(files=[str(corpus / "data")], **kwargs)
    remote = polybpe.train(files=[SOURCE + "/data/*.parquet"], **kwargs)
    assert remote.to_str() == local.to_str()


def test_language_filter_and_byte_budget_hold_and_stop_the_fetching(corpus, hub, env):
    budget = 2000
    kwargs = dict(vocab_size=300, special_tokens="none", quiet=True, report=True,
                  keep_languages={"fr": ["FR"]}, max_bytes_per_lang=budget)
    _, report = polybpe.train(files=[SOURCE], **kwargs)
    langs = {row["lang"]: row for row in report.languages}
    assert list(langs) == ["fr"]
    assert budget - 60 < langs["fr"]["bytes"] <= budget
    # The budget is full inside the first file: the second is never fetched.
    assert all(not p.endswith("b.parquet") for _, p in hub.requests), hub.requests
    _, local = polybpe.train(files=[str(corpus / "data")], **kwargs)
    assert local.languages == report.languages


def test_row_groups_of_unwanted_languages_are_not_fetched(corpus, hub, env):
    # b.parquet: 4 row groups of German, then 4 of French; each group's language statistics
    # say which.
    kwargs = dict(vocab_size=300, special_tokens="none", quiet=True, keep_languages={"fr": ["fr"]})
    remote = polybpe.train(files=[SOURCE + "/data/b.parquet"], **kwargs)
    fetched = [p for kind, p in hub.requests if kind == "resolve"]
    assert len(fetched) == 1 + 4 * 2, fetched  # the footer, then text and language of 4 groups
    local = polybpe.train(files=[str(corpus / "data" / "b.parquet")], **kwargs)
    assert remote.to_str() == local.to_str()


def test_no_range_support_fetches_whole_files(tmp_path, corpus, hub, env, vocab_bin):
    for name in ("data/a.parquet", "data/b.parquet"):
        hub.mode[name] = "no-range"
    local_out, hub_out = tmp_path / "local.json", tmp_path / "hub.json"
    run_vocab(vocab_bin, "train", "--corpus", corpus / "data", "--out", local_out, *TRAIN)
    run_vocab(vocab_bin, "train", "--corpus", SOURCE, "--out", hub_out, *TRAIN)
    assert hub_out.read_bytes() == local_out.read_bytes()
    assert sum(1 for p in cache_files(env) if p.name == "file") == 2


@pytest.mark.parametrize("mode", ["drop", "missing", "truncated"])
def test_broken_transfers_give_clear_errors_and_leave_no_partial_file(tmp_path, hub, env, vocab_bin, mode):
    path = "data/b.parquet"
    if mode == "truncated":
        data = hub.files[(f"datasets/{REPO}", path)]
        hub.files[(f"datasets/{REPO}", path)] = data[: len(data) - 100]
    else:
        hub.mode[path] = mode
    run = run_vocab(vocab_bin, "train", "--corpus", SOURCE, "--out", tmp_path / "t.json", *TRAIN, check=False)
    assert run.returncode == 1, run.stderr
    message = run.stderr.strip()
    assert message.startswith("error: ") and "b.parquet" in message, message
    expected = {"drop": ["broke off", "cut short"], "missing": ["HTTP 404"], "truncated": ["truncated"]}[mode]
    assert any(e in message for e in expected), message
    assert "panicked" not in run.stderr
    b_hash = hashlib.sha256(hub.files[(f"datasets/{REPO}", path)]).hexdigest()
    assert not [p for p in cache_files(env) if b_hash in str(p) or ".tmp-" in p.name], cache_files(env)
    assert not (tmp_path / "t.json").exists()


def test_hub_texts_and_tokenizers_for_compare(tmp_path, corpus, hub, env, vocab_bin):
    tok = tmp_path / "tok.json"
    run_vocab(vocab_bin, "train", "--corpus", corpus / "data", "--out", tok, *TRAIN)
    hub.files[("models/gpt2", "tokenizer.json")] = tok.read_bytes()
    local = run_vocab(vocab_bin, "compare", f"gpt2={tok}", "--texts", SOURCE, "--format", "csv", "-q")
    remote = run_vocab(vocab_bin, "compare", "hf://gpt2", "--texts", SOURCE, "--format", "csv", "-q")
    assert remote.stdout == local.stdout
    assert "gpt2,de," in remote.stdout and "gpt2,fr," in remote.stdout, remote.stdout
    name, from_hub = polybpe.load_spec("hf://gpt2")
    assert name == "gpt2" and from_hub.to_str() == polybpe.Tokenizer.from_file(tok).to_str()
    missing = run_vocab(vocab_bin, "compare", "hf://nobody/nothing", "--texts", SOURCE, check=False)
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr, missing.stderr


PARALLEL = f"datasets/{REPO}-parallel"


def test_a_recipe_without_its_local_sample_trains_from_its_hub_fallback(tmp_path, corpus, hub, env, vocab_bin):
    # A parallel set laid out as the Hub's Parquet conversions are: one folder per language.
    for folder, lines in (("fra_Latn", FR), ("deu_Latn", DE)):
        path = tmp_path / f"{folder}.parquet"
        pq.write_table(pa.table({"text": lines}), path)
        hub.files[(PARALLEL, f"{folder}/test/0000.parquet")] = path.read_bytes()
    recipe = tmp_path / "recipes" / "r.toml"
    recipe.parent.mkdir()
    recipe.write_text(f"""
vocab_size = 400
special_tokens = "none"
data_root = "../absent"
[parity]
dev = "parallel"
strength = 4.0
ratio = {{ code = 3.0 }}
[[inputs]]
path = "fr.txt"
[fallback]
corpus = "{SOURCE}"
max_bytes_per_lang = 3000
keep_languages = {{ fr = ["FR"], de = ["De"] }}
dev = "hf://datasets/{REPO}-parallel@refs%2Fconvert%2Fparquet"
dev_languages = {{ fr = "fra_Latn", de = "deu_Latn" }}
""", encoding="utf-8")
    out = tmp_path / "fallback.json"
    run = run_vocab(vocab_bin, "train", "--recipe", recipe, "--out", out)
    assert f"{tmp_path / 'recipes' / '../absent/fr.txt'} is absent: training on {SOURCE}" in run.stderr, run.stderr
    assert "parity dev lines from hf://datasets/test-org/two-langs-parallel" in run.stderr, run.stderr
    # The same as training on the Hub corpus with those settings and the dev set written out.
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "fr.txt").write_text("\n".join(FR) + "\n", encoding="utf-8")
    (dev / "de.txt").write_text("\n".join(DE) + "\n", encoding="utf-8")
    direct = tmp_path / "direct.json"
    run_vocab(vocab_bin, "train", "--corpus", SOURCE, "--keep-lang", "fr=FR", "--keep-lang", "de=De",
              "--max-bytes-per-lang", "3000", "--parity-dev", dev, "--parity-strength", "4.0", "--out", direct, *TRAIN)
    assert out.read_bytes() == direct.read_bytes()

    # Offline with nothing cached: the error names both ways out.
    env_offline = dict(os.environ, HF_HUB_OFFLINE="1", POLYBPE_CACHE=str(tmp_path / "empty-cache"))
    failed = subprocess.run([vocab_bin, "train", "--recipe", str(recipe), "--out", str(tmp_path / "x.json"), "-q"],
                            capture_output=True, text=True, env=env_offline)
    assert failed.returncode == 1
    assert "--corpus DIR" in failed.stderr and "--parity-dev DIR" in failed.stderr and "unset HF_HUB_OFFLINE" in failed.stderr, failed.stderr
