//! Loading the byte-level tokenizer.json files of other projects (in ../shared/tokenizers) and
//! encoding the MANIFEST's test sentence to the ids the real `tokenizers` library gave.

mod common;

use polybpe::formats::hf;
use polybpe::AllowedSpecial;

const SENTENCE: &str = "Le château d'Ørsted, 1789 — ſouvent!";

/// The ids the MANIFEST lists for `name` (the line `- name: [..]`).
fn manifest_ids(manifest: &str, name: &str) -> Vec<u32> {
    let prefix = format!("- {name}: [");
    let line = manifest.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("{name} not in MANIFEST"));
    let list = &line[prefix.len()..line.find(']').unwrap()];
    list.split(',').map(|s| s.trim().parse().unwrap()).collect()
}

#[test]
fn byte_level_files_encode_like_hf() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let dir = shared.join("tokenizers");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
    let files = [
        ("gpt2", "gpt2/gpt2.json"),
        ("olmo-dolma2", "olmo-dolma2/allenai_dolma2.json"),
        ("olmo-gpt-neox-20b-pii-special", "olmo-gpt-neox-20b-pii-special/allenai_eleuther-ai-gpt-neox-20b-pii-special.json"),
        ("falcon", "falcon/tokenizer.json"),
        ("whisper-large-v3", "whisper-large-v3/tokenizer.json"),
        ("roberta-base", "roberta-base/tokenizer.json"),
    ];
    for (name, file) in files {
        let tok = hf::load(&dir.join(file)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ids = tok.encode(SENTENCE, AllowedSpecial::All).unwrap();
        assert_eq!(ids, manifest_ids(&manifest, name), "{name}");
        assert_eq!(tok.decode(&ids).unwrap(), SENTENCE, "{name}");
    }
}

#[test]
fn sentencepiece_style_files() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let dir = shared.join("tokenizers");
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
    // Mistral-7B (characters, Metaspace, byte fallback) and Lucie-7B (the same model behind a
    // normalizer chain of regex Replace and Prepend steps) encode the MANIFEST sentence as HF does.
    for name in ["mistral-7b-v0.1", "lucie-7b"] {
        let tok = hf::load(&dir.join(name).join("tokenizer.json")).unwrap();
        assert!(tok.model().is_char_level());
        if manifest.lines().any(|l| l.starts_with(&format!("- {name}: ["))) {
            assert_eq!(tok.encode(SENTENCE, AllowedSpecial::None).unwrap(), manifest_ids(&manifest, name), "{name}");
        }
    }
}
