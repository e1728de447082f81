//! A model folder `transformers.AutoTokenizer.from_pretrained(DIR)` loads offline:
//! `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json`.
//!
//! The config names bos/eos/pad/unk from the special-token preset, `model_max_length` when it
//! is known, and, for vocabularies with the Pleias RAG tokens, a chat template that renders
//! [`crate::prompt::pleias_rag_prompt`]'s layout from `messages` and `documents=`.
//!
//! Special-token text in documents: by default the config sets `split_special_tokens: true`, so
//! `tokenizer(text)` encodes `<|source_end|>` inside a document as ordinary text, as polybpe
//! does. `transformers` tokenizes a rendered chat template with the same setting, so such a
//! folder renders the template's control tokens as text too; a folder for prompting is written
//! with [`FolderOptions::split_special_tokens`] off (or loaded with
//! `split_special_tokens=False`), and `apply_chat_template(..., sanitize_control_tokens=True)`
//! then keeps document text as text while the template's tokens become control ids. One setting
//! of `transformers` governs both, so no folder gives both by default; the safe one is the
//! default (measured against `transformers` 5.23 in `tests/python/test_model_folder.py`).

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::special::{PLEIAS_RAG_TEMPLATE_TOKENS, PLEIAS_ROLES};
use crate::{Error, Result, Tokenizer};

/// The files of a model folder, in the order they are written.
pub const FILES: [&str; 3] = ["tokenizer.json", "special_tokens_map.json", "tokenizer_config.json"];

/// Jinja chat template of the Pleias 1.0 RAG prompt, in the `transformers` RAG convention: one
/// user message (the query) and `documents=[{"text": …}, …]`, each numbered from 1 unless it
/// has an `id`. `add_generation_prompt` opens the source analysis. Renders exactly the string
/// whose encoding [`crate::prompt::pleias_rag_prompt`] gives.
pub const PLEIAS_RAG_CHAT_TEMPLATE: &str = r#"{%- if messages | length != 1 or messages[0]['role'] != 'user' -%}
{{- raise_exception('The Pleias RAG template takes one user message, the query; pass the sources as documents=[{"text": ...}]') -}}
{%- endif -%}
{{- '<|query_start|>' + messages[0]['content'] + '<|query_end|>\n' -}}
{%- for document in documents or [] -%}
{%- set source_id = document['id'] if document['id'] is defined else loop.index -%}
{{- '<|source_start|><|source_id_start|>' + source_id | string + '<|source_id_end|>' + document['text'] + '<|source_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|source_analysis_start|>' -}}
{%- endif -%}"#;

/// What a model folder says beyond the vocabulary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderOptions {
    /// The model's context length (`model_max_length`); unset, `transformers` assumes no limit.
    pub model_max_length: Option<usize>,
    /// `split_special_tokens`: encode special-token text in `tokenizer(text)` as ordinary text.
    pub split_special_tokens: bool,
}

impl Default for FolderOptions {
    fn default() -> Self {
        FolderOptions { model_max_length: None, split_special_tokens: true }
    }
}

/// `{"bos_token": …, …}` for the roles whose preset token the tokenizer has.
fn roles(tokenizer: &Tokenizer) -> Map<String, Value> {
    let specials: Vec<&str> = tokenizer.special_tokens().map(|t| t.content.as_str()).collect();
    PLEIAS_ROLES.iter().filter(|(_, token)| specials.contains(token)).map(|&(role, token)| (role.to_string(), json!(token))).collect()
}

/// The Pleias RAG chat template if the tokenizer has every special token it writes.
fn chat_template(tokenizer: &Tokenizer) -> Option<&'static str> {
    let has = |name: &str| tokenizer.special_tokens().any(|t| t.content == name);
    PLEIAS_RAG_TEMPLATE_TOKENS.iter().all(|t| has(t)).then_some(PLEIAS_RAG_CHAT_TEMPLATE)
}

/// `special_tokens_map.json`.
pub fn special_tokens_map(tokenizer: &Tokenizer) -> Value {
    Value::Object(roles(tokenizer))
}

/// `tokenizer_config.json`.
pub fn tokenizer_config(tokenizer: &Tokenizer, options: &FolderOptions) -> Value {
    let mut config = Map::new();
    // `PreTrainedTokenizerFast` reads tokenizer.json as it is; `transformers` 5 maps the name
    // to its `TokenizersBackend`.
    config.insert("tokenizer_class".into(), json!("PreTrainedTokenizerFast"));
    config.extend(roles(tokenizer));
    if let Some(n) = options.model_max_length {
        config.insert("model_max_length".into(), json!(n));
    }
    config.insert("split_special_tokens".into(), json!(options.split_special_tokens));
    // Decoding gives the text back byte for byte, as polybpe's does (no space clean-up).
    config.insert("clean_up_tokenization_spaces".into(), json!(false));
    if let Some(template) = chat_template(tokenizer) {
        config.insert("chat_template".into(), json!(template));
    }
    Value::Object(config)
}

/// The three files' contents, in [`FILES`] order.
pub fn folder_files(tokenizer: &Tokenizer, options: &FolderOptions) -> Result<[(&'static str, String); 3]> {
    let pretty = |value: &Value| serde_json::to_string_pretty(value).map_err(|e| Error::config(format!("cannot serialize: {e}")));
    Ok([
        (FILES[0], super::hf::to_json(tokenizer)?),
        (FILES[1], pretty(&special_tokens_map(tokenizer))?),
        (FILES[2], pretty(&tokenizer_config(tokenizer, options))?),
    ])
}

/// Writes the model folder `dir`. Everything is serialized before anything is written. A new
/// folder is assembled next to `dir` and renamed into place, so it appears complete or not at
/// all; in an existing folder each file is replaced atomically (other files stay).
pub fn save(tokenizer: &Tokenizer, dir: &Path, options: &FolderOptions) -> Result<()> {
    let files = folder_files(tokenizer, options)?;
    if dir.is_dir() {
        for (name, text) in &files {
            crate::io::write_atomic(&dir.join(name), text.as_bytes())?;
        }
        return Ok(());
    }
    if dir.exists() {
        return Err(Error::io(dir, std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a file is in the way of the folder")));
    }
    let staging = crate::io::temporary_path(dir)?;
    let result = (|| {
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir(&staging)?;
        for (name, text) in &files {
            std::fs::write(staging.join(name), text)?;
        }
        std::fs::File::open(&staging)?.sync_all()?;
        std::fs::rename(&staging, dir)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(Error::io(dir, e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::{special_token_list, SpecialPreset};
    use crate::train::{train_from_counts, CountSettings, MergeSettings, Silent, TrainSettings, WordCounter};
    use crate::{Normalization, Pattern, PreTokenizer};

    fn tokenizer(preset: SpecialPreset) -> Tokenizer {
        let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &[] as &[&str]);
        counter.add_document("fr", "Qui a écrit le texte ? Le texte source dit que").unwrap();
        let config = TrainSettings { count: CountSettings { special_tokens: special_token_list(preset, &[], 0).unwrap(), ..Default::default() }, merge: MergeSettings { vocab_size: 320, min_frequency: 1, ..Default::default() } };
        train_from_counts(&counter.finish(), &config, &Silent).unwrap().0
    }

    #[test]
    fn pleias_folder_names_roles_and_has_the_rag_template() {
        let tok = tokenizer(SpecialPreset::PleiasRag);
        let config = tokenizer_config(&tok, &FolderOptions { model_max_length: Some(2048), ..Default::default() });
        assert_eq!(config["bos_token"], "<|begin_of_text|>");
        assert_eq!(config["eos_token"], "<|end_of_text|>");
        assert_eq!(config["pad_token"], "[PAD]");
        assert_eq!(config["unk_token"], "[UNK]");
        assert_eq!(config["model_max_length"], 2048);
        assert_eq!(config["split_special_tokens"], true);
        assert_eq!(config["chat_template"], PLEIAS_RAG_CHAT_TEMPLATE);
        assert_eq!(special_tokens_map(&tok)["eos_token"], "<|end_of_text|>");
    }

    #[test]
    fn without_specials_there_are_no_roles_and_no_template() {
        let tok = tokenizer(SpecialPreset::None);
        let config = tokenizer_config(&tok, &FolderOptions::default());
        assert!(config.get("bos_token").is_none() && config.get("chat_template").is_none() && config.get("model_max_length").is_none());
        assert_eq!(special_tokens_map(&tok), json!({}));
    }

    #[test]
    fn a_new_folder_appears_whole_and_an_old_one_is_updated() {
        let tok = tokenizer(SpecialPreset::PleiasRag);
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("model");
        save(&tok, &dir, &FolderOptions::default()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(root.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["model"]);
        names = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]);
        assert_eq!(std::fs::read_to_string(dir.join("tokenizer.json")).unwrap(), crate::formats::hf::to_json(&tok).unwrap());

        std::fs::write(dir.join("config.json"), "{}").unwrap();
        save(&tok, &dir, &FolderOptions { model_max_length: Some(512), split_special_tokens: false }).unwrap();
        let config: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("tokenizer_config.json")).unwrap()).unwrap();
        assert_eq!((config["model_max_length"].clone(), config["split_special_tokens"].clone()), (json!(512), json!(false)));
        assert!(dir.join("config.json").exists(), "the model's other files stay");
    }

    #[test]
    fn a_file_in_the_way_is_an_error_and_nothing_is_left() {
        let tok = tokenizer(SpecialPreset::PleiasRag);
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("model");
        std::fs::write(&file, "x").unwrap();
        let err = save(&tok, &file, &FolderOptions::default()).unwrap_err().to_string();
        assert!(err.contains("model") && err.contains("in the way"), "{err}");
        let missing_parent = root.path().join("no/such/model");
        assert!(save(&tok, &missing_parent, &FolderOptions::default()).is_err());
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
