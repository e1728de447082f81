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

use crate::bpe::{BpeModel, CharLevel, TokenId};
use crate::bytelevel;
use crate::normalize::{Normalization, NormalizerStep};
use crate::pretokenize::{self, Metaspace, PrependScheme, PreTokenizer, SplitBehavior, Stage, GPT2_PATTERN};
use crate::tokenizer::{AddedToken, Decoding, Tokenizer};
use crate::{Error, Result};

/// Serializes a tokenizer to `tokenizer.json` text.
///
/// Only tokenizers with a single isolating split pattern (all that polybpe trains) can be
/// exported; the others came from files and are refused.
pub fn to_json(tokenizer: &Tokenizer) -> Result<String> {
    if tokenizer.model().is_char_level() {
        return Err(Error::config(
            "SentencePiece-style tokenizers (byte_fallback, Metaspace) are loaded for encoding and comparison only; polybpe does not write them",
        ));
    }
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
    // The vocab lists model tokens and, like HF's trainer, the added tokens at their ids. An
    // added token spelled like a model token stays out: a key has one id, and the model
    // token's must not be overwritten (the added token is still in `added_tokens`).
    let mut entries: Vec<(TokenId, String)> =
        tokenizer.model().tokens().map(|(id, bytes)| (id, bytelevel::encode_bytes(bytes))).collect();
    let added_entries: Vec<(TokenId, String)> = {
        let spelled: ahash::AHashSet<&str> = entries.iter().map(|(_, token)| token.as_str()).collect();
        let unspelled = tokenizer.added_tokens().iter().filter(|t| !spelled.contains(t.content.as_str()));
        unspelled.map(|t| (t.id, t.content.clone())).collect()
    };
    entries.extend(added_entries);
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
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::format(path, format!("not a tokenizer.json file: invalid UTF-8 at byte offset {}", e.utf8_error().valid_up_to()))
    })?;
    from_json(&text).map_err(|message| Error::format(path, message))
}

/// Parses `tokenizer.json` text; errors are messages without the path (the caller adds it).
pub fn from_json(text: &str) -> std::result::Result<Tokenizer, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let root = doc.as_object().ok_or("not a tokenizer.json file: the top level is not an object")?;
    let model = root.get("model").and_then(Value::as_object).ok_or("no `model` object")?;
    check_model_options(model)?;
    let added = parse_added_tokens(root.get("added_tokens"))?;
    let parsed = parse_pre_tokenizer(root.get("pre_tokenizer").unwrap_or(&Value::Null))?;
    let byte_fallback = model.get("byte_fallback").and_then(Value::as_bool) == Some(true);
    let ignore_merges = model.get("ignore_merges").and_then(Value::as_bool).unwrap_or(false);
    if !parsed.byte_level {
        if parsed.metaspace.is_none() && !byte_fallback {
            return Err("not a byte-level BPE: the pre-tokenizer has no ByteLevel step".into());
        }
        let steps = parse_normalizer_steps(root.get("normalizer").unwrap_or(&Value::Null))?;
        let decoding = parse_decoder(root.get("decoder").unwrap_or(&Value::Null));
        let tok = char_level(model, parsed, Normalization::None, added, byte_fallback, ignore_merges)?;
        return Ok(tok.with_normalizer_steps(steps).with_decoding(decoding));
    }
    let normalization = parse_normalizer(root.get("normalizer").unwrap_or(&Value::Null))?;
    if byte_fallback || parsed.metaspace.is_some() {
        return Err("a ByteLevel pre-tokenizer with `byte_fallback` or Metaspace is not supported".into());
    }
    let (tokens, vocab) = parse_vocab(model, &added, true)?;
    let merges = parse_merges(model, &vocab)?;
    let bpe = BpeModel::new(tokens, &merges, ignore_merges).map_err(|e| e.to_string())?;
    let (stages, add_prefix_space) = (parsed.stages, parsed.add_prefix_space);
    let pre = if stages.len() == 1 && !add_prefix_space {
        PreTokenizer::from_stages(stages, false)
    } else {
        PreTokenizer::from_stages(stages, add_prefix_space)
    };
    Tokenizer::new(normalization, pre, bpe, added).map_err(|e| e.to_string())
}

/// A SentencePiece-style file (Mistral, Llama 2): tokens are strings whose characters are the
/// first symbols, spaces are `▁` (Metaspace), and characters without a token fall back to
/// `<0xNN>` byte tokens.
fn char_level(
    model: &Map<String, Value>,
    parsed: ParsedPreTokenizer,
    normalization: Normalization,
    added: Vec<AddedToken>,
    byte_fallback: bool,
    ignore_merges: bool,
) -> std::result::Result<Tokenizer, String> {
    let (tokens, vocab) = parse_vocab(model, &added, false)?;
    let merges = parse_merges(model, &vocab)?;
    let unk = match model.get("unk_token").and_then(Value::as_str) {
        Some(name) => Some(*vocab.get(name).ok_or(format!("unk_token {name:?} is not in the vocab"))?),
        None => None,
    };
    let options = CharLevel {
        byte_fallback,
        unk,
        fuse_unk: model.get("fuse_unk").and_then(Value::as_bool).unwrap_or(false),
        // SentencePiece writes spaces as `▁` whether a Metaspace step or a normalizer puts it there.
        space: Some(parsed.metaspace.map_or('\u{2581}', |m| m.replacement)),
    };
    let bpe = BpeModel::new_char_level(tokens, &merges, ignore_merges, options).map_err(|e| e.to_string())?;
    let mut pre = PreTokenizer::from_stages(parsed.stages, false);
    if let Some(metaspace) = parsed.metaspace {
        pre = pre.with_metaspace(metaspace);
    }
    Tokenizer::new(normalization, pre, bpe, added).map_err(|e| e.to_string())
}

fn check_model_options(model: &Map<String, Value>) -> std::result::Result<(), String> {
    match model.get("type").and_then(Value::as_str) {
        Some("BPE") | None => {}
        Some(other) => return Err(format!("model type `{other}` is not supported (only byte-level BPE)")),
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

/// The normalizer of a SentencePiece-style file as steps (NFC, NFKC, Replace, Prepend, in any
/// `Sequence`).
fn parse_normalizer_steps(value: &Value) -> std::result::Result<Vec<NormalizerStep>, String> {
    if value.is_null() {
        return Ok(Vec::new());
    }
    let kind = value.get("type").and_then(Value::as_str).ok_or("normalizer without `type`")?;
    Ok(match kind {
        "Sequence" => {
            let items = value.get("normalizers").and_then(Value::as_array).ok_or("normalizer Sequence without `normalizers`")?;
            let mut steps = Vec::new();
            for item in items {
                steps.extend(parse_normalizer_steps(item)?);
            }
            steps
        }
        "NFC" => vec![NormalizerStep::Unicode(Normalization::Nfc)],
        "NFKC" => vec![NormalizerStep::Unicode(Normalization::Nfkc)],
        "Prepend" => vec![NormalizerStep::Prepend(value.get("prepend").and_then(Value::as_str).ok_or("Prepend without `prepend`")?.to_string())],
        "Replace" => {
            let regex = pattern_regex(value.get("pattern").ok_or("Replace without `pattern`")?, "Replace")?;
            let content = value.get("content").and_then(Value::as_str).ok_or("Replace without `content`")?.to_string();
            vec![NormalizerStep::Replace { pattern: pretokenize::compile(&regex).map_err(|e| e.to_string())?, content }]
        }
        other => return Err(format!("normalizer `{other}` is not supported (only NFC, NFKC, Replace, Prepend)")),
    })
}

/// The parts of an HF decoder that change text beyond joining token bytes: dropping the
/// prepended space (`Metaspace`, `Strip` of one leading space) and `Replace` steps after `Fuse`.
fn parse_decoder(value: &Value) -> Decoding {
    let steps: Vec<&Value> = match value.get("type").and_then(Value::as_str) {
        Some("Sequence") => value.get("decoders").and_then(Value::as_array).map(|d| d.iter().collect()).unwrap_or_default(),
        Some(_) => vec![value],
        None => Vec::new(),
    };
    let mut decoding = Decoding::default();
    let mut fused = false;
    for step in steps {
        match step.get("type").and_then(Value::as_str) {
            Some("Fuse") => fused = true,
            Some("Strip") => {
                let one_space = step.get("content").and_then(Value::as_str) == Some(" ");
                decoding.strip_leading_space |= one_space && step.get("start").and_then(Value::as_u64).unwrap_or(0) >= 1;
            }
            Some("Metaspace") => {
                let scheme = step.get("prepend_scheme").and_then(Value::as_str);
                let legacy = step.get("add_prefix_space").and_then(Value::as_bool).unwrap_or(true);
                decoding.strip_leading_space |= scheme.map_or(legacy, |s| s != "never");
            }
            Some("Replace") if fused => {
                let from = step.get("pattern").and_then(|p| p.get("String")).and_then(Value::as_str);
                if let (Some(from), Some(to)) = (from, step.get("content").and_then(Value::as_str)) {
                    decoding.replacements.push((from.to_string(), to.to_string()));
                }
            }
            _ => {}
        }
    }
    decoding
}

/// A pre-tokenizer chain as read.
struct ParsedPreTokenizer {
    stages: Vec<Stage>,
    add_prefix_space: bool,
    /// Whether a ByteLevel step was present.
    byte_level: bool,
    metaspace: Option<Metaspace>,
}

fn parse_pre_tokenizer(value: &Value) -> std::result::Result<ParsedPreTokenizer, String> {
    let mut stages = Vec::new();
    let mut add_prefix_space = false;
    let mut byte_level = false;
    let mut metaspace = None;
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
                let regex = pattern_regex(step.get("pattern").ok_or("Split without `pattern`")?, "Split")?;
                let behavior = parse_behavior(step)?;
                let invert = step.get("invert").and_then(Value::as_bool).unwrap_or(false);
                stages.push(regex_stage(&regex, behavior, invert)?);
            }
            "Digits" => stages.push(Stage::Digits {
                individual: step.get("individual_digits").and_then(Value::as_bool).unwrap_or(false),
            }),
            "Punctuation" => stages.push(Stage::Punctuation { behavior: parse_behavior(step)? }),
            "Metaspace" => {
                if !stages.is_empty() || metaspace.is_some() {
                    return Err("Metaspace after other pre-tokenizers is not supported".into());
                }
                let replacement = step.get("replacement").and_then(Value::as_str).unwrap_or("\u{2581}");
                let mut chars = replacement.chars();
                let (Some(replacement), None) = (chars.next(), chars.next()) else {
                    return Err(format!("Metaspace replacement {replacement:?} is not one character"));
                };
                // Older files say `add_prefix_space` instead of `prepend_scheme`.
                let legacy = if step.get("add_prefix_space").and_then(Value::as_bool) == Some(false) { "never" } else { "always" };
                let prepend = match step.get("prepend_scheme").and_then(Value::as_str).unwrap_or(legacy) {
                    "always" => PrependScheme::Always,
                    "first" => PrependScheme::First,
                    "never" => PrependScheme::Never,
                    other => return Err(format!("unknown Metaspace prepend_scheme {other:?}")),
                };
                if step.get("split").and_then(Value::as_bool).unwrap_or(true) {
                    // Pieces start at each replacement character.
                    let escaped = fancy_regex::escape(replacement.encode_utf8(&mut [0; 4])).into_owned();
                    stages.push(regex_stage(&escaped, SplitBehavior::MergedWithNext, false)?);
                }
                metaspace = Some(Metaspace { replacement, prepend });
            }
            other => return Err(format!("pre-tokenizer `{other}` is not supported (only ByteLevel, Metaspace, Split, Digits, Punctuation)")),
        }
    }
    Ok(ParsedPreTokenizer { stages, add_prefix_space, byte_level, metaspace })
}

/// An HF pattern (`{"Regex": …}` or `{"String": …}`, the latter matched literally) as a regex;
/// `step` names the step in the error.
fn pattern_regex(pattern: &Value, step: &str) -> std::result::Result<String, String> {
    if let Some(r) = pattern.get("Regex").and_then(Value::as_str) {
        Ok(r.to_string())
    } else if let Some(s) = pattern.get("String").and_then(Value::as_str) {
        Ok(fancy_regex::escape(s).into_owned())
    } else {
        Err(format!("{step} pattern must be {{\"Regex\": …}} or {{\"String\": …}}"))
    }
}

fn parse_behavior(step: &Value) -> std::result::Result<SplitBehavior, String> {
    let name = step.get("behavior").and_then(Value::as_str).unwrap_or("Isolated");
    SplitBehavior::parse(name).ok_or(format!("unknown split behavior `{name}`"))
}

fn regex_stage(pattern: &str, behavior: SplitBehavior, invert: bool) -> std::result::Result<Stage, String> {
    let regex = pretokenize::compile(pattern).map_err(|e| e.to_string())?;
    Ok(Stage::Regex { regex, behavior, invert })
}

/// Most ids a tokenizer.json may leave unused (holes between its ids).
const MAX_UNUSED_IDS: usize = 1 << 20;

/// Token bytes by id, and the vocab's string → id map (for merges).
type Vocab = (Vec<Option<Box<[u8]>>>, AHashMap<String, TokenId>);

/// With `byte_level`, token strings are in HF's byte-level spelling (decoded to bytes);
/// otherwise they are taken as they are.
fn parse_vocab(model: &Map<String, Value>, added: &[AddedToken], byte_level: bool) -> std::result::Result<Vocab, String> {
    let vocab = model.get("vocab").and_then(Value::as_object).ok_or("model has no `vocab` object")?;
    // Tokens are stored by id, so an id far past the file's tokens would allocate for nothing
    // (a four-byte id of 4e9 asks for 64 GB): refuse ids past the entries plus a wide gap.
    let id_limit = vocab.len() + added.len() + MAX_UNUSED_IDS;
    if let Some(t) = added.iter().find(|t| t.id as usize >= id_limit) {
        return Err(format!("added token {:?} has id {}, past the {} tokens of the file by more than {MAX_UNUSED_IDS} unused ids", t.content, t.id, vocab.len() + added.len()));
    }
    let added_by_id: AHashMap<TokenId, &str> = added.iter().map(|t| (t.id, t.content.as_str())).collect();
    let mut tokens: Vec<Option<Box<[u8]>>> = Vec::new();
    let mut ids = AHashMap::with_capacity(vocab.len());
    for (token, id) in vocab {
        let id = id.as_u64().and_then(|i| TokenId::try_from(i).ok()).ok_or(format!("vocab entry {token:?} has no valid id"))?;
        ids.insert(token.clone(), id);
        if added_by_id.get(&id) == Some(&token.as_str()) {
            continue; // an added token also listed in the vocab: it is handled as added
        }
        let bytes = if byte_level {
            bytelevel::decode_str(token)
                .ok_or(format!("vocab token {token:?} (id {id}) is not in byte-level spelling: not a byte-level BPE"))?
        } else {
            token.as_bytes().to_vec()
        };
        let slot = id as usize;
        if slot >= id_limit {
            return Err(format!("vocab entry {token:?} has id {id}, past the {} tokens of the file by more than {MAX_UNUSED_IDS} unused ids", vocab.len() + added.len()));
        }
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

    #[test]
    fn ids_far_past_the_tokens_are_refused_not_allocated() {
        let huge = r#"{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 4294967295}, "merges": []}}"#;
        let err = from_json(huge).unwrap_err();
        assert!(err.contains("\"b\" has id 4294967295"), "{err}");
        let added = r#"{"added_tokens": [{"id": 4000000000, "content": "<x>"}], "pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#;
        let err = from_json(added).unwrap_err();
        assert!(err.contains("\"<x>\" has id 4000000000"), "{err}");
        // Holes below the limit stay allowed.
        let holes = from_json(r#"{"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 5000}, "merges": []}}"#);
        assert!(holes.as_ref().map_or_else(|e| !e.contains("unused ids"), |_| true), "{:?}", holes.err());
    }

    fn tiny() -> Tokenizer {
        let mut counter = crate::train::WordCounter::new(
            Normalization::Nfc,
            PreTokenizer::from_pattern(Pattern::Default).unwrap(),
            &["<|end_of_text|>"],
        );
        counter.add_document("fr", "le chat et le chien, l'homme et la femme. ſouvent ſouvent").unwrap();
        let config = crate::train::TrainSettings { count: crate::train::CountSettings { special_tokens: vec!["<|end_of_text|>".into()], ..Default::default() }, merge: crate::train::MergeSettings { vocab_size: 300, min_frequency: 1, ..Default::default() } };
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
    fn sentencepiece_style_files() {
        // Characters are the first symbols, `▁` is a space, `é` has no token and falls back to
        // its bytes; `<s>` is a special token.
        let sp = r#"{"added_tokens":[{"id":0,"content":"<s>","special":true}],
            "pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false},
            "decoder":{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]},
            "model":{"type":"BPE","byte_fallback":true,"unk_token":null,"fuse_unk":true,
              "vocab":{"<s>":0,"<0xC3>":1,"<0xA9>":2,"▁":3,"a":4,"b":5,"▁a":6,"▁ab":7},
              "merges":["▁ a","▁a b"]}}"#;
        let tok = from_json(sp).unwrap();
        assert!(tok.model().is_char_level());
        assert_eq!(tok.encode("ab é", AllowedSpecial::None).unwrap(), vec![7, 3, 1, 2]);
        // After a special token the segment gets no `▁` in front (`prepend_scheme: first`).
        assert_eq!(tok.encode("<s>ab", AllowedSpecial::All).unwrap(), vec![0, 4, 5]);
        // Decoding drops the prepended space, as HF's Metaspace decoder does.
        assert_eq!(tok.decode(&[7, 3, 1, 2]).unwrap(), "ab é");
        assert!(to_json(&tok).unwrap_err().to_string().contains("SentencePiece"));
        let meta_bytelevel = r#"{"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Metaspace"},{"type":"ByteLevel"}]},"model":{"type":"BPE","vocab":{},"merges":[]}}"#;
        assert!(from_json(meta_bytelevel).unwrap_err().contains("Metaspace"));
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
