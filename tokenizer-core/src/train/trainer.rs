//! The training API that `vocab`, `polybpe.train` and `extend` all drive: count → learn →
//! report.
//!
//! [`Counting`] holds checked counting settings and turns files, fed texts or count files
//! into [`Counted`] words; [`Trainer`] adds checked merge settings and learns a [`Tokenizer`]
//! from them, with a [`TrainReport`] that holds everything a user is shown (its
//! [`std::fmt::Display`] is the summary `vocab train` prints and `polybpe.train` returns).
//! Settings are validated once, when a `Counting` or `Trainer` is built.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::count::{LanguageTotals, WordCounter, WordCounts};
use super::countfile;
use super::balance::{HeldOutScore, HeldOutText};
use super::parity::Target;
use super::settings::{CountSettings, MergeSettings, TrainPlan, TrainSettings};
use super::{BalanceSummary, TrainObserver};
use crate::corpus::{Corpus, CorpusOptions, CorpusStats};
use crate::normalize::NfkcFolds;
use crate::pretokenize::Pattern;
use crate::tokenizer::Tokenizer;
use crate::{Error, Result};

/// Bytes of documents handed to the counter at once: large enough to keep every core busy,
/// small enough that a batch's text and partial counts stay a small share of memory.
const BATCH_BYTES: usize = 8 << 20;

/// Counting with checked settings (training's phase 1).
#[derive(Clone, Debug)]
pub struct Counting {
    settings: CountSettings,
    /// The stage-2 split of superword training, whose pieces are counted beside the words.
    superword_pattern: Option<Pattern>,
}

/// Words counted from a corpus, with what was read and what the user should know.
#[derive(Debug)]
pub struct Counted {
    pub counts: WordCounts,
    pub corpus: CorpusStats,
    pub nfkc_folds: Option<NfkcFolds>,
    /// Things the user should know about the counts (pruning, NFKC folds).
    pub warnings: Vec<String>,
    pub count_time: Duration,
    /// The pieces of the stage-2 split, counted in the same pass (superword training only).
    pub superword_counts: Option<WordCounts>,
}

impl Counting {
    /// Checks the settings.
    pub fn new(settings: CountSettings) -> Result<Counting> {
        settings.validate()?;
        Ok(Counting { settings, superword_pattern: None })
    }

    pub fn settings(&self) -> &CountSettings {
        &self.settings
    }

    /// An empty counter to feed documents to (texts from Python, a stream); finish it with
    /// [`Counting::finish`].
    pub fn counter(&self) -> Result<WordCounter> {
        self.settings.word_counter()
    }

    /// Reads and counts files or directories (and, for superword training, the stage-2 pieces
    /// in the same pass).
    pub fn count_files(&self, paths: &[PathBuf], options: &CorpusOptions, observer: &dyn TrainObserver) -> Result<Counted> {
        let Some(pattern) = &self.superword_pattern else { return count_files_with(self.counter()?, paths, options, observer) };
        let started = Instant::now();
        let mut counter = self.counter()?;
        let mut pieces = CountSettings { pattern: pattern.clone(), ..self.settings.clone() }.word_counter()?;
        let corpus = Corpus::open(paths, options.clone())?;
        let stats = corpus.for_each_batch_read_ahead(BATCH_BYTES, &mut |p| observer.reading(p), &mut |docs| {
            counter.add_batch(docs)?;
            pieces.add_batch(docs)
        })?;
        let what = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        let mut counted = finish(counter, stats, started, &what, observer)?;
        counted.superword_counts = Some(pieces.finish());
        counted.count_time = started.elapsed();
        Ok(counted)
    }

    /// Finishes a counter fed by the caller: `corpus` says what it was fed.
    pub fn finish(&self, counter: WordCounter, corpus: CorpusStats, started: Instant, observer: &dyn TrainObserver) -> Result<Counted> {
        finish(counter, corpus, started, "the texts", observer)
    }

    /// Merges parsed count files (`(origin, counts, settings)` each, `origin` naming the file
    /// or buffer in errors); files counted with other settings are refused.
    pub fn merge_count_files(&self, parts: Vec<(PathBuf, WordCounts, CountSettings)>, observer: &dyn TrainObserver) -> Result<Counted> {
        let started = Instant::now();
        let n_parts = parts.len();
        let (counts, _) = countfile::merge_checked(parts, Some(&self.settings))?;
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
        Ok(Counted { counts, corpus, nfkc_folds: None, warnings: Vec::new(), count_time: started.elapsed(), superword_counts: None })
    }

    /// Reads count files from disk and merges them (see [`Counting::merge_count_files`]).
    pub fn read_count_files(&self, paths: &[PathBuf], observer: &dyn TrainObserver) -> Result<Counted> {
        let mut parts = Vec::with_capacity(paths.len());
        for path in paths {
            let (counts, settings) = countfile::read(path)?;
            parts.push((path.clone(), counts, settings));
        }
        self.merge_count_files(parts, observer)
    }
}

/// The one corpus-counting driver: reads `paths` in batches into `counter` (built from
/// settings, or by `extend` from a base tokenizer).
pub fn count_files_with(mut counter: WordCounter, paths: &[PathBuf], options: &CorpusOptions, observer: &dyn TrainObserver) -> Result<Counted> {
    let started = Instant::now();
    let corpus = Corpus::open(paths, options.clone())?;
    let stats = corpus.for_each_batch_read_ahead(BATCH_BYTES, &mut |p| observer.reading(p), &mut |docs| counter.add_batch(docs))?;
    let what = paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
    finish(counter, stats, started, &what, observer)
}

/// Ends counting: the counts, or a clear error when there are none; warnings for pruning and
/// NFKC folds, also sent to the observer as they are found.
fn finish(counter: WordCounter, corpus: CorpusStats, started: Instant, what: &str, observer: &dyn TrainObserver) -> Result<Counted> {
    let folds = counter.nfkc_folds().cloned();
    let capped = counter.max_words();
    let counts = counter.finish();
    let mut warnings = Vec::new();
    let mut warn = |message: String| {
        observer.warn(&message);
        warnings.push(message);
    };
    if capped.is_some_and(|m| counts.words.len() >= m) {
        let kept: u64 = counts.words.iter().map(|(_, c)| WordCounts::total(c)).sum();
        warn(format!(
            "max words: kept the {} most frequent distinct words; {:.3}% of word occurrences were pruned",
            counts.words.len(),
            100.0 * (counts.word_occurrences() - kept) as f64 / counts.word_occurrences().max(1) as f64
        ));
    }
    if let Some(folds) = folds.as_ref().filter(|f| f.total() > 0) {
        warn(format!(
            "NFKC folded {} characters of the corpus ({}); historical spellings such as ſ are lost. Use normalization nfc to keep them.",
            folds.total(),
            folds.summary(6)
        ));
    }
    if corpus.skipped_invalid > 0 {
        warn(format!("{} lines or records with invalid UTF-8 were skipped", corpus.skipped_invalid));
    }
    if corpus.skipped_null > 0 {
        warn(format!("{} records had a null text and were skipped", corpus.skipped_null));
    }
    if counts.words.is_empty() {
        return Err(Error::EmptyCorpus(format!(
            "no text found in {what} ({} files, {} documents, {} empty or skipped)",
            corpus.files,
            corpus.documents,
            corpus.skipped_empty + corpus.skipped_invalid + corpus.skipped_null
        )));
    }
    observer.counting_done(counts.words.len());
    Ok(Counted { counts, corpus, nfkc_folds: folds, warnings, count_time: started.elapsed(), superword_counts: None })
}

/// Training with checked settings: counting, then merges.
#[derive(Clone, Debug)]
pub struct Trainer {
    counting: Counting,
    merge: MergeSettings,
    /// Scored once the vocabulary is learned (read and checked when the trainer is built).
    heldout: Option<HeldOutText>,
}

impl Trainer {
    /// Checks both halves of the settings.
    pub fn new(settings: TrainSettings) -> Result<Trainer> {
        let mut counting = Counting::new(settings.count)?;
        settings.merge.validate(counting.settings.special_tokens.len())?;
        counting.superword_pattern = settings.merge.superword.as_ref().map(|s| s.pattern.resolve(&counting.settings.pattern));
        Ok(Trainer { counting, merge: settings.merge, heldout: None })
    }

    /// A trainer for a resolved plan: its settings, and its held-out text read and checked
    /// against the plan's inputs and dev set (see [`super::balance::HeldOut::read`]).
    pub fn for_plan(plan: &TrainPlan) -> Result<Trainer> {
        let mut trainer = Trainer::new(plan.settings.clone())?;
        if let Some(heldout) = &plan.heldout {
            trainer.heldout = Some(heldout.read(&plan.inputs, trainer.merge.parity.as_ref())?);
        }
        Ok(trainer)
    }

    /// The counting half.
    pub fn counting(&self) -> &Counting {
        &self.counting
    }

    /// The settings, whole.
    pub fn settings(&self) -> TrainSettings {
        TrainSettings { count: self.counting.settings.clone(), merge: self.merge.clone() }
    }

    /// Counts files and learns from them: the whole of `vocab train`.
    pub fn train_files(&self, paths: &[PathBuf], options: &CorpusOptions, observer: &dyn TrainObserver) -> Result<(Tokenizer, TrainReport)> {
        let counted = self.counting.count_files(paths, options, observer)?;
        self.learn(counted, observer)
    }

    /// Phase 2: dev text, merges, report. The words' text is freed before merging, when the
    /// pair table grows to its peak.
    pub fn learn(&self, counted: Counted, observer: &dyn TrainObserver) -> Result<(Tokenizer, TrainReport)> {
        let Counted { counts, corpus, nfkc_folds, mut warnings, count_time, superword_counts } = counted;
        let settings = self.settings();
        if settings.merge.superword.is_some() && superword_counts.is_none() {
            return Err(Error::config(
                "superword merges count the stage-2 pieces while reading the corpus: train from files (not from texts or count files)",
            ));
        }
        let merge_start = Instant::now();
        let dev = super::dev_counts(&settings)?;
        let prepared = super::Prepared::new(&counts, dev.as_ref(), &settings)?;
        drop(dev);
        let WordCounts { languages, per_language, words } = counts;
        let distinct_words = words.len();
        drop(words);
        let (tokenizer, summary) = match (&settings.merge.superword, superword_counts) {
            (Some(superword), Some(pieces)) => {
                let totals = WordCounts { languages: languages.clone(), per_language: per_language.clone(), words: Vec::new() };
                super::superword::learn(prepared, pieces, &totals, &settings, superword, observer)?
            }
            _ => super::learn_prepared(prepared, &settings, observer)?,
        };
        if summary.stopped_early {
            let message = format!(
                "the corpus ran out of pairs seen at least {} times: the vocabulary has {} tokens, not {}",
                self.merge.min_frequency,
                tokenizer.vocab_size(),
                self.merge.vocab_size
            );
            observer.warn(&message);
            warnings.push(message);
        }
        let heldout = self.heldout.as_ref().map(|h| h.score(&tokenizer)).transpose()?;
        let report = TrainReport {
            vocab_size: tokenizer.vocab_size(),
            special_tokens: settings.count.special_tokens.len(),
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
            superword_merges: summary.superword_merges,
            heldout,
            warnings,
            count_time,
            merge_time: merge_start.elapsed(),
            peak_memory_mb: peak_memory_mb(),
        };
        Ok((tokenizer, report))
    }
}

/// What a training run did: everything `vocab train` prints (its `Display`).
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// Tokens in the vocabulary written (fewer than asked when the corpus ran out of pairs).
    pub vocab_size: usize,
    pub special_tokens: usize,
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
    /// Merges learned in the superword stage, when there was one.
    pub superword_merges: Option<usize>,
    /// How the vocabulary compresses the held-out text, when there is one.
    pub heldout: Option<HeldOutScore>,
    /// What the user should know (pruning, folds, skipped lines, an unfilled vocabulary).
    pub warnings: Vec<String>,
    pub count_time: Duration,
    pub merge_time: Duration,
    /// Peak resident memory of the process so far, where the OS reports it.
    pub peak_memory_mb: Option<u64>,
}

impl TrainReport {
    /// Bytes per token of each language's training text under the new vocabulary.
    pub fn bytes_per_token(&self, language: usize) -> f64 {
        self.per_language[language].bytes as f64 / self.tokens_per_language[language].max(1) as f64
    }

    /// Tokens per word of each language's training text under the new vocabulary.
    pub fn tokens_per_word(&self, language: usize) -> f64 {
        self.tokens_per_language[language] as f64 / self.per_language[language].words.max(1) as f64
    }
}

/// The per-language summary `vocab train` prints after the `wrote …` line.
impl fmt::Display for TrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} tokens: {} special, 256 bytes, {} merges; counting {:.1} s, merging {:.1} s",
            self.vocab_size,
            self.special_tokens,
            self.merges,
            self.count_time.as_secs_f64(),
            self.merge_time.as_secs_f64()
        )?;
        if let Some(peak) = self.peak_memory_mb {
            writeln!(f, "peak memory: {peak} MB")?;
        }
        if let Some(superword) = self.superword_merges {
            writeln!(f, "superword merges: the last {superword} merges may span spaces")?;
        }
        for warning in &self.warnings {
            writeln!(f, "note: {warning}")?;
        }
        let mut skipped = Vec::new();
        if self.corpus.skipped_invalid > 0 {
            skipped.push(format!("{} invalid lines skipped", self.corpus.skipped_invalid));
        }
        if self.corpus.skipped_null > 0 {
            skipped.push(format!("{} records with null text skipped", self.corpus.skipped_null));
        }
        writeln!(
            f,
            "corpus: {} files, {} documents, {:.1} MB, {} distinct words{}",
            self.corpus.files,
            self.corpus.documents,
            self.corpus.bytes as f64 / 1e6,
            self.distinct_words,
            skipped.iter().map(|s| format!(", {s}")).collect::<String>()
        )?;
        writeln!(
            f,
            "{:<12} {:>9} {:>9} {:>11} {:>7} {:>11} {:>11} {:>10}",
            "language", "docs", "MB", "words", "share", "tokens", "bytes/tok", "tok/word"
        )?;
        for (i, lang) in self.languages.iter().enumerate() {
            let t = &self.per_language[i];
            let tokens = self.tokens_per_language[i];
            writeln!(
                f,
                "{:<12} {:>9} {:>9.1} {:>11} {:>6.1}% {:>11} {:>11.3} {:>10.3}",
                lang,
                t.documents,
                t.bytes as f64 / 1e6,
                t.words,
                100.0 * self.language_shares.get(i).copied().unwrap_or(0.0),
                tokens,
                self.bytes_per_token(i),
                self.tokens_per_word(i),
            )?;
        }
        if let Some(balance) = &self.balance {
            if balance.soft {
                writeln!(f, "soft parity-aware merges: every merge by the counts of all languages, weighted by their costs")?;
            } else {
                writeln!(f, "parity-aware merges: {} chosen by global counts, the others per language:", balance.global_merges)?;
            }
            writeln!(f, "{:<12} {:>8} {:>10} {:>17} {:>12}", "language", "merges", "target", "dev tokens", "bytes/tok")?;
            for b in &balance.languages {
                let (target, dev) = match b.target {
                    Target::Dev => ("dev text".to_string(), format!("{} → {}", b.dev_tokens_before, b.dev_tokens_after)),
                    Target::Ratio(r) => (format!("{r:.3} b/t"), "-".to_string()),
                    Target::Free => ("-".to_string(), "-".to_string()),
                };
                let merges = if balance.soft { "-".to_string() } else { b.merges.to_string() };
                writeln!(
                    f,
                    "{:<12} {:>8} {:>10} {:>17} {:>12.3}",
                    b.lang,
                    merges,
                    target,
                    dev,
                    b.bytes_per_token()
                )?;
            }
        }
        if let Some(heldout) = &self.heldout {
            let lines = heldout.lines.map_or(String::new(), |r| format!(" lines {}:{}", r.first, r.last.map_or(String::new(), |l| l.to_string())));
            writeln!(
                f,
                "held-out text ({}{lines}, never trained on): {:.3} bytes/token pooled, Gini of token totals {:.4}",
                heldout.dir.display(),
                heldout.pooled_bytes_per_token(),
                heldout.token_gini()
            )?;
            writeln!(f, "{:<12} {:>9} {:>11} {:>11} {:>11} {:>11}", "language", "lines", "bytes", "tokens", "bytes/tok", "train b/t")?;
            for l in &heldout.languages {
                let train = self.languages.iter().position(|t| t == &l.lang).map_or("-".to_string(), |i| format!("{:.3}", self.bytes_per_token(i)));
                writeln!(f, "{:<12} {:>9} {:>11} {:>11} {:>11.3} {:>11}", l.lang, l.lines, l.bytes, l.tokens, l.bytes_per_token(), train)?;
            }
        }
        Ok(())
    }
}

/// Peak resident memory of this process (VmHWM), where the OS reports it.
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string(Path::new("/proc/self/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}
