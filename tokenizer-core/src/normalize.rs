//! Unicode normalization applied to text before splitting.
//!
//! NFC is the default: it only composes, so `ſ` (U+017F), ligatures such as `ﬁ` and superscript
//! letters survive. NFKC folds them (`ſ`→`s`, `ﬁ`→`fi`, `ᵉ`→`e`) and erases what historical text
//! is about, so it is available only with a warning that counts what it would fold.

use std::borrow::Cow;
use std::collections::BTreeMap;

use unicode_normalization::{is_nfc_quick, is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// The normalizer of a tokenizer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Normalization {
    /// Leave text as it is.
    None,
    /// Canonical composition (HF `{"type":"NFC"}`).
    #[default]
    Nfc,
    /// Compatibility composition (HF `{"type":"NFKC"}`): folds historical characters.
    Nfkc,
}

impl Normalization {
    /// Parses `none`, `nfc` or `nfkc` (case-insensitive).
    pub fn parse(name: &str) -> crate::Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "none" | "" => Ok(Normalization::None),
            "nfc" => Ok(Normalization::Nfc),
            "nfkc" => Ok(Normalization::Nfkc),
            other => Err(crate::Error::config(format!(
                "unknown normalization `{other}` (expected none, nfc or nfkc)"
            ))),
        }
    }

    /// The name used in recipes and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Normalization::None => "none",
            Normalization::Nfc => "nfc",
            Normalization::Nfkc => "nfkc",
        }
    }

    /// Normalizes `text`, borrowing it when it is already in normal form (the common case:
    /// the quick check costs far less than composing).
    pub fn apply<'a>(self, text: &'a str) -> Cow<'a, str> {
        match self {
            Normalization::None => Cow::Borrowed(text),
            Normalization::Nfc => {
                if is_nfc_quick(text.chars()) == IsNormalized::Yes {
                    Cow::Borrowed(text)
                } else {
                    Cow::Owned(text.nfc().collect())
                }
            }
            Normalization::Nfkc => {
                if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
                    Cow::Borrowed(text)
                } else {
                    Cow::Owned(text.nfkc().collect())
                }
            }
        }
    }
}

/// Characters that NFKC would change, with how often each occurs: the content of the warning
/// shown before training with NFKC. Characters are counted after NFC, so only the extra folding
/// that NFKC does is reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NfkcFolds {
    /// Occurrences per folded character.
    pub by_char: BTreeMap<char, u64>,
}

impl NfkcFolds {
    /// Counts the characters of `text` that NFKC folds.
    pub fn scan(&mut self, text: &str) {
        if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
            return;
        }
        for c in text.chars() {
            if is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes {
                let mut folded = std::iter::once(c).nfkc();
                if folded.next() != Some(c) || folded.next().is_some() {
                    *self.by_char.entry(c).or_insert(0) += 1;
                }
            }
        }
    }

    /// Adds the counts of another scan (for parallel scans).
    pub fn merge(&mut self, other: NfkcFolds) {
        for (c, n) in other.by_char {
            *self.by_char.entry(c).or_insert(0) += n;
        }
    }

    /// Total folded characters.
    pub fn total(&self) -> u64 {
        self.by_char.values().sum()
    }

    /// A one-line summary of the most frequent folds, e.g. `ſ→s ×1520, ﬁ→fi ×3`.
    pub fn summary(&self, max_items: usize) -> String {
        let mut items: Vec<(&char, &u64)> = self.by_char.iter().collect();
        items.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        items
            .iter()
            .take(max_items)
            .map(|(c, n)| {
                let folded: String = std::iter::once(**c).nfkc().collect();
                format!("{c}→{folded} ×{n}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One step of an imported file's normalizer chain (HF `Sequence` of `NFC`, `NFKC`,
/// `Replace`, `Prepend`), for tokenizers polybpe loads but does not train.
#[derive(Clone, Debug)]
pub enum NormalizerStep {
    /// A Unicode normalization.
    Unicode(Normalization),
    /// Every match of `pattern` (left to right, not overlapping) becomes `content`.
    Replace { pattern: fancy_regex::Regex, content: String },
    /// `prefix` goes in front of non-empty text.
    Prepend(String),
}

impl NormalizerStep {
    /// Applies the step.
    pub fn apply(&self, text: &str) -> crate::Result<String> {
        Ok(match self {
            NormalizerStep::Unicode(n) => n.apply(text).into_owned(),
            NormalizerStep::Replace { pattern, content } => {
                let mut out = String::with_capacity(text.len());
                let mut last = 0;
                for found in pattern.find_iter(text) {
                    let found = found.map_err(|e| crate::Error::config(format!("normalizer regex {:?}: {e}", pattern.as_str())))?;
                    out.push_str(&text[last..found.start()]);
                    out.push_str(content);
                    last = found.end();
                }
                out.push_str(&text[last..]);
                out
            }
            NormalizerStep::Prepend(prefix) if !text.is_empty() => format!("{prefix}{text}"),
            NormalizerStep::Prepend(_) => String::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_composes_and_keeps_long_s() {
        let decomposed = "e\u{301}ſ\u{fb01}";
        assert_eq!(Normalization::Nfc.apply(decomposed), "éſ\u{fb01}");
        assert!(matches!(Normalization::Nfc.apply("déjà ſ"), Cow::Borrowed(_)));
    }

    #[test]
    fn nfkc_folds_historical_characters() {
        assert_eq!(Normalization::Nfkc.apply("ſ\u{fb01}"), "sfi");
        let mut folds = NfkcFolds::default();
        folds.scan("ſoit ſa \u{fb01}n, plain");
        assert_eq!(folds.by_char.get(&'ſ'), Some(&2));
        assert_eq!(folds.by_char.get(&'\u{fb01}'), Some(&1));
        assert_eq!(folds.total(), 3);
        assert!(folds.summary(1).starts_with("ſ→s ×2"));
    }

    #[test]
    fn parse_names() {
        assert_eq!(Normalization::parse("NFC").unwrap(), Normalization::Nfc);
        assert_eq!(Normalization::parse("none").unwrap(), Normalization::None);
        assert!(Normalization::parse("nfd").is_err());
    }
}
