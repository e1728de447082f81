//! Reading and writing tokenizer files of other projects.

use std::path::{Path, PathBuf};

use crate::{Error, Result, Tokenizer};

pub mod gguf;
pub mod npy;
pub mod hf;
pub mod hf_folder;
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

/// Loads a tokenizer named as `[NAME=]PATH[@PATTERN]` (the pattern for tiktoken rank files), as
/// the CLI and Python take them; returns its name (NAME, else [`display_name`]) with it.
pub fn load_spec(spec: &str) -> Result<(String, Tokenizer)> {
    let (name, rest) = match spec.split_once('=') {
        Some((name, rest)) if !name.is_empty() && !name.contains(['/', '\\']) => (Some(name.to_string()), rest),
        _ => (None, spec),
    };
    // A Hub model: its tokenizer.json, fetched into the cache (`@` is its revision there).
    #[cfg(feature = "hub")]
    if rest.starts_with(crate::corpus::hub::SCHEME) {
        let path = crate::corpus::hub::fetch_file(rest)?;
        let repo = crate::corpus::hub::HubPath::parse(rest)?.repo;
        let tokenizer = load_any(&path, None)?;
        return Ok((name.unwrap_or_else(|| repo.rsplit('/').next().unwrap_or(&repo).to_string()), tokenizer));
    }
    let (path, pattern) = match rest.rsplit_once('@') {
        Some((path, pattern)) if !path.is_empty() && !pattern.contains(['/', '\\']) => (path, Some(pattern)),
        _ => (rest, None),
    };
    let path = PathBuf::from(path);
    let tokenizer = load_any(&path, pattern)?;
    Ok((name.unwrap_or_else(|| display_name(&path)), tokenizer))
}

/// A name for a tokenizer file: its stem, or its folder's name for generic file names
/// (`mistral-7b/tokenizer.json` → `mistral-7b`).
pub fn display_name(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("tokenizer");
    match (stem, path.parent().and_then(|p| p.file_name()).and_then(|s| s.to_str())) {
        ("tokenizer" | "vocab", Some(dir)) => dir.to_string(),
        _ => stem.to_string(),
    }
}
