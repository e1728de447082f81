//! HuggingFace `tokenizer.json`: export polybpe tokenizers, import byte-level BPE files.
//!
//! Export writes the shape the `tokenizers` library itself writes for a byte-level BPE (key
//! order from its `serialization.rs`): NFC normalizer, `Sequence[Split(pattern, Isolated),
//! ByteLevel(use_regex=false)]`, BPE model with byte-level vocab and `[a, b]` merges, ByteLevel
//! decoder, special tokens in `added_tokens` with `special: true, normalized: false`.
//!
//! Import accepts what polybpe can encode *exactly*: byte-level BPE models with Split /
//! ByteLevel / Digits / Punctuation pre-tokenizers and NFC/NFKC or no normalizer. Anything else
//! (SentencePiece-style `byte_fallback`, Metaspace, dropout, …) is refused with a message rather
//! than encoded differently from HF.

use std::path::Path;

use ahash::AHashMap;
use serde_json::{json, Map, Value};

use crate::bpe::{BpeModel, TokenId};
use crate::bytelevel;
use crate::normalize::Normalization;
use crate::pretokenize::{self, PreTokenizer, SplitBehavior, Stage, GPT2_PATTERN};
use crate::tokenizer::{AddedToken, Tokenizer};
use crate::{Error, Result};

/// Serializes a tokenizer to `tokenizer.json` text.
///
/// Only tokenizers with a single isolating split pattern (all that polybpe trains) can be
/// exported; the others came from files and are refused.
pub fn to_json(tokenizer: &Tokenizer) -> Result<String> {
    let pattern = tokenizer
        .pre_tokenizer()
        .pattern()
        .ok_or_else(|| Error::config("only tokenizers with a single split pattern can be exported to tokenizer.json"))?;
    let added: Vec<Value> = tokenizer
        .added_tokens()
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "content": t.content, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": t.special
            })
        })
        .collect();
    let normalizer = match tokenizer.normalization() {
        Normalization::None => Value::Null,
        Normalization::Nfc => json!({"type": "NFC"}),
        Normalization::Nfkc => json!({"type": "NFKC"}),
    };
    // The vocab lists model tokens and, like HF's trainer, the special tokens at their ids.
    let mut entries: Vec<(TokenId, String)> =
        tokenizer.model().tokens().map(|(id, bytes)| (id, bytelevel::encode_bytes(bytes))).collect();
    entries.extend(tokenizer.added_tokens().iter().map(|t| (t.id, t.content.clone())));
    entries.sort_by_key(|(id, _)| *id);
    let mut vocab = Map::with_capacity(entries.len());
    for (id, token) in entries {
        vocab.insert(token, json!(id));
    }
    let model = tokenizer.model();
    let spell = |id: TokenId| bytelevel::encode_bytes(model.token_bytes(id).unwrap_or_default());
    let merges: Vec<Value> = model.merges().iter().map(|m| json!([spell(m.left), spell(m.right)])).collect();
    let doc = json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": added,
        "normalizer": normalizer,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern.regex()}, "behavior": "Isolated", "invert": false},
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}
        ]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {
            "type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": model.ignore_merges(),
            "vocab": Value::Object(vocab), "merges": merges
        }
    });
    serde_json::to_string_pretty(&doc).map_err(|e| Error::config(format!("cannot serialize tokenizer: {e}")))
}

/// Writes `tokenizer.json` atomically.
pub fn save(tokenizer: &Tokenizer, path: &Path) -> Result<()> {
    let text = to_json(tokenizer)?;
    crate::io::write_atomic(path, text.as_bytes())
}

/// Loads a `tokenizer.json` file.
pub fn load(path: &Path) -> Result<Tokenizer> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    from_json(&text).map_err(|message| Error::format(path, message))
}

/// Parses `tokenizer.json` text; errors are messages without the path (the caller adds it).
pub fn from_json(text: &str) -> std::result::Result<Tokenizer, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let root = doc.as_object().ok_or("not a tokenizer.json file: the top level is not an object")?;
    let model = root.get("model").and_then(Value::as_object).ok_or("no `model` object")?;
    check_model_options(model)?;
    let added = parse_added_tokens(root.get("added_tokens"))?;
    let normalization = parse_normalizer(root.get("normalizer").unwrap_or(&Value::Null))?;
    let (stages, add_prefix_space, saw_byte_level) = parse_pre_tokenizer(root.get("pre_tokenizer").unwrap_or(&Value::Null))?;
    if !saw_byte_level {
        return Err("not a byte-level BPE: the pre-tokenizer has no ByteLevel step".into());
    }
    let (tokens, vocab) = parse_vocab(model, &added)?;
    let merges = parse_merges(model, &vocab)?;
    let ignore_merges = model.get("ignore_merges").and_then(Value::as_bool).unwrap_or(false);
    let bpe = BpeModel::new(tokens, &merges, ignore_merges).map_err(|e| e.to_string())?;
    let pre = if stages.len() == 1 && !add_prefix_space {
        PreTokenizer::from_stages(stages, false)
    } else {
        PreTokenizer::from_stages(stages, add_prefix_space)
    };
    Tokenizer::new(normalization, pre, bpe, added).map_err(|e| e.to_string())
}

fn check_model_options(model: &Map<String, Value>) -> std::result::Result<(), String> {
    match model.get("type").and_then(Value::as_str) {
        Some("BPE") | None => {}
        Some(other) => return Err(format!("model type `{other}` is not supported (only byte-level BPE)")),
    }
    if model.get("byte_fallback").and_then(Value::as_bool) == Some(true) {
        return Err("model uses `byte_fallback` (SentencePiece-style BPE), which polybpe does not encode: only byte-level BPE is supported".into());
    }
    if let Some(d) = model.get("dropout").and_then(Value::as_f64) {
        if d > 0.0 {
            return Err(format!("model has BPE dropout {d}: random segmentation cannot be reproduced"));
        }
    }
    for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
        if let Some(s) = model.get(key).and_then(Value::as_str) {
            if !s.is_empty() {
                return Err(format!("model sets `{key}` = {s:?}, which byte-level BPE does not use"));
            }
        }
    }
    Ok(())
}

fn parse_added_tokens(value: Option<&Value>) -> std::result::Result<Vec<AddedToken>, String> {
    let Some(list) = value.filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or("`added_tokens` is not a list")?;
    list.iter()
        .enumerate()
        .map(|(i, t)| {
            let id = t.get("id").and_then(Value::as_u64).ok_or(format!("added_tokens[{i}] has no numeric `id`"))?;
            let content = t.get("content").and_then(Value::as_str).ok_or(format!("added_tokens[{i}] has no `content`"))?;
            if content.is_empty() {
                return Err(format!("added_tokens[{i}] has empty content"));
            }
            let id = TokenId::try_from(id).map_err(|_| format!("added_tokens[{i}] id {id} is too large"))?;
            Ok(AddedToken { id, content: content.to_string(), special: t.get("special").and_then(Value::as_bool).unwrap_or(false) })
        })
        .collect()
}

fn parse_normalizer(value: &Value) -> std::result::Result<Normalization, String> {
    match value {
        Value::Null => Ok(Normalization::None),
        _ => match value.get("type").and_then(Value::as_str) {
            Some("NFC") => Ok(Normalization::Nfc),
            Some("NFKC") => Ok(Normalization::Nfkc),
            Some("Sequence") => {
                let items = value.get("normalizers").and_then(Value::as_array).ok_or("normalizer Sequence without `normalizers`")?;
                match items.as_slice() {
                    [] => Ok(Normalization::None),
                    [one] => parse_normalizer(one),
                    _ => Err("normalizer Sequence with several steps is not supported".into()),
                }
            }
            Some(other) => Err(format!("normalizer `{other}` is not supported (only NFC, NFKC or none)")),
            None => Err("normalizer without `type`".into()),
        },
    }
}

/// Returns the stages, `add_prefix_space`, and whether a ByteLevel step was present.
fn parse_pre_tokenizer(value: &Value) -> std::result::Result<(Vec<Stage>, bool, bool), String> {
    let mut stages = Vec::new();
    let mut add_prefix_space = false;
    let mut byte_level = false;
    let steps: Vec<&Value> = match value.get("type").and_then(Value::as_str) {
        None if value.is_null() => Vec::new(),
        Some("Sequence") => value
            .get("pretokenizers")
            .and_then(Value::as_array)
            .ok_or("pre_tokenizer Sequence without `pretokenizers`")?
            .iter()
            .collect(),
        Some(_) => vec![value],
        None => return Err("pre_tokenizer without `type`".into()),
    };
    for step in steps {
        let kind = step.get("type").and_then(Value::as_str).ok_or("pre_tokenizer step without `type`")?;
        match kind {
            "ByteLevel" => {
                byte_level = true;
                if step.get("add_prefix_space").and_then(Value::as_bool) == Some(true) {
                    if !stages.is_empty() {
                        return Err("ByteLevel with add_prefix_space after other pre-tokenizers is not supported".into());
                    }
                    add_prefix_space = true;
                }
                // `use_regex` defaults to true in HF.
                if step.get("use_regex").and_then(Value::as_bool).unwrap_or(true) {
                    stages.push(regex_stage(GPT2_PATTERN, SplitBehavior::Isolated, false)?);
                }
            }
            "Split" => {
                let pattern = step.get("pattern").ok_or("Split without `pattern`")?;
                let regex = if let Some(r) = pattern.get("Regex").and_then(Value::as_str) {
                    r.to_string()
                } else if let Some(s) = pattern.get("String").and_then(Value::as_str) {
                    fancy_regex::escape(s).into_owned()
                } else {
                    return Err("Split pattern must be {\"Regex\": …} or {\"String\": …}".into());
                };
                let behavior = parse_behavior(step)?;
                let invert = step.get("invert").and_then(Value::as_bool).unwrap_or(false);
                stages.push(regex_stage(&regex, behavior, invert)?);
            }
            "Digits" => stages.push(Stage::Digits {
                individual: step.get("individual_digits").and_then(Value::as_bool).unwrap_or(false),
            }),
            "Punctuation" => stages.push(Stage::Punctuation { behavior: parse_behavior(step)? }),
            other => return Err(format!("pre-tokenizer `{other}` is not supported (only ByteLevel, Split, Digits, Punctuation)")),
        }
    }
    Ok((stages, add_prefix_space, byte_level))
}

fn parse_behavior(step: &Value) -> std::result::Result<SplitBehavior, String> {
    let name = step.get("behavior").and_then(Value::as_str).unwrap_or("Isolated");
    SplitBehavior::parse(name).ok_or(format!("unknown split behavior `{name}`"))
}

fn regex_stage(pattern: &str, behavior: SplitBehavior, invert: bool) -> std::result::Result<Stage, String> {
    let regex = pretokenize::compile(pattern).map_err(|e| e.to_string())?;
    Ok(Stage::Regex { regex, behavior, invert })
}

/// Token bytes by id, and the vocab's string → id map (for merges).
type Vocab = (Vec<Option<Box<[u8]>>>, AHashMap<String, TokenId>);

fn parse_vocab(model: &Map<String, Value>, added: &[AddedToken]) -> std::result::Result<Vocab, String> {
    let vocab = model.get("vocab").and_then(Value::as_object).ok_or("model has no `vocab` object")?;
    let added_by_id: AHashMap<TokenId, &str> = added.iter().map(|t| (t.id, t.content.as_str())).collect();
    let mut tokens: Vec<Option<Box<[u8]>>> = Vec::new();
    let mut ids = AHashMap::with_capacity(vocab.len());
    for (token, id) in vocab {
        let id = id.as_u64().and_then(|i| TokenId::try_from(i).ok()).ok_or(format!("vocab entry {token:?} has no valid id"))?;
        ids.insert(token.clone(), id);
        if added_by_id.get(&id) == Some(&token.as_str()) {
            continue; // an added token also listed in the vocab: it is handled as added
        }
        let bytes = bytelevel::decode_str(token).ok_or(format!(
            "vocab token {token:?} (id {id}) is not in byte-level spelling: not a byte-level BPE"
        ))?;
        let slot = id as usize;
        if tokens.len() <= slot {
            tokens.resize(slot + 1, None);
        }
        if tokens[slot].is_some() {
            return Err(format!("id {id} is used by two vocab entries"));
        }
        tokens[slot] = Some(bytes.into_boxed_slice());
    }
    Ok((tokens, ids))
}

fn parse_merges(model: &Map<String, Value>, vocab: &AHashMap<String, TokenId>) -> std::result::Result<Vec<(TokenId, TokenId)>, String> {
    let Some(merges) = model.get("merges").filter(|m| !m.is_null()) else { return Ok(Vec::new()) };
    let merges = merges.as_array().ok_or("`merges` is not a list")?;
    let lookup = |s: &str, i: usize| vocab.get(s).copied().ok_or(format!("merges[{i}] uses {s:?}, which is not in the vocab"));
    merges
        .iter()
        .enumerate()
        .map(|(i, m)| match m {
            Value::String(s) => {
                let (a, b) = s.split_once(' ').ok_or(format!("merges[{i}] {s:?} is not two tokens separated by a space"))?;
                Ok((lookup(a, i)?, lookup(b, i)?))
            }
            Value::Array(pair) => match pair.as_slice() {
                [Value::String(a), Value::String(b)] => Ok((lookup(a, i)?, lookup(b, i)?)),
                _ => Err(format!("merges[{i}] is not a pair of strings")),
            },
            _ => Err(format!("merges[{i}] is neither \"a b\" nor [\"a\", \"b\"]")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pretokenize::Pattern;
    use crate::tokenizer::AllowedSpecial;

    fn tiny() -> Tokenizer {
        let mut counter = crate::train::WordCounter::new(
            Normalization::Nfc,
            PreTokenizer::from_pattern(Pattern::Default).unwrap(),
            &["<|end_of_text|>"],
        );
        counter.add_document("fr", "le chat et le chien, l'homme et la femme. ſouvent ſouvent").unwrap();
        let config = crate::train::TrainConfig {
            vocab_size: 300,
            special_tokens: vec!["<|end_of_text|>".into()],
            min_frequency: 1,
            ..Default::default()
        };
        crate::train::train_from_counts(&counter.finish(), &config, &crate::train::Silent).unwrap().0
    }

    #[test]
    fn export_import_round_trip() {
        let tok = tiny();
        let text = to_json(&tok).unwrap();
        let back = from_json(&text).unwrap();
        assert_eq!(to_json(&back).unwrap(), text);
        let sample = "le chien ſouvent<|end_of_text|>";
        assert_eq!(tok.encode(sample, AllowedSpecial::All).unwrap(), back.encode(sample, AllowedSpecial::All).unwrap());
    }

    #[test]
    fn export_shape() {
        let doc: Value = serde_json::from_str(&to_json(&tiny()).unwrap()).unwrap();
        assert_eq!(doc["normalizer"]["type"], "NFC");
        assert_eq!(doc["pre_tokenizer"]["pretokenizers"][0]["behavior"], "Isolated");
        assert_eq!(doc["pre_tokenizer"]["pretokenizers"][1]["use_regex"], false);
        assert_eq!(doc["added_tokens"][0]["id"], 0);
        assert_eq!(doc["added_tokens"][0]["special"], true);
        assert_eq!(doc["model"]["vocab"]["<|end_of_text|>"], 0);
        assert_eq!(doc["model"]["vocab"]["!"], 1);
        assert!(doc["model"]["merges"][0].is_array());
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer", "post_processor", "decoder", "model"]);
    }

    #[test]
    fn refuses_byte_fallback_and_metaspace() {
        let sp = r#"{"model":{"type":"BPE","byte_fallback":true,"vocab":{},"merges":[]}}"#;
        assert!(from_json(sp).unwrap_err().contains("byte_fallback"));
        let meta = r#"{"pre_tokenizer":{"type":"Metaspace"},"model":{"type":"BPE","vocab":{},"merges":[]}}"#;
        assert!(from_json(meta).unwrap_err().contains("Metaspace"));
        assert!(from_json("{").unwrap_err().contains("not valid JSON"));
    }

    #[test]
    fn legacy_string_merges() {
        let text = to_json(&tiny()).unwrap();
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        let merges: Vec<Value> = doc["model"]["merges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| Value::String(format!("{} {}", m[0].as_str().unwrap(), m[1].as_str().unwrap())))
            .collect();
        doc["model"]["merges"] = Value::Array(merges);
        let back = from_json(&doc.to_string()).unwrap();
        assert_eq!(to_json(&back).unwrap(), text);
    }
}
