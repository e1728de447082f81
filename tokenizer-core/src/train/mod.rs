//! Training: count words, then learn merges, then assemble a [`Tokenizer`].
//!
//! Id layout of a trained vocabulary (documented, stable):
//! 1. the special tokens, in the order given (`pleias-rag`: `[UNK]`=0, `<|begin_of_text|>`=1,
//!    `<|end_of_text|>`=2, `[PAD]`=3, then the RAG tokens, then `<|reserved_N|>` slots);
//! 2. the 256 byte tokens, in the order of their GPT-2 stand-in characters (HF's order);
//! 3. the learned merges, in the order learned.
//!
//! `vocab_size` counts all three.

pub mod count;
pub mod merge;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::bpe::{BpeModel, TokenId};
use crate::bytelevel;
use crate::corpus::{Corpus, CorpusOptions, CorpusStats, ReadProgress};
use crate::normalize::{NfkcFolds, Normalization};
use crate::pretokenize::{Pattern, PreTokenizer};
use crate::tokenizer::{AddedToken, Tokenizer};
use crate::{Error, Result};

pub use count::{LangId, LanguageTotals, WordCounter, WordCounts};
pub use merge::{LearnedMerge, MergeLimits};

/// Everything that decides what a training run learns.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Total vocabulary size: special tokens + 256 bytes + merges.
    pub vocab_size: usize,
    pub normalization: Normalization,
    pub pattern: Pattern,
    /// Special tokens in id order (see [`crate::special::special_token_list`]).
    pub special_tokens: Vec<String>,
    /// Pairs seen fewer times than this are never merged.
    pub min_frequency: u64,
    /// Longest token, in bytes (none by default).
    pub max_token_bytes: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            vocab_size: 65_536,
            normalization: Normalization::Nfc,
            pattern: Pattern::Default,
            special_tokens: Vec::new(),
            min_frequency: 2,
            max_token_bytes: None,
        }
    }
}

impl TrainConfig {
    /// Checks the settings before any work is done.
    pub fn validate(&self) -> Result<()> {
        let floor = self.special_tokens.len() + 256;
        if self.vocab_size < floor {
            return Err(Error::config(format!(
                "vocab size {} is too small: it must hold {} special tokens + 256 byte tokens = {floor}",
                self.vocab_size,
                self.special_tokens.len()
            )));
        }
        if self.vocab_size > u32::MAX as usize {
            return Err(Error::config(format!("vocab size {} does not fit 32-bit ids", self.vocab_size)));
        }
        crate::pretokenize::compile(self.pattern.regex())?;
        Ok(())
    }

    /// How many merges fit.
    pub fn max_merges(&self) -> usize {
        self.vocab_size.saturating_sub(self.special_tokens.len() + 256)
    }
}

/// Callbacks for progress bars and warnings; every method has a silent default.
pub trait TrainObserver: Sync {
    fn reading(&self, _progress: ReadProgress) {}
    fn counting_done(&self, _distinct_words: usize) {}
    fn merging(&self, _done: usize, _total: usize) {}
    fn warn(&self, _message: &str) {}
}

/// An observer that reports nothing.
pub struct Silent;
impl TrainObserver for Silent {}

/// What a training run did.
#[derive(Clone, Debug)]
pub struct TrainReport {
    pub corpus: CorpusStats,
    pub languages: Vec<String>,
    pub per_language: Vec<LanguageTotals>,
    pub distinct_words: usize,
    pub merges: usize,
    /// Merges whose result spelled an existing token (no new id).
    pub duplicate_merges: usize,
    /// Set when the corpus ran out of pairs before the vocabulary was full.
    pub stopped_early: bool,
    pub nfkc_folds: Option<NfkcFolds>,
    /// Tokens the new vocabulary spends on each language's training text.
    pub tokens_per_language: Vec<u64>,
    pub count_time: Duration,
    pub merge_time: Duration,
}

/// Reads a corpus and counts its words (phase 1).
pub fn count_corpus(
    paths: &[PathBuf],
    options: CorpusOptions,
    config: &TrainConfig,
    observer: &dyn TrainObserver,
) -> Result<(WordCounts, CorpusStats, Option<NfkcFolds>)> {
    config.validate()?;
    let corpus = Corpus::open(paths, options)?;
    let pre = PreTokenizer::from_pattern(config.pattern.clone())?;
    let mut counter = WordCounter::new(config.normalization, pre, &config.special_tokens);
    let stats = corpus.for_each_batch(
        8 << 20,
        &mut |p| observer.reading(p),
        &mut |docs| counter.add_batch(&docs),
    )?;
    let folds = counter.nfkc_folds().cloned();
    let counts = counter.finish();
    if counts.words.is_empty() {
        return Err(Error::EmptyCorpus(format!(
            "no text found in {} ({} files, {} documents, {} empty or skipped)",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
            stats.files,
            stats.documents,
            stats.skipped_empty + stats.skipped_invalid
        )));
    }
    observer.counting_done(counts.words.len());
    Ok((counts, stats, folds))
}

/// Learns merges from word counts and builds the tokenizer (phase 2).
///
/// Each word's weight is its total count over languages.
pub fn train_from_counts(counts: &WordCounts, config: &TrainConfig, observer: &dyn TrainObserver) -> Result<(Tokenizer, MergeSummary)> {
    config.validate()?;
    let n_special = config.special_tokens.len();
    // Merging runs in local ids (bytes 0..256 in stand-in character order, then merges) and
    // shifts them past the special tokens afterwards: a constant offset keeps the tie-break
    // order, and special tokens can never take part in a merge.
    let byte_order = bytelevel::bytes_in_char_order();
    let mut local_byte_id = [0 as TokenId; 256];
    let mut table: Vec<Vec<u8>> = Vec::with_capacity(config.vocab_size);
    for (i, &b) in byte_order.iter().enumerate() {
        local_byte_id[b as usize] = i as TokenId;
        table.push(vec![b]);
    }
    let mut words = Vec::with_capacity(counts.words.len());
    let mut weights = Vec::with_capacity(counts.words.len());
    for (word, lang_counts) in &counts.words {
        let weight = WordCounts::total(lang_counts);
        if weight > 0 {
            words.push(word.iter().map(|&b| local_byte_id[b as usize]).collect::<Vec<_>>());
            weights.push(weight);
        }
    }
    let limits = MergeLimits {
        max_new_tokens: config.max_merges(),
        min_frequency: config.min_frequency,
        max_token_bytes: config.max_token_bytes,
    };
    let total = limits.max_new_tokens;
    let learned = merge::learn_merges(words, &weights, &mut table, limits, |done| observer.merging(done, total));
    let new_tokens = table.len() - 256;
    let offset = n_special as TokenId;
    let tokens: Vec<Option<Box<[u8]>>> = std::iter::repeat_with(|| None)
        .take(n_special)
        .chain(table.into_iter().map(|b| Some(b.into_boxed_slice())))
        .collect();
    let pairs: Vec<(TokenId, TokenId)> = learned.iter().map(|m| (m.left + offset, m.right + offset)).collect();
    let model = BpeModel::new(tokens, &pairs, false)?;
    let added = config
        .special_tokens
        .iter()
        .enumerate()
        .map(|(id, content)| AddedToken { id: id as TokenId, content: content.clone(), special: true })
        .collect();
    let tokenizer = Tokenizer::new(config.normalization, PreTokenizer::from_pattern(config.pattern.clone())?, model, added)?;
    let summary = MergeSummary {
        merges: learned.len(),
        duplicate_merges: learned.len() - new_tokens,
        stopped_early: new_tokens < total,
    };
    Ok((tokenizer, summary))
}

/// Outcome of the merge phase.
#[derive(Clone, Copy, Debug)]
pub struct MergeSummary {
    pub merges: usize,
    pub duplicate_merges: usize,
    pub stopped_early: bool,
}

/// Counts the corpus and trains: the whole of `vocab train`.
pub fn train(paths: &[PathBuf], options: CorpusOptions, config: &TrainConfig, observer: &dyn TrainObserver) -> Result<(Tokenizer, TrainReport)> {
    let start = Instant::now();
    let (counts, corpus, nfkc_folds) = count_corpus(paths, options, config, observer)?;
    if let Some(folds) = &nfkc_folds {
        if folds.total() > 0 {
            observer.warn(&format!(
                "NFKC folded {} characters of the corpus ({}); historical spellings such as ſ are lost. Use --normalization nfc to keep them.",
                folds.total(),
                folds.summary(6)
            ));
        }
    }
    let count_time = start.elapsed();
    let merge_start = Instant::now();
    let (tokenizer, summary) = train_from_counts(&counts, config, observer)?;
    let merge_time = merge_start.elapsed();
    let report = TrainReport {
        corpus,
        languages: counts.languages.clone(),
        per_language: counts.per_language.clone(),
        distinct_words: counts.words.len(),
        merges: summary.merges,
        duplicate_merges: summary.duplicate_merges,
        stopped_early: summary.stopped_early,
        nfkc_folds,
        tokens_per_language: tokens_per_language(&tokenizer, &counts),
        count_time,
        merge_time,
    };
    Ok((tokenizer, report))
}

/// Tokens per language on the training text itself, computed exactly from the word counts:
/// every distinct word is encoded once and its tokens counted as often as it occurs.
pub fn tokens_per_language(tokenizer: &Tokenizer, counts: &WordCounts) -> Vec<u64> {
    use rayon::prelude::*;
    let n = counts.languages.len();
    counts
        .words
        .par_iter()
        .fold(
            || (vec![0u64; n], Vec::new()),
            |(mut totals, mut ids), (word, lang_counts)| {
                ids.clear();
                tokenizer.model().encode_piece(word, &mut ids);
                for &(lang, c) in lang_counts {
                    totals[lang as usize] += c * ids.len() as u64;
                }
                (totals, ids)
            },
        )
        .map(|(totals, _)| totals)
        .reduce(|| vec![0u64; n], |mut a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
            a
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::special::{special_token_list, SpecialPreset};

    fn counts(text: &str) -> WordCounts {
        let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &[] as &[&str]);
        counter.add_document("fr", text).unwrap();
        counter.finish()
    }

    #[test]
    fn vocab_too_small_names_the_floor() {
        let config = TrainConfig {
            vocab_size: 290,
            special_tokens: special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap(),
            ..TrainConfig::default()
        };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("41 special tokens + 256 byte tokens = 297"), "{err}");
        let bad_regex = TrainConfig { pattern: Pattern::Custom("(?<".into()), ..TrainConfig::default() };
        assert!(bad_regex.validate().is_err());
    }

    #[test]
    fn id_layout_specials_bytes_merges() {
        let config = TrainConfig {
            vocab_size: 41 + 256 + 3,
            special_tokens: special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap(),
            min_frequency: 1,
            ..TrainConfig::default()
        };
        let (tok, summary) = train_from_counts(&counts("le le le la la"), &config, &Silent).unwrap();
        assert_eq!(tok.vocab_size(), 300);
        assert_eq!(summary.merges, 3);
        assert_eq!(tok.token_to_id("<|im_end|>"), Some(40));
        // Bytes follow in stand-in character order: '!' first, then '"'.
        assert_eq!(tok.model().token_bytes(41), Some(&b"!"[..]));
        assert_eq!(tok.model().token_bytes(42), Some(&b"\""[..]));
        // The most frequent pair comes first: " "+"l" (4 times) before "l"+"e" (3 times).
        let first = tok.model().merges()[0];
        assert_eq!(first.result, 297);
        assert_eq!(tok.model().token_bytes(297), Some(&b" l"[..]));
    }

    #[test]
    fn stops_early_when_pairs_run_out() {
        let config = TrainConfig { vocab_size: 1000, ..TrainConfig::default() };
        let (tok, summary) = train_from_counts(&counts("ab ab"), &config, &Silent).unwrap();
        assert!(summary.stopped_early);
        assert!(tok.vocab_size() < 1000);
    }
}
