//! Loading the tiktoken rank files in ../shared/tokenizers: the MANIFEST's test sentence gives
//! the listed ids, the files agree with the equivalent tokenizer.json files on the parallel
//! corpus, and every derived model agrees with tiktoken's algorithm (written out below from its
//! definition) on the corpus and on pieces made from every token.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polybpe::formats::{hf, tiktoken};
use polybpe::{AllowedSpecial, Tokenizer};

const SENTENCE: &str = "Le château d'Ørsted, 1789 — ſouvent!";

/// (MANIFEST name, file, pattern name).
const FILES: &[(&str, &str, &str)] = &[
    ("r50k / p50k", "r50k_base/r50k_base.tiktoken", "r50k"),
    ("r50k / p50k", "p50k_base/p50k_base.tiktoken", "p50k"),
    ("cl100k", "cl100k_base/cl100k_base.tiktoken", "cl100k"),
    ("o200k", "o200k_base/o200k_base.tiktoken", "o200k"),
    ("llama3", "llama3-tiktoken/tokenizer.model", "llama3"),
    ("qwen", "qwen-tiktoken/qwen.tiktoken", "qwen"),
    ("whisper multilingual", "whisper-tiktoken/multilingual.tiktoken", "whisper"),
];

/// `../shared/tokenizers` (or `$POLYBPE_SHARED/tokenizers`), if present.
fn tokenizers_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("POLYBPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let dir = shared.join("tokenizers");
    dir.join("MANIFEST.md").is_file().then_some(dir)
}

/// The ids the MANIFEST lists for `name` (the line `- name: [..]`).
fn manifest_ids(manifest: &str, name: &str) -> Vec<u32> {
    let prefix = format!("- {name}: [");
    let line = manifest.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("{name} not in MANIFEST"));
    let list = &line[prefix.len()..line.find(']').unwrap()];
    list.split(',').map(|s| s.trim().parse().unwrap()).collect()
}

/// The first `n` lines of each `corpus/parallel/*.txt` file.
fn corpus_lines(dir: &Path, n: usize) -> Vec<String> {
    let parallel = dir.join("../corpus/parallel");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&parallel) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "txt")).collect(),
        Err(_) => return Vec::new(),
    };
    files.sort();
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        lines.extend(text.lines().take(n).map(str::to_string));
    }
    lines
}

fn load(dir: &Path, file: &str, pattern: &str) -> Tokenizer {
    tiktoken::load(&dir.join(file), pattern).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn manifest_sentence_ids() {
    let Some(dir) = tokenizers_dir() else {
        eprintln!("skipped: ../shared/tokenizers not found");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
    for &(name, file, pattern) in FILES {
        let tok = load(&dir, file, pattern);
        let ids = tok.encode(SENTENCE, AllowedSpecial::None).unwrap();
        assert_eq!(ids, manifest_ids(&manifest, name), "{file}");
        assert_eq!(tok.decode(&ids).unwrap(), SENTENCE, "{file}");
    }
    // The cross-checks the MANIFEST reports.
    for (tiktoken_name, json_name) in [("r50k / p50k", "gpt2"), ("cl100k", "olmo-dolma2"), ("whisper multilingual", "whisper-large-v3")] {
        assert_eq!(manifest_ids(&manifest, tiktoken_name), manifest_ids(&manifest, json_name));
    }
}

#[test]
fn named_special_tokens() {
    let Some(dir) = tokenizers_dir() else {
        eprintln!("skipped: ../shared/tokenizers not found");
        return;
    };
    let tok = load(&dir, "cl100k_base/cl100k_base.tiktoken", "cl100k");
    assert_eq!(tok.vocab_size(), 100277);
    let text = "a<|endoftext|>b<|fim_prefix|><|endofprompt|>";
    assert_eq!(tok.encode(text, AllowedSpecial::All).unwrap(), vec![64, 100257, 65, 100258, 100276]);
    assert!(!tok.encode(text, AllowedSpecial::None).unwrap().iter().any(|&id| id >= 100257));
    let tok = load(&dir, "o200k_base/o200k_base.tiktoken", "o200k");
    assert_eq!(tok.token_to_id("<|endoftext|>"), Some(199999));
    assert_eq!(tok.token_to_id("<|endofprompt|>"), Some(200018));
    let tok = load(&dir, "r50k_base/r50k_base.tiktoken", "r50k");
    assert_eq!(tok.token_to_id("<|endoftext|>"), Some(50256));
    let llama = tiktoken::load_with_specials(
        &dir.join("llama3-tiktoken/tokenizer.model"),
        "llama3",
        &[("<|begin_of_text|>".into(), 128000), ("<|end_of_text|>".into(), 128001)],
    )
    .unwrap();
    assert_eq!(llama.encode("<|begin_of_text|>Hi", AllowedSpecial::All).unwrap(), vec![128000, 13347]);
}

/// Ids of both tokenizers on the first 300 lines of each parallel-corpus file.
fn assert_same_on_corpus(dir: &Path, a: &Tokenizer, b: &Tokenizer, what: &str) {
    let lines = corpus_lines(dir, 300);
    if lines.is_empty() {
        eprintln!("{what}: skipped: ../shared/corpus/parallel not found");
        return;
    }
    for (i, line) in lines.iter().enumerate() {
        let x = a.encode(line, AllowedSpecial::None).unwrap();
        let y = b.encode(line, AllowedSpecial::None).unwrap();
        assert_eq!(x, y, "{what}, corpus line {i}: {line:?}");
    }
}

#[test]
fn r50k_equals_gpt2_json_on_the_corpus() {
    let Some(dir) = tokenizers_dir() else {
        eprintln!("skipped: ../shared/tokenizers not found");
        return;
    };
    let json = hf::load(&dir.join("gpt2/gpt2.json")).unwrap();
    let ranks = load(&dir, "r50k_base/r50k_base.tiktoken", "r50k");
    assert_same_on_corpus(&dir, &json, &ranks, "gpt2.json vs r50k");
}

#[test]
fn cl100k_equals_dolma2_json_on_the_corpus() {
    let Some(dir) = tokenizers_dir() else {
        eprintln!("skipped: ../shared/tokenizers not found");
        return;
    };
    let json = hf::load(&dir.join("olmo-dolma2/allenai_dolma2.json")).unwrap();
    let ranks = load(&dir, "cl100k_base/cl100k_base.tiktoken", "cl100k");
    assert_same_on_corpus(&dir, &json, &ranks, "dolma2 vs cl100k");
}

#[test]
fn whisper_equals_whisper_large_v3_json_on_the_corpus() {
    let Some(dir) = tokenizers_dir() else {
        eprintln!("skipped: ../shared/tokenizers not found");
        return;
    };
    let json = hf::load(&dir.join("whisper-large-v3/tokenizer.json")).unwrap();
    let ranks = load(&dir, "whisper-tiktoken/multilingual.tiktoken", "whisper");
    assert_same_on_corpus(&dir, &json, &ranks, "whisper-large-v3 vs multilingual.tiktoken");
}

/// tiktoken's encoding of one piece, from its definition: the whole piece if it has a rank,
/// else merge from single bytes the adjacent pair whose concatenation has the lowest rank (the
/// leftmost among equals) until no pair has a rank.
struct Reference {
    ranks: HashMap<Vec<u8>, u32>,
}

impl Reference {
    fn new(tok: &Tokenizer) -> Self {
        Reference { ranks: tok.model().tokens().map(|(id, bytes)| (bytes.to_vec(), id)).collect() }
    }

    fn encode_piece(&self, piece: &[u8]) -> Vec<u32> {
        if let Some(&rank) = self.ranks.get(piece) {
            return vec![rank];
        }
        // Part i is piece[bounds[i]..bounds[i + 1]].
        let mut bounds: Vec<usize> = (0..=piece.len()).collect();
        loop {
            let mut best: Option<(u32, usize)> = None;
            for i in 0..bounds.len().saturating_sub(2) {
                if let Some(&rank) = self.ranks.get(&piece[bounds[i]..bounds[i + 2]]) {
                    if best.filter(|&(r, _)| r <= rank).is_none() {
                        best = Some((rank, i));
                    }
                }
            }
            let Some((_, i)) = best else { break };
            bounds.remove(i + 1);
        }
        bounds.windows(2).map(|w| self.ranks[&piece[w[0]..w[1]]]).collect()
    }
}

fn model_piece(tok: &Tokenizer, piece: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    tok.model().encode_piece(piece, &mut out);
    out
}

#[test]
fn derived_models_equal_tiktoken_rule() {
    let Some(dir) = tokenizers_dir() else {
        eprintln!("skipped: ../shared/tokenizers not found");
        return;
    };
    let mut lines = corpus_lines(&dir, 300);
    let inp = std::fs::read_to_string(dir.join("llama.cpp-vocab-tests/ggml-vocab-gpt-2.gguf.inp")).unwrap_or_default();
    lines.extend(inp.split("\n__ggml_vocab_test__\n").map(str::to_string));
    lines.push(SENTENCE.to_string());
    for &(_, file, pattern) in FILES {
        let tok = load(&dir, file, pattern);
        let reference = Reference::new(&tok);
        let mut pieces = 0;
        for line in &lines {
            for piece in tok.pre_tokenizer().split(line).unwrap() {
                let piece = piece.as_bytes();
                assert_eq!(model_piece(&tok, piece), reference.encode_piece(piece), "{file}: piece {piece:?} of {line:?}");
                pieces += 1;
            }
        }
        // Pieces the vocabulary itself suggests: each token without its first or last byte,
        // and each token followed by the next one; for every 4th token, to keep the test short
        // (all of them agree too: about 2.6 million pieces over the seven files).
        let tokens: Vec<(u32, &[u8])> = tok.model().tokens().collect();
        for (i, &(_, bytes)) in tokens.iter().enumerate() {
            if bytes.len() < 2 || i % 4 != 0 {
                continue;
            }
            let next = tokens[(i + 1) % tokens.len()].1;
            for piece in [&bytes[1..], &bytes[..bytes.len() - 1], &[bytes, next].concat()[..]] {
                assert_eq!(model_piece(&tok, piece), reference.encode_piece(piece), "{file}: piece {piece:?}");
                pieces += 1;
            }
        }
        // Tokens whose last merge uses a part ranked above them (81 in Llama 3's file): HF's converter,
        // which only allows lower ranks, leaves them without a merge; tiktoken builds them.
        let mut higher = 0;
        for merge in tok.model().merges().iter().filter(|m| m.left > m.result || m.right > m.result) {
            let bytes = tok.model().token_bytes(merge.result).unwrap();
            for piece in [[b"x", bytes].concat(), [bytes, b"x"].concat(), [b" ", bytes, b"s"].concat()] {
                assert_eq!(model_piece(&tok, &piece), reference.encode_piece(&piece), "{file}: piece {piece:?}");
            }
            higher += 1;
        }
        eprintln!("{file}: {pieces} pieces agree; {higher} merges with a part ranked above the result, {} merges for {} tokens", tok.model().merges().len(), tok.model().len());
    }
}

#[test]
fn llama_cpp_vectors() {
    let Some(dir) = tokenizers_dir() else {
        eprintln!("skipped: ../shared/tokenizers not found");
        return;
    };
    let tests = dir.join("llama.cpp-vocab-tests");
    let Ok(inp) = std::fs::read_to_string(tests.join("ggml-vocab-gpt-2.gguf.inp")) else {
        eprintln!("skipped: llama.cpp-vocab-tests not found");
        return;
    };
    let texts: Vec<&str> = inp.split("\n__ggml_vocab_test__\n").collect();
    // r50k is GPT-2, the llama3 file is Llama 3 ("llama-bpe"), the qwen file is Qwen2's base.
    for (file, pattern, out) in [
        ("r50k_base/r50k_base.tiktoken", "r50k", "ggml-vocab-gpt-2.gguf.out"),
        ("llama3-tiktoken/tokenizer.model", "llama3", "ggml-vocab-llama-bpe.gguf.out"),
        ("qwen-tiktoken/qwen.tiktoken", "qwen", "ggml-vocab-qwen2.gguf.out"),
    ] {
        let tok = load(&dir, file, pattern);
        let expected = std::fs::read_to_string(tests.join(out)).unwrap();
        let expected: Vec<&str> = expected.split('\n').collect();
        assert_eq!(texts.len(), expected.len(), "{out}");
        for (text, ids) in texts.iter().zip(&expected) {
            let ids: Vec<u32> = ids.split_whitespace().map(|s| s.parse().unwrap()).collect();
            assert_eq!(tok.encode(text, AllowedSpecial::None).unwrap(), ids, "{file} on {text:?}");
        }
    }
}

#[test]
fn saved_files_load_back() {
    let Some(dir) = tokenizers_dir() else {
        eprintln!("skipped: ../shared/tokenizers not found");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    for &(_, file, pattern) in FILES {
        let tok = load(&dir, file, pattern);
        let path = tmp.path().join("saved.tiktoken");
        tiktoken::save(&tok, &path).unwrap();
        let original = std::fs::read(dir.join(file)).unwrap();
        let saved = std::fs::read(&path).unwrap();
        if file.contains("qwen") {
            // Qwen's file has CRLF line ends; the content is the same.
            let unix: Vec<u8> = original.iter().copied().filter(|&b| b != b'\r').collect();
            assert_eq!(saved, unix, "{file}");
        } else {
            assert_eq!(saved, original, "{file}: save does not reproduce the file");
        }
        let back = tiktoken::load(&path, pattern).unwrap();
        assert_eq!(back.model().merges(), tok.model().merges(), "{file}");
        assert_eq!(back.encode(SENTENCE, AllowedSpecial::None).unwrap(), tok.encode(SENTENCE, AllowedSpecial::None).unwrap());
    }
    // A tokenizer.json vocabulary written as ranks keeps its ids.
    let gpt2 = hf::load(&dir.join("gpt2/gpt2.json")).unwrap();
    let path = tmp.path().join("gpt2.tiktoken");
    tiktoken::save(&gpt2, &path).unwrap();
    let back = tiktoken::load(&path, "gpt2").unwrap();
    assert_eq!(back.encode(SENTENCE, AllowedSpecial::None).unwrap(), gpt2.encode(SENTENCE, AllowedSpecial::None).unwrap());
}
