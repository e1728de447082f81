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
pub mod countfile;
pub mod extend;
pub mod merge;
pub mod parity;
pub mod weights;

use std::path::{Path, PathBuf};
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
pub use parity::{LineRange, ParityConfig, Window};
pub use weights::{LanguageWeights, Weighting};

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
    /// Keep at most this many distinct words while counting (the rarest are pruned; see
    /// [`WordCounter::with_max_words`]). None: keep all.
    pub max_words: Option<usize>,
    /// How much each language's counts weigh (proportional: as read).
    pub weights: LanguageWeights,
    /// Parity-aware merge selection (off: every merge by the weighted global counts).
    pub parity: Option<ParityConfig>,
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
            max_words: None,
            weights: LanguageWeights::default(),
            parity: None,
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
        self.weights.validate()?;
        if let Some(parity) = &self.parity {
            parity.validate()?;
        }
        Ok(())
    }

    /// A counter that normalizes, splits and cuts special tokens as this configuration trains,
    /// capped at `max_words`.
    pub fn word_counter(&self) -> Result<WordCounter> {
        let pre = PreTokenizer::from_pattern(self.pattern.clone())?;
        Ok(WordCounter::new(self.normalization, pre, &self.special_tokens).with_max_words(self.max_words))
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
    /// Target share of every language under the weighting (as read when proportional).
    pub language_shares: Vec<f64>,
    /// What parity-aware selection did, when it was on.
    pub balance: Option<BalanceSummary>,
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
    let mut counter = config.word_counter()?;
    let stats = corpus.for_each_batch(
        8 << 20,
        &mut |p| observer.reading(p),
        &mut |docs| counter.add_batch(&docs),
    )?;
    let folds = counter.nfkc_folds().cloned();
    let counts = counter.finish();
    if config.max_words.is_some_and(|m| counts.words.len() >= m) {
        let kept: u64 = counts.words.iter().map(|(_, c)| WordCounts::total(c)).sum();
        observer.warn(&format!(
            "max words: kept the {} most frequent distinct words; {:.3}% of word occurrences were pruned",
            counts.words.len(),
            100.0 * (counts.word_occurrences() - kept) as f64 / counts.word_occurrences().max(1) as f64
        ));
    }
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

/// Learns merges from word counts and builds the tokenizer (phase 2), without a dev set.
pub fn train_from_counts(counts: &WordCounts, config: &TrainConfig, observer: &dyn TrainObserver) -> Result<(Tokenizer, MergeSummary)> {
    train_balanced(counts, None, config, observer)
}

/// Learns merges from word counts and builds the tokenizer (phase 2).
///
/// Each word weighs its counts scaled by the language weights; with parity settings, `dev`
/// holds the counted dev text (see [`count_dev`]).
pub fn train_balanced(
    counts: &WordCounts,
    dev: Option<&WordCounts>,
    config: &TrainConfig,
    observer: &dyn TrainObserver,
) -> Result<(Tokenizer, MergeSummary)> {
    config.validate()?;
    learn_prepared(Prepared::new(counts, dev, config)?, config, observer)
}

/// What the merge loop needs from the word counts. Once it is built the words' text is no
/// longer needed: [`learn`] frees it before merging, when the pair table grows to its peak.
struct Prepared {
    /// Bytes 0..256 as local ids, in stand-in character order.
    token_bytes: Vec<Vec<u8>>,
    input: merge::MergeInput,
    balancer: Option<parity::Balancer>,
    language_shares: Vec<f64>,
    soft: bool,
}

impl Prepared {
    fn new(counts: &WordCounts, dev: Option<&WordCounts>, config: &TrainConfig) -> Result<Prepared> {
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
        let to_local = |word: &[u8]| word.iter().map(|&b| local_byte_id[b as usize]).collect::<Vec<_>>();
        let occurrences: Vec<u64> = counts.per_language.iter().map(|t| t.words).collect();
        let mut weights = config.weights.resolve(&counts.languages, &occurrences)?;
        let soft = config.parity.as_ref().is_some_and(|p| p.strength.is_some());
        if soft && weights.scale == 1 {
            // Soft selection scales factors by fractional amounts: work in fixed point.
            weights.factors.iter_mut().for_each(|f| *f *= weights::WEIGHT_ONE);
            weights.scale = weights::WEIGHT_ONE;
        }
        let columns = match &config.parity {
            Some(parity) => {
                let mut columns = balanced_columns(parity, &counts.languages, dev)?;
                if soft {
                    // Soft selection weighs every language: the unbalanced ones are free columns.
                    for lang in &counts.languages {
                        if !columns.iter().any(|c| &c.lang == lang) {
                            columns.push(parity::Column { lang: lang.clone(), target: parity::Target::Free });
                        }
                    }
                    columns.sort_by(|a, b| a.lang.cmp(&b.lang));
                }
                columns
            }
            None => Vec::new(),
        };
        let column_of: Vec<Option<u16>> =
            counts.languages.iter().map(|l| columns.iter().position(|c| &c.lang == l).map(|c| c as u16)).collect();

        let column_factors = columns
            .iter()
            .map(|c| counts.languages.iter().position(|l| l == &c.lang).map_or(0, |l| weights.factors[l]))
            .collect();
        // Every word goes in, even one whose languages all weigh zero (it adds nothing to the
        // counts), so that the loop ends with every word's tokens for the per-language totals.
        let mut input =
            merge::MergeInput { weight_scale: weights.scale, n_columns: columns.len(), column_factors, column_of, ..Default::default() };
        for (word, lang_counts) in &counts.words {
            input.words.push(word.iter().map(|&b| local_byte_id[b as usize]));
            input.weights.push(weights.word_weight(lang_counts));
            input.languages.push_row(lang_counts.iter().copied());
        }
        let balancer = config.parity.as_ref().map(|parity| {
            let dev_text = match dev {
                Some(dev) => {
                    let dev_column: Vec<Option<usize>> = dev
                        .languages
                        .iter()
                        .map(|l| columns.iter().position(|c| &c.lang == l && c.target == parity::Target::Dev))
                        .collect();
                    let mut words = Vec::new();
                    let mut word_counts = Vec::new();
                    for (word, lang_counts) in &dev.words {
                        let cols: Vec<(usize, u64)> =
                            lang_counts.iter().filter_map(|&(l, c)| dev_column[l as usize].map(|col| (col, c))).collect();
                        if !cols.is_empty() {
                            words.push(to_local(word));
                            word_counts.push(cols);
                        }
                    }
                    parity::DevText::new(words, word_counts, columns.len())
                }
                None => parity::DevText::new(Vec::new(), Vec::new(), columns.len()),
            };
            parity::Balancer::new(columns.clone(), dev_text, parity)
        });
        Ok(Prepared { token_bytes: table, input, balancer, language_shares: weights.shares, soft })
    }
}

/// Runs the merge loop on prepared words and builds the tokenizer.
fn learn_prepared(prepared: Prepared, config: &TrainConfig, observer: &dyn TrainObserver) -> Result<(Tokenizer, MergeSummary)> {
    let Prepared { token_bytes: mut table, input, mut balancer, language_shares, soft } = prepared;
    let n_special = config.special_tokens.len();
    let dev_tokens_before = balancer.as_ref().map(|b| b.dev.tokens.clone());
    let limits = MergeLimits {
        max_new_tokens: config.max_merges(),
        min_frequency: config.min_frequency,
        max_token_bytes: config.max_token_bytes,
    };
    let total = limits.max_new_tokens;
    let merge::MergeOutput { merges: learned, lengths, language_tokens } =
        merge::learn_merges(input, &mut table, limits, balancer.as_mut(), |done| observer.merging(done, total));
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
    let balance = balancer.map(|b| BalanceSummary {
        languages: b
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| BalancedLanguage {
                lang: column.lang.clone(),
                target: column.target,
                merges: b.picks[i],
                dev_tokens_before: dev_tokens_before.as_ref().map_or(0, |d| d[i]),
                dev_tokens_after: b.dev.tokens[i],
                train_bytes: lengths.bytes[i],
                train_tokens: lengths.tokens[i],
            })
            .collect(),
        soft,
        global_merges: b.global_picks,
    });
    let summary = MergeSummary {
        merges: learned.len(),
        duplicate_merges: learned.len() - new_tokens,
        stopped_early: new_tokens < total,
        language_shares,
        tokens_per_language: language_tokens,
        balance,
    };
    Ok((tokenizer, summary))
}

/// The balanced languages, sorted by code: dev languages (less the excluded ones) and ratio
/// languages. Every one must be a language of the corpus.
fn balanced_columns(parity: &ParityConfig, languages: &[String], dev: Option<&WordCounts>) -> Result<Vec<parity::Column>> {
    if parity.dev.is_some() && dev.is_none() {
        return Err(Error::config("parity settings name a dev set, but no dev text was given (count it with count_dev)"));
    }
    let mut columns = Vec::new();
    let known = |lang: &str, what: &str| -> Result<()> {
        if languages.iter().any(|l| l == lang) {
            Ok(())
        } else {
            Err(Error::config(format!(
                "{what} language {lang:?} is not in the training corpus (it has {})",
                languages.join(", ")
            )))
        }
    };
    for lang in &parity.exclude {
        known(lang, "excluded")?;
    }
    if let Some(dev) = dev {
        for lang in &dev.languages {
            if parity.exclude.contains(lang) {
                continue;
            }
            known(lang, "dev")?;
            columns.push(parity::Column { lang: lang.clone(), target: parity::Target::Dev });
        }
    }
    for (lang, target) in &parity.ratio {
        known(lang, "ratio")?;
        if columns.iter().any(|c| &c.lang == lang) {
            return Err(Error::config(format!("language {lang:?} has both dev text and a ratio target: give it one")));
        }
        columns.push(parity::Column { lang: lang.clone(), target: parity::Target::Ratio(*target) });
    }
    if columns.is_empty() {
        return Err(Error::config("parity-aware training has no language to balance (all excluded?)"));
    }
    if columns.len() > u16::MAX as usize {
        return Err(Error::config("too many balanced languages"));
    }
    columns.sort_by(|a, b| a.lang.cmp(&b.lang));
    Ok(columns)
}

/// The dev text the configuration's parity settings name, counted (`None` without one).
pub fn dev_counts(config: &TrainConfig) -> Result<Option<WordCounts>> {
    match config.parity.as_ref().and_then(|p| p.dev.as_ref().map(|dir| (dir, p.dev_lines))) {
        Some((dir, lines)) => count_dev(dir, lines, config).map(Some),
        None => Ok(None),
    }
}

/// Counts a dev set: every `<lang>.txt` of `dir` (the lines of `lines`, all by default), split
/// and normalized as the training text is. Each line is a document.
pub fn count_dev(dir: &Path, lines: Option<LineRange>, config: &TrainConfig) -> Result<WordCounts> {
    let texts = crate::corpus::parallel::read_language_dir(dir, None)?;
    // Dev text is never pruned: its every word counts toward the costs.
    let mut counter = config.word_counter()?.with_max_words(None);
    for text in &texts {
        let selected = match lines {
            Some(range) => range.select(&text.lines),
            None => &text.lines[..],
        };
        if selected.is_empty() {
            return Err(Error::config(format!("{}: no dev lines selected from {}.txt", dir.display(), text.lang)));
        }
        let lang: std::sync::Arc<str> = std::sync::Arc::from(text.lang.as_str());
        let docs: Vec<crate::corpus::Document> =
            selected.iter().map(|line| crate::corpus::Document { lang: lang.clone(), text: line.clone() }).collect();
        counter.add_batch(&docs)?;
    }
    Ok(counter.finish())
}

/// What balancing did, per balanced language.
#[derive(Clone, Debug, PartialEq)]
pub struct BalancedLanguage {
    pub lang: String,
    /// What it is balanced by (free: weighed in soft selection, not balanced).
    pub target: parity::Target,
    /// Merges chosen by this language's counts (hard selection).
    pub merges: u64,
    /// Tokens of its dev text (bytes before the first merge, and at the end).
    pub dev_tokens_before: u64,
    pub dev_tokens_after: u64,
    /// Its training text in bytes and in final tokens.
    pub train_bytes: u64,
    pub train_tokens: u64,
}

/// What parity-aware selection did.
#[derive(Clone, Debug, PartialEq)]
pub struct BalanceSummary {
    pub languages: Vec<BalancedLanguage>,
    /// Soft selection: every merge was chosen by the reweighted global counts.
    pub soft: bool,
    /// Merges chosen by the global counts.
    pub global_merges: u64,
}

/// Outcome of the merge phase.
#[derive(Clone, Debug)]
pub struct MergeSummary {
    pub merges: usize,
    pub duplicate_merges: usize,
    pub stopped_early: bool,
    /// Target share of every corpus language under the weighting.
    pub language_shares: Vec<f64>,
    /// Tokens of each corpus language's training text under the learned vocabulary.
    pub tokens_per_language: Vec<u64>,
    pub balance: Option<BalanceSummary>,
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
    learn(counts, corpus, nfkc_folds, start, config, observer)
}

/// Trains from word-count files (see [`countfile`]), merged: the same result as training on
/// the text they were counted from. Files counted with other settings are refused.
pub fn train_from_count_files(paths: &[PathBuf], config: &TrainConfig, observer: &dyn TrainObserver) -> Result<(Tokenizer, TrainReport)> {
    let mut parts = Vec::with_capacity(paths.len());
    for path in paths {
        let (counts, settings) = countfile::read(path)?;
        parts.push((path.clone(), counts, settings));
    }
    train_from_count_parts(parts, config, observer)
}

/// Trains from parsed count files: `(origin, counts, settings)` each, `origin` naming the
/// file (or buffer) in errors.
pub fn train_from_count_parts(
    parts: Vec<(PathBuf, WordCounts, countfile::CountSettings)>,
    config: &TrainConfig,
    observer: &dyn TrainObserver,
) -> Result<(Tokenizer, TrainReport)> {
    let start = Instant::now();
    config.validate()?;
    let n_parts = parts.len();
    let (counts, _) = countfile::merge_checked(parts, Some(&countfile::CountSettings::of(config)))?;
    if counts.words.is_empty() {
        return Err(Error::EmptyCorpus(format!("the count files hold no words ({n_parts} files)")));
    }
    let corpus = CorpusStats {
        files: n_parts as u64,
        documents: counts.per_language.iter().map(|t| t.documents).sum(),
        bytes: counts.per_language.iter().map(|t| t.bytes).sum(),
        ..CorpusStats::default()
    };
    observer.counting_done(counts.words.len());
    learn(counts, corpus, None, start, config, observer)
}

/// Phase 2 of [`train`] and [`train_from_count_files`]: dev text, merges, report.
fn learn(
    counts: WordCounts,
    corpus: CorpusStats,
    nfkc_folds: Option<NfkcFolds>,
    start: Instant,
    config: &TrainConfig,
    observer: &dyn TrainObserver,
) -> Result<(Tokenizer, TrainReport)> {
    let dev = dev_counts(config)?;
    let count_time = start.elapsed();
    let merge_start = Instant::now();
    config.validate()?;
    let prepared = Prepared::new(&counts, dev.as_ref(), config)?;
    let WordCounts { languages, per_language, words } = counts;
    let distinct_words = words.len();
    drop(words);
    let (tokenizer, summary) = learn_prepared(prepared, config, observer)?;
    let merge_time = merge_start.elapsed();
    let report = TrainReport {
        corpus,
        languages,
        per_language,
        distinct_words,
        merges: summary.merges,
        duplicate_merges: summary.duplicate_merges,
        stopped_early: summary.stopped_early,
        language_shares: summary.language_shares,
        balance: summary.balance,
        nfkc_folds,
        tokens_per_language: summary.tokens_per_language,
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

    #[test]
    fn dev_lines_select_the_dev_text() {
        let dir = dev_dir();
        let config = balanced_config(dir.path(), None);
        let dev = count_dev(dir.path(), Some(LineRange::parse("1:2").unwrap()), &config).unwrap();
        assert_eq!(dev.languages, ["en", "nl"]);
        assert!(!dev.words.iter().any(|(w, _)| &w[..] == b" out" || &w[..] == b" gezien"));
        let empty = count_dev(dir.path(), Some(LineRange::parse("9:").unwrap()), &config).unwrap_err().to_string();
        assert!(empty.contains("no dev lines"), "{empty}");
    }

    #[test]
    fn balanced_training_reports_what_it_did() {
        let dir = dev_dir();
        let config = balanced_config(dir.path(), None);
        let dev = count_dev(dir.path(), config.parity.as_ref().unwrap().dev_lines, &config).unwrap();
        let (_, summary) = train_balanced(&multilingual_counts(), Some(&dev), &config, &Silent).unwrap();
        let balance = summary.balance.unwrap();
        let langs: Vec<&str> = balance.languages.iter().map(|l| l.lang.as_str()).collect();
        assert_eq!(langs, ["en", "la", "nl"]);
        assert_eq!(balance.languages[1].target, parity::Target::Ratio(3.0));
        let picked: u64 = balance.languages.iter().map(|l| l.merges).sum::<u64>() + balance.global_merges;
        assert_eq!(picked as usize, summary.merges);
        // Dutch starts longer on the dev text, so it is served first and most.
        assert!(balance.languages[2].merges > balance.languages[0].merges);
        assert!(balance.languages[2].dev_tokens_after < balance.languages[2].dev_tokens_before);
        // Uniform with Latin at half weight: shares 0.4, 0.4, 0.2.
        for (share, expected) in summary.language_shares.iter().zip([0.4, 0.4, 0.2]) {
            assert!((share - expected).abs() < 1e-12);
        }
    }

    #[test]
    fn parity_needs_its_dev_text_and_known_languages() {
        let dir = dev_dir();
        let config = balanced_config(dir.path(), None);
        let err = train_from_counts(&multilingual_counts(), &config, &Silent).unwrap_err().to_string();
        assert!(err.contains("no dev text"), "{err}");
        let mut unknown = config.clone();
        unknown.parity.as_mut().unwrap().ratio = vec![("historical".into(), 3.0)];
        let dev = count_dev(dir.path(), None, &config).unwrap();
        let err = train_balanced(&multilingual_counts(), Some(&dev), &unknown, &Silent).unwrap_err().to_string();
        assert!(err.contains("\"historical\" is not in the training corpus"), "{err}");
    }

    #[test]
    fn balanced_training_is_identical_at_any_thread_count() {
        let dir = dev_dir();
        for strength in [None, Some(8.0)] {
            let config = balanced_config(dir.path(), strength);
            let run = |threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| {
                    let dev = count_dev(dir.path(), config.parity.as_ref().unwrap().dev_lines, &config).unwrap();
                    let (tok, _) = train_balanced(&multilingual_counts(), Some(&dev), &config, &Silent).unwrap();
                    crate::formats::hf::to_json(&tok).unwrap()
                })
            };
            let one = run(1);
            assert_eq!(one, run(4), "strength {strength:?}");
            let plain = crate::formats::hf::to_json(&train_from_counts(&multilingual_counts(), &TrainConfig { parity: None, weights: LanguageWeights::default(), ..config.clone() }, &Silent).unwrap().0).unwrap();
            assert_ne!(one, plain, "balancing changed nothing (strength {strength:?})");
        }
    }

    fn multilingual_counts() -> WordCounts {
        let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &[] as &[&str]);
        for i in 0..60 {
            counter.add_document("en", &format!("the house is red and the door {i} is open")).unwrap();
            counter.add_document("nl", &format!("het huis is rood en de deur {i} staat open")).unwrap();
            counter.add_document("la", &format!("domus rubra est et ianua {i} aperta est")).unwrap();
        }
        counter.finish()
    }

    fn dev_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("en.txt"), "the house is red\nthe door is open\nheld out\n").unwrap();
        std::fs::write(dir.path().join("nl.txt"), "het huis is rood\nde deur staat open\nniet gezien\n").unwrap();
        dir
    }

    fn balanced_config(dir: &Path, strength: Option<f64>) -> TrainConfig {
        TrainConfig {
            vocab_size: 256 + 60,
            weights: LanguageWeights { weighting: Weighting::Uniform, multipliers: vec![("la".into(), 0.5)] },
            parity: Some(ParityConfig {
                dev: Some(dir.to_path_buf()),
                dev_lines: Some(LineRange::parse("1:2").unwrap()),
                ratio: vec![("la".into(), 3.0)],
                strength,
                reweight_every: 5,
                ..ParityConfig::default()
            }),
            ..TrainConfig::default()
        }
    }

    /// The merge loop's per-language token totals (its words as they end the loop) equal
    /// encoding every word with the finished tokenizer, in plain, balanced and byte-capped
    /// training, and with a language weighted to zero.
    #[test]
    fn merge_loop_token_totals_equal_encoding() {
        let dir = dev_dir();
        let counts = multilingual_counts();
        let dev = count_dev(dir.path(), Some(LineRange::parse("1:2").unwrap()), &balanced_config(dir.path(), None)).unwrap();
        let zero_latin = LanguageWeights { weighting: Weighting::Uniform, multipliers: vec![("la".into(), 0.0)] };
        let configs = [
            TrainConfig { vocab_size: 256 + 80, ..TrainConfig::default() },
            TrainConfig { vocab_size: 256 + 80, max_token_bytes: Some(3), ..TrainConfig::default() },
            TrainConfig { vocab_size: 256 + 80, weights: zero_latin, ..TrainConfig::default() },
            balanced_config(dir.path(), None),
            balanced_config(dir.path(), Some(8.0)),
        ];
        for config in configs {
            let (tok, summary) = train_balanced(&counts, Some(&dev), &config, &Silent).unwrap();
            assert_eq!(summary.tokens_per_language, tokens_per_language(&tok, &counts), "{config:?}");
            assert!(summary.tokens_per_language.iter().all(|&t| t > 0));
        }
    }
}
