//! Inputs that made a fuzz target (`fuzz/fuzz_targets/`) fail, replayed through the same
//! checks under plain `cargo test`. Each target's inputs are the files in
//! `tests/fuzz-regressions/<target>/`; fuzz/README.md lists what each one found.

use std::path::{Path, PathBuf};

use polybpe::formats::hf;
use polybpe::train::{countfile, Recipe, Trainer};
use polybpe::{AllowedSpecial, Tokenizer};

/// The saved inputs of a fuzz target, with their file names.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    files.into_iter().map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap())).collect()
}

/// `count_file`: a parsed count file serializes back to the same counts and merges with
/// itself without a panic (counts that overflow when summed are an error).
#[test]
fn count_file() {
    for (name, data) in inputs("count_file") {
        let Ok((counts, settings)) = countfile::from_bytes(&data, Path::new(&name)) else { continue };
        let again = countfile::to_bytes(&counts, &settings);
        let (back, _) = countfile::from_bytes(&again, Path::new("again.counts")).expect("own output parses");
        assert_eq!(back, counts, "{name}");
        let _ = countfile::merge(vec![counts.clone(), counts]);
    }
}

/// The text `polybpe_fuzz::check_loaded` encodes with every loaded tokenizer.
const SAMPLE: &str = " Le château d'Ørsted, 1789 — ſouvent! 日本語 🦀\r\n\tx <|endoftext|><s>▁a";

/// `check_loaded` of the fuzz crate: a loaded tokenizer.json encodes text to ids that decode,
/// and if polybpe can write it, its tokenizer.json loads back and writes the same text.
fn check_loaded(name: &str, tok: &Tokenizer, text: &str) {
    for text in [SAMPLE, text] {
        for allowed in [AllowedSpecial::None, AllowedSpecial::All] {
            if let Ok(ids) = tok.encode(text, allowed) {
                tok.decode(&ids).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
    if let Ok(json) = hf::to_json(tok) {
        let back = hf::from_json(&json).unwrap_or_else(|e| panic!("{name}: own tokenizer.json does not load: {e}"));
        assert_eq!(hf::to_json(&back).unwrap(), json, "{name}");
    }
}

/// `tokenizer_json`: any bytes give an error or a tokenizer that passes `check_loaded`.
#[test]
fn tokenizer_json() {
    for (name, data) in inputs("tokenizer_json") {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        if let Ok(tok) = hf::from_json(text) {
            check_loaded(&name, &tok, text);
        }
    }
}

/// `tokenizer_json_structured`: the documents the target built from its failing inputs
/// (reduced by hand), through the same checks.
#[test]
fn tokenizer_json_structured() {
    for (name, data) in inputs("tokenizer_json_structured") {
        let text = String::from_utf8(data).unwrap();
        if let Ok(tok) = hf::from_json(&text) {
            check_loaded(&name, &tok, "");
        }
    }
}

/// `recipe`: a recipe that parses resolves to settings or an error, and settings make a
/// trainer or an error, never a panic or an allocation the size of a mistyped number.
#[test]
fn recipe() {
    for (name, data) in inputs("recipe") {
        let Ok(text) = std::str::from_utf8(&data) else { continue };
        let Ok(recipe) = Recipe::parse(text) else { continue };
        if let Ok(plan) = recipe.resolve(&[PathBuf::from("corpus")]) {
            let _ = Trainer::new(plan.settings).map_err(|e| format!("{name}: {e}"));
        }
    }
}
