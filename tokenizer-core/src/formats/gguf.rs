//! Vocabulary-only GGUF files, the format llama.cpp loads.
//!
//! llama.cpp reads a BPE vocabulary from `tokenizer.ggml.*` keys: model `gpt2` (byte-level BPE),
//! `pre` (which of its hand-written pre-tokenizers splits the text, see
//! [`Pattern::llama_cpp_pre`]), the tokens in id order in their byte-level spelling, one type
//! per token (special tokens are control tokens), the merges as `"a b"` strings, and the ids of
//! the beginning/end/padding/unknown tokens. The file written here has those keys and
//! `general.architecture` (llama.cpp needs one to open a file), and no tensors: it loads with
//! `vocab_only`, and `gguf_new_metadata.py` or a model conversion can carry the keys into a
//! model file.
//!
//! llama.cpp applies no Unicode normalizer, so text must be normalized (NFC for polybpe's
//! default) before it is handed to llama.cpp for the ids to agree.

use std::path::Path;

use crate::bytelevel;
use crate::pretokenize::Pattern;
use crate::{Error, Result, Tokenizer};

/// GGUF value types (the subset written here).
const TYPE_UINT32: u32 = 4;
const TYPE_INT32: u32 = 5;
const TYPE_BOOL: u32 = 7;
const TYPE_STRING: u32 = 8;
const TYPE_ARRAY: u32 = 9;

/// llama.cpp token types (`llama_token_type`).
const TOKEN_NORMAL: i32 = 1;
const TOKEN_CONTROL: i32 = 3;
const TOKEN_USER_DEFINED: i32 = 4;
const TOKEN_UNUSED: i32 = 5;

/// GGUF's default alignment: the (empty) data section starts at a multiple of it.
const ALIGNMENT: usize = 32;

/// Special-token texts that fill llama.cpp's token roles, first match wins (Pleias' names, then
/// the common GPT-style ones).
const ROLES: [(&str, &[&str]); 4] = [
    ("tokenizer.ggml.bos_token_id", &["<|begin_of_text|>", "<s>", "<|startoftext|>"]),
    ("tokenizer.ggml.eos_token_id", &["<|end_of_text|>", "</s>", "<|endoftext|>"]),
    ("tokenizer.ggml.padding_token_id", &["[PAD]", "<pad>", "<|pad|>"]),
    ("tokenizer.ggml.unknown_token_id", &["[UNK]", "<unk>"]),
];

/// The `tokenizer.ggml.pre` name llama.cpp runs this tokenizer's split pattern under, or an
/// error saying why it cannot run it and which pattern to train with instead.
pub fn llama_cpp_pre(tokenizer: &Tokenizer) -> Result<&'static str> {
    if tokenizer.model().is_char_level() {
        return Err(Error::config("llama.cpp runs only byte-level BPE vocabularies through GGUF model `gpt2`; this one is SentencePiece-style"));
    }
    let Some(pattern) = tokenizer.pre_tokenizer().pattern() else {
        return Err(Error::config(
            "llama.cpp has no pre-tokenizer for a chain of HF pre-tokenizers; train with a single split pattern such as qwen35",
        ));
    };
    pattern.llama_cpp_pre().ok_or_else(|| {
        let nearest = pattern.nearest_llama_cpp();
        let why = match pattern {
            Pattern::Default => "polybpe's default pattern (its elision rule)",
            _ => "this split pattern",
        };
        Error::config(format!(
            "llama.cpp cannot run {why}: it runs only its own built-in pre-tokenizers; the nearest one is `{}` (train with --pattern {}, llama.cpp pre-tokenizer `{}`)",
            nearest.name(),
            nearest.name(),
            nearest.llama_cpp_pre().unwrap_or_default()
        ))
    })
}

/// The GGUF file's bytes.
pub fn to_gguf(tokenizer: &Tokenizer, name: &str) -> Result<Vec<u8>> {
    let pre = llama_cpp_pre(tokenizer)?;
    let model = tokenizer.model();
    let size = tokenizer.vocab_size();
    let mut tokens: Vec<String> = (0..size).map(|id| format!("[PAD{id}]")).collect();
    let mut types = vec![TOKEN_UNUSED; size];
    for (id, bytes) in model.tokens() {
        tokens[id as usize] = bytelevel::encode_bytes(bytes);
        types[id as usize] = TOKEN_NORMAL;
    }
    for added in tokenizer.added_tokens() {
        tokens[added.id as usize] = added.content.clone();
        types[added.id as usize] = if added.special { TOKEN_CONTROL } else { TOKEN_USER_DEFINED };
    }
    let spell = |id| bytelevel::encode_bytes(model.token_bytes(id).unwrap_or_default());
    let merges: Vec<String> = model.merges().iter().map(|m| format!("{} {}", spell(m.left), spell(m.right))).collect();

    let mut w = Writer::default();
    w.string_kv("general.architecture", "llama");
    w.string_kv("general.name", name);
    w.string_kv("tokenizer.ggml.model", "gpt2");
    w.string_kv("tokenizer.ggml.pre", pre);
    w.array_kv("tokenizer.ggml.tokens", TYPE_STRING, tokens.len(), |w| tokens.iter().for_each(|t| w.string(t)));
    w.array_kv("tokenizer.ggml.token_type", TYPE_INT32, types.len(), |w| types.iter().for_each(|t| w.bytes(&t.to_le_bytes())));
    w.array_kv("tokenizer.ggml.merges", TYPE_STRING, merges.len(), |w| merges.iter().for_each(|m| w.string(m)));
    for (key, texts) in ROLES {
        let id = texts.iter().find_map(|t| tokenizer.special_tokens().find(|s| s.content == *t)).map(|s| s.id);
        if let Some(id) = id {
            w.key(key, TYPE_UINT32);
            w.bytes(&id.to_le_bytes());
        }
    }
    // polybpe's encoders add no tokens around the text; llama.cpp must not either.
    for key in ["tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token"] {
        w.key(key, TYPE_BOOL);
        w.bytes(&[0]);
    }
    Ok(w.finish())
}

/// Writes the GGUF file atomically.
pub fn save(tokenizer: &Tokenizer, name: &str, path: &Path) -> Result<()> {
    crate::io::write_atomic(path, &to_gguf(tokenizer, name)?)
}

/// GGUF version 3, little-endian: header, key/value pairs, no tensors.
#[derive(Default)]
struct Writer {
    body: Vec<u8>,
    pairs: u64,
}

impl Writer {
    fn bytes(&mut self, b: &[u8]) {
        self.body.extend_from_slice(b);
    }

    fn string(&mut self, s: &str) {
        self.bytes(&(s.len() as u64).to_le_bytes());
        self.bytes(s.as_bytes());
    }

    fn key(&mut self, key: &str, value_type: u32) {
        self.pairs += 1;
        self.string(key);
        self.bytes(&value_type.to_le_bytes());
    }

    fn string_kv(&mut self, key: &str, value: &str) {
        self.key(key, TYPE_STRING);
        self.string(value);
    }

    fn array_kv(&mut self, key: &str, element_type: u32, len: usize, elements: impl FnOnce(&mut Self)) {
        self.key(key, TYPE_ARRAY);
        self.bytes(&element_type.to_le_bytes());
        self.bytes(&(len as u64).to_le_bytes());
        elements(self);
    }

    fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 24 + ALIGNMENT);
        out.extend_from_slice(b"GGUF");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // tensors
        out.extend_from_slice(&self.pairs.to_le_bytes());
        out.extend_from_slice(&self.body);
        out.resize(out.len().next_multiple_of(ALIGNMENT), 0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpe::BpeModel;
    use crate::pretokenize::PreTokenizer;
    use crate::{AddedToken, Normalization};

    fn tokenizer(pattern: Pattern) -> Tokenizer {
        let mut tokens: Vec<Option<Box<[u8]>>> = vec![None, None];
        tokens.extend((0..=255u8).map(|b| Some(vec![b].into_boxed_slice())));
        tokens.push(Some(b"ab".to_vec().into_boxed_slice()));
        let model = BpeModel::new(tokens, &[(2 + b'a' as u32, 2 + b'b' as u32)], false).unwrap();
        let added = vec![
            AddedToken { id: 0, content: "<|begin_of_text|>".into(), special: true },
            AddedToken { id: 1, content: "<|end_of_text|>".into(), special: true },
        ];
        Tokenizer::new(Normalization::Nfc, PreTokenizer::from_pattern(pattern).unwrap(), model, added).unwrap()
    }

    /// Reads a GGUF string at `at`, returning it and the offset after it.
    fn read_string(b: &[u8], at: usize) -> (String, usize) {
        let len = u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize;
        (String::from_utf8(b[at + 8..at + 8 + len].to_vec()).unwrap(), at + 8 + len)
    }

    #[test]
    fn header_and_first_keys() {
        let bytes = to_gguf(&tokenizer(Pattern::Qwen35), "t").unwrap();
        assert_eq!(&bytes[..4], b"GGUF");
        assert_eq!(u32::from_le_bytes(bytes[4..8].try_into().unwrap()), 3);
        assert_eq!(u64::from_le_bytes(bytes[8..16].try_into().unwrap()), 0);
        // architecture, name, model, pre, tokens, types, merges, bos, eos, add_bos, add_eos
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), 11);
        assert_eq!(bytes.len() % ALIGNMENT, 0);
        let (key, at) = read_string(&bytes, 24);
        assert_eq!(key, "general.architecture");
        assert_eq!(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()), TYPE_STRING);
        assert_eq!(read_string(&bytes, at + 4).0, "llama");
    }

    #[test]
    fn default_pattern_is_refused_naming_qwen35() {
        let err = to_gguf(&tokenizer(Pattern::Default), "t").unwrap_err().to_string();
        assert!(err.contains("qwen35") && err.contains("elision"), "{err}");
        assert_eq!(llama_cpp_pre(&tokenizer(Pattern::Cl100k)).unwrap(), "llama-bpe");
    }
}
