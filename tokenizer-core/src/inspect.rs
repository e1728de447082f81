//! A vocabulary at a glance: sizes, special tokens, longest tokens, tokens per script, and
//! how many tokens carry historical characters such as `ſ`.

use std::collections::BTreeMap;

use crate::bpe::TokenId;
use crate::tokenizer::Tokenizer;

/// The writing system a token's letters belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Script {
    Latin,
    Greek,
    Cyrillic,
    Hebrew,
    Arabic,
    Cjk,
    Other,
    /// Letters of two or more scripts.
    Mixed,
    /// No letters: digits, punctuation, whitespace, symbols.
    NoLetters,
    /// Bytes that are not complete UTF-8 (a piece of a multi-byte character).
    PartialUtf8,
}

impl Script {
    /// Display name.
    pub fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Greek => "Greek",
            Script::Cyrillic => "Cyrillic",
            Script::Hebrew => "Hebrew",
            Script::Arabic => "Arabic",
            Script::Cjk => "CJK",
            Script::Other => "other script",
            Script::Mixed => "mixed scripts",
            Script::NoLetters => "no letters",
            Script::PartialUtf8 => "partial UTF-8",
        }
    }

    /// The script of one alphabetic character (by Unicode block).
    fn of_char(c: char) -> Script {
        match c as u32 {
            0x0041..=0x024F | 0x0250..=0x02AF | 0x1D00..=0x1DBF | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF | 0xAB30..=0xAB6F
            | 0xFB00..=0xFB06 | 0xFF21..=0xFF5A => Script::Latin,
            0x0370..=0x03FF | 0x1F00..=0x1FFF => Script::Greek,
            0x0400..=0x052F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
            0x0590..=0x05FF => Script::Hebrew,
            0x0600..=0x06FF | 0x0750..=0x077F => Script::Arabic,
            0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF => Script::Cjk,
            _ => Script::Other,
        }
    }

    /// The script of a token's bytes.
    pub fn of_bytes(bytes: &[u8]) -> Script {
        let Ok(text) = std::str::from_utf8(bytes) else { return Script::PartialUtf8 };
        let mut found: Option<Script> = None;
        for c in text.chars().filter(|c| c.is_alphabetic()) {
            let s = Script::of_char(c);
            match found {
                None => found = Some(s),
                Some(f) if f != s => return Script::Mixed,
                _ => {}
            }
        }
        found.unwrap_or(Script::NoLetters)
    }
}

/// Historical characters worth counting in a vocabulary for early-modern text.
pub const HISTORICAL_CHARS: [char; 6] = ['ſ', 'ꝛ', '\u{364}', 'ʒ', 'æ', 'œ'];

/// Summary statistics of a tokenizer's vocabulary.
#[derive(Clone, Debug)]
pub struct VocabStats {
    /// One past the largest id.
    pub vocab_size: usize,
    pub model_tokens: usize,
    pub merges: usize,
    /// (id, text) of each special token.
    pub special_tokens: Vec<(TokenId, String)>,
    /// Model tokens per script.
    pub by_script: BTreeMap<Script, usize>,
    /// (char, tokens containing it) for [`HISTORICAL_CHARS`].
    pub historical: Vec<(char, usize)>,
    /// The longest model tokens (by bytes), longest first.
    pub longest: Vec<(TokenId, Vec<u8>)>,
    /// Tokens starting with a space.
    pub space_prefixed: usize,
}

impl VocabStats {
    /// Computes the statistics; `top` is how many longest tokens to keep.
    pub fn of(tokenizer: &Tokenizer, top: usize) -> VocabStats {
        let model = tokenizer.model();
        let mut by_script = BTreeMap::new();
        let mut historical: Vec<(char, usize)> = HISTORICAL_CHARS.iter().map(|&c| (c, 0)).collect();
        let mut space_prefixed = 0;
        let mut all: Vec<(TokenId, &[u8])> = Vec::with_capacity(model.len());
        for (id, bytes) in model.tokens() {
            *by_script.entry(Script::of_bytes(bytes)).or_insert(0) += 1;
            if let Ok(text) = std::str::from_utf8(bytes) {
                for (c, n) in historical.iter_mut() {
                    if text.contains(*c) {
                        *n += 1;
                    }
                }
            }
            if bytes.first() == Some(&b' ') {
                space_prefixed += 1;
            }
            all.push((id, bytes));
        }
        all.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        VocabStats {
            vocab_size: tokenizer.vocab_size(),
            model_tokens: model.len(),
            merges: model.merges().len(),
            special_tokens: tokenizer.special_tokens().map(|t| (t.id, t.content.clone())).collect(),
            by_script,
            historical,
            longest: all.into_iter().take(top).map(|(id, b)| (id, b.to_vec())).collect(),
            space_prefixed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        assert_eq!(Script::of_bytes(" ſouvent".as_bytes()), Script::Latin);
        assert_eq!(Script::of_bytes("λόγος".as_bytes()), Script::Greek);
        assert_eq!(Script::of_bytes("aб".as_bytes()), Script::Mixed);
        assert_eq!(Script::of_bytes(b" 12,"), Script::NoLetters);
        assert_eq!(Script::of_bytes(&[0xC5]), Script::PartialUtf8);
    }
}
