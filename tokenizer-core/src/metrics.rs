//! What a tokenizer costs per language: fertility, compression, continued words, parity on
//! parallel text, and how evenly it spends its vocabulary.
//!
//! Definitions (used everywhere: CLI, Python, reports):
//!
//! * **word**: a segment of Unicode word segmentation (UAX #29, as the `unicode-segmentation`
//!   crate's `unicode_words`) that contains a letter or digit. Punctuation and spaces are not
//!   words; `l'homme` and `1789` are one word each.
//! * **chars**, **bytes**: Unicode scalar values and UTF-8 bytes of the lines as given.
//! * **fertility**: tokens per word. **chars_per_token**, **bytes_per_token**: compression.
//! * **cont_words**: the share of word occurrences that take two or more tokens (a token
//!   counts for a word when its bytes overlap the word's bytes in the encoded text).
//! * **parity**: on line-aligned parallel text, a language's tokens divided by the reference
//!   language's tokens on the same lines (1.0 = as cheap as the reference). The per-line ratios
//!   are summarised by their mean, median and 90th percentile.
//! * **gini**: the Gini coefficient of the per-language token totals on parallel text (0 = every
//!   language costs the same).
//! * **renyi**: Rényi entropy of order α = 2.5 of the token distribution, divided by `ln |V|`,
//!   where `|V|` is the number of BPE tokens (special tokens and reserved slots excluded).
//! * **vocab_use**: the share of those `|V|` tokens that occur at least once.
//!
//! Special-token text in the input is encoded as ordinary text, so special ids never occur.

use ahash::{AHashMap, AHashSet};
use unicode_segmentation::UnicodeSegmentation;

use crate::bpe::TokenId;
use crate::tokenizer::{Disallowed, Tokenizer};
use crate::Result;

/// The Rényi order of [`LanguageStats::renyi_efficiency`].
pub const RENYI_ALPHA: f64 = 2.5;

/// The words of `text` with their byte offsets (see the module documentation).
pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.unicode_word_indices()
}

/// Counts of one tokenizer on one language's lines.
#[derive(Clone, Debug, Default)]
pub struct LanguageStats {
    pub lines: u64,
    pub tokens: u64,
    pub words: u64,
    pub chars: u64,
    pub bytes: u64,
    /// Word occurrences split into two or more tokens.
    pub continued_words: u64,
    /// Words found in the encoded text (the denominator of the continued share; equal to
    /// `words` unless the tokenizer normalizes or drops bytes).
    pub encoded_words: u64,
    /// Tokens of each line, in order (for parity).
    pub line_tokens: Vec<u64>,
    /// How often each id occurs.
    pub id_counts: AHashMap<TokenId, u64>,
}

impl LanguageStats {
    /// Encodes `lines` and counts.
    pub fn measure<S: AsRef<str>>(tokenizer: &Tokenizer, lines: &[S]) -> Result<LanguageStats> {
        let mut stats = LanguageStats { line_tokens: Vec::with_capacity(lines.len()), ..Default::default() };
        let mut ends = Vec::new();
        for line in lines {
            let line = line.as_ref();
            let ids = tokenizer.encode_with(line, |_| false, Disallowed::AsText)?;
            stats.lines += 1;
            stats.tokens += ids.len() as u64;
            stats.line_tokens.push(ids.len() as u64);
            stats.words += words(line).count() as u64;
            stats.chars += line.chars().count() as u64;
            stats.bytes += line.len() as u64;
            for &id in &ids {
                *stats.id_counts.entry(id).or_insert(0) += 1;
            }
            // Byte offset where each token ends in the encoded text.
            ends.clear();
            let mut encoded = Vec::with_capacity(line.len());
            for &id in &ids {
                encoded.extend_from_slice(tokenizer.id_to_bytes(id).unwrap_or_default());
                ends.push(encoded.len());
            }
            let encoded = String::from_utf8_lossy(&encoded);
            for (start, word) in words(&encoded) {
                let end = start + word.len();
                // Tokens overlapping [start, end): from the first ending after `start` to the
                // first ending at or after `end`.
                let first = ends.partition_point(|&e| e <= start);
                let last = ends.partition_point(|&e| e < end);
                stats.encoded_words += 1;
                if last > first {
                    stats.continued_words += 1;
                }
            }
        }
        Ok(stats)
    }

    /// Tokens per word.
    pub fn fertility(&self) -> f64 {
        ratio(self.tokens, self.words)
    }

    /// Characters per token.
    pub fn chars_per_token(&self) -> f64 {
        ratio(self.chars, self.tokens)
    }

    /// Bytes per token.
    pub fn bytes_per_token(&self) -> f64 {
        ratio(self.bytes, self.tokens)
    }

    /// Share of word occurrences split into two or more tokens.
    pub fn continued_share(&self) -> f64 {
        ratio(self.continued_words, self.encoded_words)
    }

    /// Rényi entropy (order [`RENYI_ALPHA`]) of the id distribution over `ln vocab`. The
    /// counts are summed in id order: a float sum in hash-map order differed in its last
    /// digits from run to run.
    pub fn renyi_efficiency(&self, vocab: usize) -> f64 {
        let mut counts: Vec<(TokenId, u64)> = self.id_counts.iter().map(|(&id, &c)| (id, c)).collect();
        counts.sort_unstable();
        renyi_efficiency(counts.into_iter().map(|(_, c)| c), vocab)
    }

    /// Share of `vocab` tokens that occur.
    pub fn vocab_use(&self, vocab: usize) -> f64 {
        ratio(self.id_counts.len() as u64, vocab as u64)
    }
}

/// `a / b`, or NaN when `b` is 0 (shown as empty in tables, `null` in JSON).
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        f64::NAN
    } else {
        a as f64 / b as f64
    }
}

/// Rényi entropy of order [`RENYI_ALPHA`] of a distribution given by counts, divided by
/// `ln vocab`.
pub fn renyi_efficiency(counts: impl IntoIterator<Item = u64>, vocab: usize) -> f64 {
    let counts: Vec<u64> = counts.into_iter().filter(|&c| c > 0).collect();
    let total: u64 = counts.iter().sum();
    if total == 0 || vocab < 2 {
        return f64::NAN;
    }
    let power_sum: f64 = counts.iter().map(|&c| (c as f64 / total as f64).powf(RENYI_ALPHA)).sum();
    (power_sum.ln() / (1.0 - RENYI_ALPHA)) / (vocab as f64).ln()
}

/// Parity of one language against the reference on line-aligned text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parity {
    /// Total tokens over total reference tokens.
    pub total: f64,
    /// Mean, median and 90th percentile of the per-line ratios (lines where the reference
    /// has no tokens are skipped).
    pub mean: f64,
    pub median: f64,
    pub p90: f64,
}

/// Parity of `tokens` (per line) against `reference` (per line, same lines).
pub fn parity(tokens: &[u64], reference: &[u64]) -> Parity {
    let mut ratios: Vec<f64> =
        tokens.iter().zip(reference).filter(|(_, &r)| r > 0).map(|(&t, &r)| t as f64 / r as f64).collect();
    ratios.sort_by(f64::total_cmp);
    let total = ratio(tokens.iter().sum(), reference.iter().take(tokens.len()).sum());
    if ratios.is_empty() {
        return Parity { total, mean: f64::NAN, median: f64::NAN, p90: f64::NAN };
    }
    let mean = ratios.iter().sum::<f64>() / ratios.len() as f64;
    Parity { total, mean, median: quantile(&ratios, 0.5), p90: quantile(&ratios, 0.9) }
}

/// The `q` quantile of sorted values, interpolating linearly between ranks (numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

/// The Gini coefficient of non-negative values: mean absolute difference over twice the mean.
pub fn gini(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let sum: f64 = values.iter().sum();
    if values.is_empty() || sum == 0.0 {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Σ_i Σ_j |x_i − x_j| = 2 Σ_i (2i − n + 1) x_(i) for sorted x.
    let weighted: f64 = sorted.iter().enumerate().map(|(i, x)| (2.0 * i as f64 - n + 1.0) * x).sum();
    weighted / (n * sum)
}

/// The number of BPE tokens of `tokenizer` (the `|V|` of [`renyi_efficiency`] and vocab use).
pub fn model_vocab(tokenizer: &Tokenizer) -> usize {
    let special: AHashSet<TokenId> = tokenizer.added_tokens().iter().map(|t| t.id).collect();
    tokenizer.model().tokens().filter(|(id, _)| !special.contains(id)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_uax29_words() {
        let found: Vec<&str> = words("L'homme, en 1789 — «liberté»! ſcience 3.5 don't").map(|(_, w)| w).collect();
        assert_eq!(found, vec!["L'homme", "en", "1789", "liberté", "ſcience", "3.5", "don't"]);
    }

    #[test]
    fn gini_and_quantiles() {
        assert_eq!(gini(&[5.0, 5.0, 5.0]), 0.0);
        // One of four has everything: (n - 1) / n.
        assert!((gini(&[0.0, 0.0, 0.0, 8.0]) - 0.75).abs() < 1e-12);
        // Brute force on an uneven case.
        let x = [1.0, 3.0, 4.0, 10.0];
        let brute: f64 = x.iter().flat_map(|a| x.iter().map(move |b| (a - b as &f64).abs())).sum::<f64>() / (2.0 * 16.0 * 4.5);
        assert!((gini(&x) - brute).abs() < 1e-12);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert!((quantile(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9) - 9.1).abs() < 1e-12);
    }

    #[test]
    fn parity_totals_and_per_line() {
        let p = parity(&[2, 4, 3], &[1, 2, 0]);
        assert_eq!(p.total, 3.0);
        assert_eq!((p.mean, p.median, p.p90), (2.0, 2.0, 2.0));
    }

    #[test]
    fn renyi_of_uniform_use_is_its_share_of_the_vocab() {
        // Uniform over k of V tokens: H = ln k, so the efficiency is ln k / ln V.
        let e = renyi_efficiency([7u64; 16], 256);
        assert!((e - 0.5).abs() < 1e-12);
        assert!(renyi_efficiency([], 256).is_nan());
    }
}
