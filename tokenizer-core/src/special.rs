//! Special tokens: reserved ids, presets, and the scan that finds their text.
//!
//! Special tokens are never learned. They take the first ids of the vocabulary in a documented
//! order, their text is cut out of training documents (so no merge can rebuild them), and at
//! encoding time their text becomes a special id only where the caller allows it.

use aho_corasick::{AhoCorasick, MatchKind};

use crate::{Error, Result};

/// Pleias 1.0's base tokens, at ids 0–3.
pub const PLEIAS_BASE: [&str; 4] = ["[UNK]", "<|begin_of_text|>", "<|end_of_text|>", "[PAD]"];

/// Pleias RAG control tokens, at ids 4 onwards in this order.
pub const PLEIAS_RAG: [&str; 37] = [
    "<|query_start|>",
    "<|query_end|>",
    "<|source_start|>",
    "<|source_end|>",
    "<|source_id_start|>",
    "<|source_id_end|>",
    "<|source_id|>",
    "<|source_analysis_start|>",
    "<|source_analysis_end|>",
    "<|answer_start|>",
    "<|answer_end|>",
    "<|language_start|>",
    "<|language_end|>",
    "<|query_analysis_start|>",
    "<|query_analysis_end|>",
    "<|query_report_start|>",
    "<|query_report_end|>",
    "<|draft_start|>",
    "<|draft_end|>",
    "<|source_interpretation_start|>",
    "<|source_interpretation_end|>",
    "<|text_start|>",
    "<|text_end|>",
    "<|translation_start|>",
    "<|translation_end|>",
    "<|back_translation_start|>",
    "<|back_translation_end|>",
    "<|ocr_correction_start|>",
    "<|ocr_correction_end|>",
    "<|json_scheme_start|>",
    "<|json_scheme_end|>",
    "<|tool_call_start|>",
    "<|tool_call_end|>",
    "<|tool_list_start|>",
    "<|tool_list_end|>",
    "<|im_start|>",
    "<|im_end|>",
];

/// The roles `transformers` gives Pleias 1.0's base tokens (`tokenizer_config.json` keys).
pub const PLEIAS_ROLES: [(&str, &str); 4] =
    [("bos_token", "<|begin_of_text|>"), ("eos_token", "<|end_of_text|>"), ("pad_token", "[PAD]"), ("unk_token", "[UNK]")];

/// The control tokens of the Pleias RAG prompt ([`crate::prompt::pleias_rag_prompt`] and the
/// model folder's chat template).
pub const PLEIAS_RAG_TEMPLATE_TOKENS: [&str; 7] = [
    "<|query_start|>",
    "<|query_end|>",
    "<|source_start|>",
    "<|source_id_start|>",
    "<|source_id_end|>",
    "<|source_end|>",
    "<|source_analysis_start|>",
];

/// The text of reserved placeholder `n` (0-based): `<|reserved_n|>`.
pub fn reserved_token(n: usize) -> String {
    format!("<|reserved_{n}|>")
}

/// A named set of special tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecialPreset {
    /// No special tokens.
    None,
    /// Pleias 1.0: [`PLEIAS_BASE`] then [`PLEIAS_RAG`] (41 tokens).
    PleiasRag,
}

impl SpecialPreset {
    /// Parses `none` or `pleias-rag`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "none" => Ok(SpecialPreset::None),
            "pleias-rag" | "pleias" => Ok(SpecialPreset::PleiasRag),
            other => Err(Error::config(format!("unknown special-token preset `{other}` (expected pleias-rag or none)"))),
        }
    }

    /// The preset's name.
    pub fn name(self) -> &'static str {
        match self {
            SpecialPreset::None => "none",
            SpecialPreset::PleiasRag => "pleias-rag",
        }
    }

    /// The preset's tokens in id order.
    pub fn tokens(self) -> Vec<String> {
        match self {
            SpecialPreset::None => Vec::new(),
            SpecialPreset::PleiasRag => PLEIAS_BASE.iter().chain(PLEIAS_RAG.iter()).map(|s| s.to_string()).collect(),
        }
    }
}

/// The most special tokens (preset, extra and reserved together) a training plan may ask for.
/// Checked before any placeholder is built, so a mistyped `reserved` is an error rather than an
/// allocation of its size; 2^20 is four times the largest vocabularies in use (about 262k).
pub const MAX_SPECIAL_TOKENS: usize = 1 << 20;

/// How many special tokens [`special_token_list`] makes, known without making them (a settings
/// error about their number is reported at once, not after building a million strings).
pub fn special_token_count(preset: SpecialPreset, extra: &[String], reserved: usize) -> usize {
    preset.tokens().len().saturating_add(extra.len()).saturating_add(reserved)
}

/// Builds the ordered special-token list: a preset, extra tokens, then `reserved` placeholders.
/// Duplicates, empty strings and more than [`MAX_SPECIAL_TOKENS`] tokens are refused.
pub fn special_token_list(preset: SpecialPreset, extra: &[String], reserved: usize) -> Result<Vec<String>> {
    let total = special_token_count(preset, extra, reserved);
    if total > MAX_SPECIAL_TOKENS {
        return Err(Error::config(format!(
            "reserved = {reserved} makes {total} special tokens, more than the {MAX_SPECIAL_TOKENS} a vocabulary can hold"
        )));
    }
    let mut tokens = preset.tokens();
    tokens.extend(extra.iter().cloned());
    tokens.extend((0..reserved).map(reserved_token));
    check_special_tokens(&tokens)?;
    Ok(tokens)
}

/// Refuses an empty special token and one listed twice (a list built by hand, or from a preset).
pub fn check_special_tokens(tokens: &[String]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for token in tokens {
        if token.is_empty() {
            return Err(Error::config("a special token cannot be empty"));
        }
        if !seen.insert(token.as_str()) {
            return Err(Error::config(format!("special token `{token}` is listed twice")));
        }
    }
    Ok(())
}

/// Finds special-token text in documents (leftmost-longest, so `<|source_id_start|>` wins over
/// a shorter token that is its prefix).
#[derive(Clone, Debug)]
pub struct SpecialScanner {
    automaton: Option<AhoCorasick>,
    /// The bytes a token can start with, when there are at most three of them.
    first_bytes: FirstBytes,
}

/// The distinct first bytes of the tokens, for a `memchr` scan that rules most texts out.
///
/// Every call of `encode` asks whether its text holds any special token; on short texts the
/// automaton's search costs more in setting up than in scanning. Special tokens mostly start
/// with one or two bytes (`<`, `[`), and a text without them is settled by one `memchr`. Measured
/// with `encode_lines` (GPT-2, 77,663 lines, one token `<|endoftext|>`): the automaton's search
/// was 4.3% of the samples.
#[derive(Clone, Copy, Debug)]
enum FirstBytes {
    One(u8),
    Two(u8, u8),
    Three(u8, u8, u8),
    /// More than three: only the automaton can tell.
    Many,
}

impl FirstBytes {
    fn of<S: AsRef<str>>(tokens: &[S]) -> Self {
        // An empty token matches anywhere: no byte rules a text out.
        let Some(mut bytes) = tokens.iter().map(|t| t.as_ref().as_bytes().first().copied()).collect::<Option<Vec<u8>>>() else {
            return FirstBytes::Many;
        };
        bytes.sort_unstable();
        bytes.dedup();
        match *bytes {
            [a] => FirstBytes::One(a),
            [a, b] => FirstBytes::Two(a, b),
            [a, b, c] => FirstBytes::Three(a, b, c),
            _ => FirstBytes::Many,
        }
    }

    /// Where the first byte that can start a token is, if any (0 for [`FirstBytes::Many`]).
    #[inline]
    fn find(self, text: &[u8]) -> Option<usize> {
        match self {
            FirstBytes::One(a) => memchr::memchr(a, text),
            FirstBytes::Two(a, b) => memchr::memchr2(a, b, text),
            FirstBytes::Three(a, b, c) => memchr::memchr3(a, b, c, text),
            FirstBytes::Many => Some(0),
        }
    }
}

/// A span of text between special tokens, or one special token (its index in the scanner's list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Special(usize, &'a str),
}

impl SpecialScanner {
    /// A scanner for `tokens` (may be empty).
    pub fn new<S: AsRef<str>>(tokens: &[S]) -> Self {
        if tokens.is_empty() {
            return SpecialScanner { automaton: None, first_bytes: FirstBytes::Many };
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(tokens.iter().map(|t| t.as_ref()))
            .expect("special tokens are few and short");
        SpecialScanner { automaton: Some(automaton), first_bytes: FirstBytes::of(tokens) }
    }

    /// Whether `text` contains any special token's text.
    pub fn contains(&self, text: &str) -> bool {
        let Some(ac) = &self.automaton else { return false };
        // No match can start before the first byte that starts a token.
        let bytes = text.as_bytes();
        self.first_bytes.find(bytes).is_some_and(|from| ac.is_match(&bytes[from..]))
    }

    /// The first of consecutive texts laid end to end in `bytes` (text `k` ending at `ends[k]`)
    /// that contains a token's text, if any. One scan of the first bytes covers them all: a
    /// call of [`Self::contains`] per short text costs more in starting its scan than in
    /// scanning.
    pub fn first_containing(&self, bytes: &[u8], ends: &[usize]) -> Option<usize> {
        let ac = self.automaton.as_ref()?;
        if ac.is_match("") {
            // An empty token (refused by `check_special_tokens`, not by a scanner) is in every
            // text, an empty one too.
            return (!ends.is_empty()).then_some(0);
        }
        let mut from = 0;
        while from < bytes.len() {
            let at = from + self.first_bytes.find(&bytes[from..])?;
            // The text holding `at`; a match there lies within it.
            let k = ends.partition_point(|&end| end <= at);
            let end = *ends.get(k)?;
            if ac.is_match(&bytes[at..end]) {
                return Some(k);
            }
            from = end;
        }
        None
    }

    /// The first special token in `text`: (index, start, end).
    pub fn find(&self, text: &str) -> Option<(usize, usize, usize)> {
        let m = self.automaton.as_ref()?.find(text)?;
        Some((m.pattern().as_usize(), m.start(), m.end()))
    }

    /// Calls `f(index, start, end)` for each special-token match, left to right, until `f`
    /// returns false.
    pub fn matches(&self, text: &str, mut f: impl FnMut(usize, usize, usize) -> bool) {
        if let Some(ac) = &self.automaton {
            for m in ac.find_iter(text) {
                if !f(m.pattern().as_usize(), m.start(), m.end()) {
                    return;
                }
            }
        }
    }

    /// Calls `f` for each text segment and each special token of `text`, in order.
    /// Empty text segments are skipped.
    pub fn segments<'a>(&self, text: &'a str, mut f: impl FnMut(Segment<'a>)) {
        let Some(ac) = &self.automaton else {
            if !text.is_empty() {
                f(Segment::Text(text));
            }
            return;
        };
        let mut last = 0;
        for m in ac.find_iter(text) {
            if m.start() > last {
                f(Segment::Text(&text[last..m.start()]));
            }
            f(Segment::Special(m.pattern().as_usize(), &text[m.start()..m.end()]));
            last = m.end();
        }
        if last < text.len() {
            f(Segment::Text(&text[last..]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pleias_ids_are_documented_order() {
        let tokens = special_token_list(SpecialPreset::PleiasRag, &[], 2).unwrap();
        assert_eq!(tokens.len(), 43);
        assert_eq!(&tokens[..4], &["[UNK]", "<|begin_of_text|>", "<|end_of_text|>", "[PAD]"]);
        assert_eq!(tokens[4], "<|query_start|>");
        assert_eq!(tokens[8], "<|source_id_start|>");
        assert_eq!(tokens[40], "<|im_end|>");
        assert_eq!(tokens[41], "<|reserved_0|>");
    }

    #[test]
    fn duplicates_refused() {
        assert!(special_token_list(SpecialPreset::PleiasRag, &["[PAD]".into()], 0).is_err());
        assert!(special_token_list(SpecialPreset::None, &[String::new()], 0).is_err());
    }

    #[test]
    fn a_huge_reserved_count_is_refused_before_anything_is_built() {
        // Found by the `recipe` fuzz target: `reserved = 842949672962` tried to allocate 20 TB.
        let err = special_token_list(SpecialPreset::PleiasRag, &[], 842_949_672_962).unwrap_err().to_string();
        assert!(err.contains("reserved = 842949672962") && err.contains("1048576"), "{err}");
        let fits = MAX_SPECIAL_TOKENS - PLEIAS_BASE.len() - PLEIAS_RAG.len();
        assert!(special_token_list(SpecialPreset::PleiasRag, &[], fits + 1).is_err());
        assert_eq!(special_token_list(SpecialPreset::PleiasRag, &[], fits).unwrap().len(), MAX_SPECIAL_TOKENS);
    }

    #[test]
    fn segments_cut_specials_out() {
        let scanner = SpecialScanner::new(&SpecialPreset::PleiasRag.tokens());
        let mut out = Vec::new();
        scanner.segments("a<|source_id_start|>1<|source_id_end|><|source_end|>b", |s| out.push(s));
        assert_eq!(
            out,
            vec![
                Segment::Text("a"),
                Segment::Special(8, "<|source_id_start|>"),
                Segment::Text("1"),
                Segment::Special(9, "<|source_id_end|>"),
                Segment::Special(7, "<|source_end|>"),
                Segment::Text("b"),
            ]
        );
        assert!(scanner.contains("x<|im_end|>"));
        assert!(!scanner.contains("<|im_end"));
    }

    /// `contains` agrees with the automaton alone whatever the number of first bytes (one to
    /// three use `memchr`, more do not), when a first byte occurs before the match or in no
    /// match at all, for a token that starts with a non-ASCII character, and with an empty one.
    #[test]
    fn contains_agrees_with_a_full_search() {
        let sets: [&[&str]; 5] = [
            &["<|eot|>"],
            &["<|eot|>", "[PAD]"],
            &["<|eot|>", "[PAD]", "ſtop"],
            &["<|eot|>", "[PAD]", "ſtop", "#end"],
            // An empty token (which `check_special_tokens` refuses, but a scanner can be given).
            &["", "<|eot|>"],
        ];
        let texts = ["", "plain text", "a < b [c] ſ", "a < b <|eot|>", "[[PAD]", "ſſtop", "x #end", "<|eot|", "é<|eot|>é"];
        for tokens in sets {
            let scanner = SpecialScanner::new(tokens);
            let full = AhoCorasick::new(tokens).unwrap();
            for text in texts {
                assert_eq!(scanner.contains(text), full.is_match(text), "{tokens:?} in {text:?}");
            }
            // The same texts laid end to end, from each one on: a token is found only within
            // one text ("<|eot|" then ">…" holds none), the first text that has one.
            for skip in 0..texts.len() {
                let (mut bytes, mut ends) = (Vec::new(), Vec::new());
                for text in texts.iter().cycle().skip(skip).take(texts.len()).chain(["<|eot|", ">"].iter()) {
                    bytes.extend_from_slice(text.as_bytes());
                    ends.push(bytes.len());
                }
                let expected = texts.iter().cycle().skip(skip).take(texts.len()).position(|text| full.is_match(text));
                assert_eq!(scanner.first_containing(&bytes, &ends), expected, "{tokens:?} from text {skip}");
            }
        }
    }
}
