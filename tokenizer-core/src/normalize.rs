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
            _ if self.is_quickly_normal(text) => Cow::Borrowed(text),
            Normalization::Nfc => Cow::Owned(text.nfc().collect()),
            Normalization::Nfkc => Cow::Owned(text.nfkc().collect()),
        }
    }

    /// Whether `text` is in this normal form by the Unicode quick check (a "maybe" counts as
    /// no), asking it only about the characters that can fail it (see [`passes_quick_check`]):
    /// then [`Self::apply`] borrows it.
    pub(crate) fn is_quickly_normal(self, text: &str) -> bool {
        match self {
            Normalization::None => true,
            Normalization::Nfc => passes_quick_check(text, NFC_STABLE_BELOW, |chars| is_nfc_quick(chars)),
            Normalization::Nfkc => passes_quick_check(text, NFKC_STABLE_BELOW, |chars| is_nfkc_quick(chars)),
        }
    }
}

/// UTF-8 bytes below this one start characters below U+0300, or continue a character: every
/// character below U+0300 passes the NFC quick check and is a starter (combining class 0), so
/// the check can skip them. The European languages polybpe serves (ſ, ł and ß included) are
/// mostly written with them; the check per character was 18% of encoding time with an NFC
/// vocabulary (`encode_lines`, the default recipe's output, lines of `../shared/corpus/train`).
const NFC_STABLE_BELOW: u8 = 0xCC;
/// Likewise for NFKC, which folds characters from U+00A0 on (the no-break space, `ª`, `ſ`):
/// ASCII only.
const NFKC_STABLE_BELOW: u8 = 0x80;

/// Whether `text` passes `quick` (a Unicode quick check answering yes), asking it only about
/// the runs of characters that start with a byte of `stable_below` or more.
///
/// The quick check looks at each character's own property and at the combining classes of
/// neighbours; a character below the bound is a starter that passes by itself, so it resets
/// that state, and the runs between such characters can be checked each on its own.
fn passes_quick_check(text: &str, stable_below: u8, quick: impl Fn(std::str::Chars<'_>) -> IsNormalized) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(start) = first_byte_at_least(&bytes[at..], stable_below).map(|i| at + i) {
        // `start` leads a character: a continuation byte (0x80 to 0xBF) is found only after
        // its lead, which is 0xC2 or more. The run goes on to the next character led by a
        // byte below the bound.
        let run = &text[start..];
        let end = run.char_indices().skip(1).find(|&(i, _)| run.as_bytes()[i] < stable_below).map_or(run.len(), |(i, _)| i);
        if quick(run[..end].chars()) != IsNormalized::Yes {
            return false;
        }
        at = start + end;
    }
    true
}

/// The index of the first byte of `bytes` that is `bound` or more, looked for 32 bytes at a
/// time (the maximum of a block compiles to vector instructions).
fn first_byte_at_least(bytes: &[u8], bound: u8) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in blocks.by_ref() {
        if block.iter().fold(0, |m, &b| m.max(b)) >= bound {
            break;
        }
        offset += BLOCK;
    }
    bytes[offset..].iter().position(|&b| b >= bound).map(|i| offset + i)
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
        if Normalization::Nfkc.is_quickly_normal(text) {
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
    use proptest::prelude::*;
    use unicode_normalization::char::canonical_combining_class;

    use super::*;

    #[test]
    fn the_characters_skipped_by_the_quick_checks_pass_them_as_starters() {
        type QuickCheck = fn(&str) -> IsNormalized;
        let checks: [(u8, QuickCheck); 2] =
            [(NFC_STABLE_BELOW, |t| is_nfc_quick(t.chars())), (NFKC_STABLE_BELOW, |t| is_nfkc_quick(t.chars()))];
        for (bound, quick) in checks {
            for c in (0..0x800u32).filter_map(char::from_u32) {
                let mut lead = [0u8; 4];
                c.encode_utf8(&mut lead);
                if lead[0] < bound {
                    assert_eq!(quick(&c.to_string()), IsNormalized::Yes, "U+{:04X}", c as u32);
                    assert_eq!(canonical_combining_class(c), 0, "U+{:04X}", c as u32);
                }
            }
        }
        // The bounds are tight: the first character at each fails the check or combines.
        assert_ne!(is_nfc_quick("\u{300}".chars()), IsNormalized::Yes);
        assert_ne!(is_nfkc_quick("\u{a0}".chars()), IsNormalized::Yes);
    }

    /// Text mixing starters, combining marks (in and out of canonical order), characters that
    /// NFC or NFKC change, and every script's letters.
    fn mixed_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-zA-Z ſßłéàÅ]{1,6}",
            Just("\u{301}".to_string()),
            Just("\u{327}\u{301}".to_string()),
            Just("\u{301}\u{327}".to_string()),
            Just("\u{fb01}\u{a0}\u{2000}\u{212b}".to_string()),
            Just("\u{1100}\u{1161}\u{ac00}".to_string()),
            any::<char>().prop_map(|c| c.to_string()),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn skipping_stable_characters_answers_as_the_whole_quick_check(text in mixed_text()) {
            prop_assert_eq!(passes_quick_check(&text, NFC_STABLE_BELOW, |c| is_nfc_quick(c)), is_nfc_quick(text.chars()) == IsNormalized::Yes);
            prop_assert_eq!(passes_quick_check(&text, NFKC_STABLE_BELOW, |c| is_nfkc_quick(c)), is_nfkc_quick(text.chars()) == IsNormalized::Yes);
        }
    }

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
