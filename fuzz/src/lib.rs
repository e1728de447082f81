//! Helpers shared by the fuzz targets: where the reference tokenizers are, loaded once.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use polybpe::formats::{hf, tiktoken};
use polybpe::{AllowedSpecial, Tokenizer};

/// The shared data folder: `$POLYBPE_SHARED`, else `../shared` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("POLYBPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// GPT-2 (its HF tokenizer.json) and cl100k (its tiktoken rank file), named, loaded once.
/// A file that is missing is left out, so without the shared folder the list is empty; a file
/// that is present but does not load is a failure worth stopping for.
pub fn reference_tokenizers() -> &'static [(&'static str, Tokenizer)] {
    static TOKENIZERS: OnceLock<Vec<(&'static str, Tokenizer)>> = OnceLock::new();
    TOKENIZERS.get_or_init(|| {
        let dir = shared_dir().join("tokenizers");
        let mut loaded = Vec::new();
        let gpt2 = dir.join("gpt2/gpt2.json");
        if gpt2.is_file() {
            loaded.push(("gpt2", hf::load(&gpt2).unwrap_or_else(|e| panic!("{e}"))));
        }
        let cl100k = dir.join("cl100k_base/cl100k_base.tiktoken");
        if cl100k.is_file() {
            loaded.push(("cl100k", tiktoken::load(&cl100k, "cl100k").unwrap_or_else(|e| panic!("{e}"))));
        }
        if loaded.is_empty() {
            eprintln!("no reference tokenizers under {}: nothing to check", dir.display());
        }
        loaded
    })
}

/// Text with the cases loaders get wrong: accents, `ſ`, CJK, emoji, digits, CRLF, a leading
/// space, byte-fallback material and special-token text.
pub const SAMPLE: &str = " Le château d'Ørsted, 1789 — ſouvent! 日本語 🦀\r\n\tx <|endoftext|><s>▁a";

/// What every loaded tokenizer.json must do: encode text (an error is allowed: a regex may
/// give up) to ids that decode, and, if polybpe can write it, write a file that loads back
/// and writes the same text again.
pub fn check_loaded(tok: &Tokenizer, text: &str) {
    for text in [SAMPLE, text] {
        for allowed in [AllowedSpecial::None, AllowedSpecial::All] {
            if let Ok(ids) = tok.encode(text, allowed) {
                tok.decode(&ids).expect("encoding gives ids that decode");
            }
        }
    }
    if let Ok(json) = hf::to_json(tok) {
        let back = hf::from_json(&json).unwrap_or_else(|e| panic!("own tokenizer.json does not load: {e}"));
        assert_eq!(hf::to_json(&back).expect("a loaded export exports"), json);
    }
}
