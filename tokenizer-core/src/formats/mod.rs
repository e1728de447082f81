//! Reading and writing tokenizer files of other projects.

use std::path::Path;

use crate::{Error, Result, Tokenizer};

pub mod hf;
pub mod tiktoken;

/// Loads a tokenizer file by its kind: a tiktoken rank file (`.tiktoken`, or any file when a
/// `pattern` is given) with `pattern` or the pattern its name implies (`cl100k_base.tiktoken`
/// → cl100k), otherwise a HuggingFace tokenizer.json.
pub fn load_any(path: &Path, pattern: Option<&str>) -> Result<Tokenizer> {
    let is_tiktoken = path.extension().is_some_and(|e| e == "tiktoken");
    if pattern.is_none() && !is_tiktoken {
        return hf::load(path);
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let pattern = match pattern {
        Some(p) => p,
        None if tiktoken::pattern_by_name(stem).is_some() => stem,
        None => {
            return Err(Error::format(
                path,
                "a tiktoken rank file needs a split pattern: name it (r50k, p50k, cl100k, o200k, llama3, qwen, whisper) or give a regex",
            ))
        }
    };
    tiktoken::load(path, pattern)
}
