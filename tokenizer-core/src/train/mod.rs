//! Training: count words, then learn merges, then assemble a [`Tokenizer`].
//!
//! Id layout of a trained vocabulary (documented, stable):
//! 1. the special tokens, in the order given (`pleias-rag`: `[UNK]`=0, `<|begin_of_text|>`=1,
//!    `<|end_of_text|>`=2, `[PAD]`=3, then the RAG tokens, then `<|reserved_N|>` slots);
//! 2. the 256 byte tokens, in the order of their GPT-2 stand-in characters (HF's order);
//! 3. the learned merges, in the order learned.
//!
//! `vocab_size` counts all three.

pub mod balance;
pub mod count;
pub mod countfile;
pub mod extend;
pub mod merge;
pub mod settings;
pub mod superword;
pub mod trainer;
pub mod words;

use crate::bpe::{BpeModel, TokenId};
use crate::bytelevel;
use crate::corpus::ReadProgress;
use crate::pretokenize::PreTokenizer;
use crate::tokenizer::{AddedToken, Tokenizer};
use crate::Result;

/// Parity-aware selection under its earlier path (`train::parity::Target`).
pub use balance as parity;
pub use balance::{count_dev, dev_counts, BalanceSummary, BalancedLanguage, LanguageWeights, LineRange, ParityConfig, Target, Weighting, Window};
pub use count::{LangId, LanguageTotals, WordCounter, WordCounts};
pub use merge::{LearnedMerge, MergeLimits};
pub use settings::{CountSettings, MergeSettings, Recipe, TrainPlan, TrainSettings};
pub use superword::{SuperwordConfig, SuperwordPattern, Transition};
pub use trainer::{count_files_with, Counted, Counting, TrainReport, Trainer};

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

/// Learns merges from word counts and builds the tokenizer (phase 2), without a dev set.
pub fn train_from_counts(counts: &WordCounts, settings: &TrainSettings, observer: &dyn TrainObserver) -> Result<(Tokenizer, MergeSummary)> {
    train_balanced(counts, None, settings, observer)
}

/// Learns merges from word counts and builds the tokenizer (phase 2).
///
/// Each word weighs its counts scaled by the language weights; with parity settings, `dev`
/// holds the counted dev text (see [`count_dev`]).
pub fn train_balanced(
    counts: &WordCounts,
    dev: Option<&WordCounts>,
    settings: &TrainSettings,
    observer: &dyn TrainObserver,
) -> Result<(Tokenizer, MergeSummary)> {
    settings.validate()?;
    learn_prepared(Prepared::new(counts, dev, settings)?, settings, observer)
}

/// What the merge loop needs from the word counts. Once it is built the words' text is no
/// longer needed: [`learn`] frees it before merging, when the pair table grows to its peak.
pub(super) struct Prepared {
    /// Bytes 0..256 as local ids, in stand-in character order.
    token_bytes: Vec<Vec<u8>>,
    input: merge::MergeInput,
    balancer: Option<balance::Balancer>,
    language_shares: Vec<f64>,
}

impl Prepared {
    pub(super) fn new(counts: &WordCounts, dev: Option<&WordCounts>, settings: &TrainSettings) -> Result<Prepared> {
        // Merging runs in local ids (bytes 0..256 in stand-in character order, then merges) and
        // shifts them past the special tokens afterwards: a constant offset keeps the tie-break
        // order, and special tokens can never take part in a merge.
        let byte_order = bytelevel::bytes_in_char_order();
        let mut local_byte_id = [0 as TokenId; 256];
        let mut table: Vec<Vec<u8>> = Vec::with_capacity(settings.merge.vocab_size);
        for (i, &b) in byte_order.iter().enumerate() {
            local_byte_id[b as usize] = i as TokenId;
            table.push(vec![b]);
        }
        let to_local = |word: &[u8]| word.iter().map(|&b| local_byte_id[b as usize]).collect::<Vec<_>>();
        let balance::LanguageColumns { weights, columns, column_of, column_factors } =
            balance::LanguageColumns::new(counts, dev, &settings.merge.weights, settings.merge.parity.as_ref())?;
        // Every word goes in, even one whose languages all weigh zero (it adds nothing to the
        // counts), so that the loop ends with every word's tokens for the per-language totals.
        let mut input =
            merge::MergeInput { weight_scale: weights.scale, n_columns: columns.len(), column_factors, column_of, ..Default::default() };
        for (word, lang_counts) in &counts.words {
            input.words.push(word.iter().map(|&b| local_byte_id[b as usize]));
            input.weights.push(weights.word_weight(lang_counts));
            input.languages.push_row(lang_counts.iter().copied());
        }
        let balancer = settings.merge.parity.as_ref().map(|parity| {
            let dev_text = balance::DevText::from_counts(dev, &columns, to_local);
            balance::Balancer::new(columns, dev_text, parity)
        });
        Ok(Prepared { token_bytes: table, input, balancer, language_shares: weights.shares })
    }
}

/// Runs the merge loop on prepared words and builds the tokenizer.
pub(super) fn learn_prepared(prepared: Prepared, settings: &TrainSettings, observer: &dyn TrainObserver) -> Result<(Tokenizer, MergeSummary)> {
    let Prepared { token_bytes: mut table, input, mut balancer, language_shares } = prepared;
    release_freed_memory();
    let limits = MergeLimits {
        max_new_tokens: settings.max_merges(),
        min_frequency: settings.merge.min_frequency,
        max_token_bytes: settings.merge.max_token_bytes,
        max_token_words: None,
    };
    let total = limits.max_new_tokens;
    let merge::MergeOutput { merges: learned, lengths, language_tokens } =
        merge::learn_merges(input, &mut table, limits, balancer.as_mut(), |done| observer.merging(done, total));
    let summary = MergeSummary::new(learned.len(), table.len() - 256, total, language_shares, language_tokens, balancer.map(|b| b.summary(&lengths.bytes, &lengths.tokens)), None);
    let tokenizer = assemble(table, &learned, settings, settings.count.pattern.clone())?;
    Ok((tokenizer, summary))
}

/// Hands the memory that counting freed back to the system before the merge loop allocates its
/// own. glibc keeps what a thread frees in that thread's arena, and counting allocates on the
/// reader and worker threads while the merge loop allocates on this one: without this, plain
/// training's peak resident memory was 385 MB instead of 341 MB (benches/RESULTS.md, "Counting
/// against gigatoken").
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns free pages of the allocator's arenas to the system; it
    // touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The tokenizer of learned merges: local ids shifted past the special tokens, splitting with
/// `pattern`.
fn assemble(table: Vec<Vec<u8>>, learned: &[LearnedMerge], settings: &TrainSettings, pattern: crate::Pattern) -> Result<Tokenizer> {
    let n_special = settings.count.special_tokens.len();
    let offset = n_special as TokenId;
    let tokens: Vec<Option<Box<[u8]>>> = std::iter::repeat_with(|| None)
        .take(n_special)
        .chain(table.into_iter().map(|b| Some(b.into_boxed_slice())))
        .collect();
    let pairs: Vec<(TokenId, TokenId)> = learned.iter().map(|m| (m.left + offset, m.right + offset)).collect();
    let model = BpeModel::new(tokens, &pairs, false)?;
    let added = settings
        .count
        .special_tokens
        .iter()
        .enumerate()
        .map(|(id, content)| AddedToken { id: id as TokenId, content: content.clone(), special: true })
        .collect();
    Tokenizer::new(settings.count.normalization, PreTokenizer::from_pattern(pattern)?, model, added)
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
    /// Merges learned in the superword stage (`None`: no superword stage).
    pub superword_merges: Option<usize>,
}

impl MergeSummary {
    /// The summary of `merges` learned merges that made `new_tokens` tokens of the
    /// `max_new_tokens` asked for (a merge spelling an existing token makes none).
    pub(super) fn new(
        merges: usize,
        new_tokens: usize,
        max_new_tokens: usize,
        language_shares: Vec<f64>,
        tokens_per_language: Vec<u64>,
        balance: Option<BalanceSummary>,
        superword_merges: Option<usize>,
    ) -> MergeSummary {
        MergeSummary {
            merges,
            duplicate_merges: merges - new_tokens,
            stopped_early: new_tokens < max_new_tokens,
            language_shares,
            tokens_per_language,
            balance,
            superword_merges,
        }
    }
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
    use std::path::Path;

    use super::*;
    use crate::special::{special_token_list, SpecialPreset};
    use crate::{Normalization, Pattern};

    fn counts(text: &str) -> WordCounts {
        let mut counter = WordCounter::new(Normalization::Nfc, PreTokenizer::from_pattern(Pattern::Default).unwrap(), &[] as &[&str]);
        counter.add_document("fr", text).unwrap();
        counter.finish()
    }

    #[test]
    fn vocab_too_small_names_the_floor() {
        let config = TrainSettings { count: CountSettings { special_tokens: special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap(), ..Default::default() }, merge: MergeSettings { vocab_size: 290, ..Default::default() } };
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("41 special tokens + 256 byte tokens = 297"), "{err}");
        let bad_regex = TrainSettings { count: CountSettings { pattern: Pattern::Custom("(?<".into()), ..Default::default() }, ..Default::default() };
        assert!(bad_regex.validate().is_err());
    }

    #[test]
    fn id_layout_specials_bytes_merges() {
        let config = TrainSettings { count: CountSettings { special_tokens: special_token_list(SpecialPreset::PleiasRag, &[], 0).unwrap(), ..Default::default() }, merge: MergeSettings { vocab_size: 41 + 256 + 3, min_frequency: 1, ..Default::default() } };
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
        let config = TrainSettings { merge: MergeSettings { vocab_size: 1000, ..Default::default() }, ..Default::default() };
        let (tok, summary) = train_from_counts(&counts("ab ab"), &config, &Silent).unwrap();
        assert!(summary.stopped_early);
        assert!(tok.vocab_size() < 1000);
    }

    #[test]
    fn dev_lines_select_the_dev_text() {
        let dir = dev_dir();
        let config = balanced_config(dir.path(), None);
        let dev = count_dev(dir.path(), Some(LineRange::parse("1:2").unwrap()), &config.count).unwrap();
        assert_eq!(dev.languages, ["en", "nl"]);
        assert!(!dev.words.iter().any(|(w, _)| &w[..] == b" out" || &w[..] == b" gezien"));
        let empty = count_dev(dir.path(), Some(LineRange::parse("9:").unwrap()), &config.count).unwrap_err().to_string();
        assert!(empty.contains("no dev lines"), "{empty}");
    }

    #[test]
    fn balanced_training_reports_what_it_did() {
        let dir = dev_dir();
        let config = balanced_config(dir.path(), None);
        let dev = count_dev(dir.path(), config.merge.parity.as_ref().unwrap().dev_lines, &config.count).unwrap();
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
        unknown.merge.parity.as_mut().unwrap().ratio = vec![("historical".into(), 3.0)];
        let dev = count_dev(dir.path(), None, &config.count).unwrap();
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
                    let dev = count_dev(dir.path(), config.merge.parity.as_ref().unwrap().dev_lines, &config.count).unwrap();
                    let (tok, _) = train_balanced(&multilingual_counts(), Some(&dev), &config, &Silent).unwrap();
                    crate::formats::hf::to_json(&tok).unwrap()
                })
            };
            let one = run(1);
            assert_eq!(one, run(4), "strength {strength:?}");
            let plain = crate::formats::hf::to_json(&train_from_counts(&multilingual_counts(), &TrainSettings { merge: MergeSettings { parity: None, weights: LanguageWeights::default(), ..config.merge.clone() }, ..config.clone() }, &Silent).unwrap().0).unwrap();
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

    fn balanced_config(dir: &Path, strength: Option<f64>) -> TrainSettings {
        TrainSettings {
            merge: MergeSettings {
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
                ..Default::default()
            },
            ..Default::default()
        }
    }

    /// The merge loop's per-language token totals (its words as they end the loop) equal
    /// encoding every word with the finished tokenizer, in plain, balanced and byte-capped
    /// training, and with a language weighted to zero.
    #[test]
    fn merge_loop_token_totals_equal_encoding() {
        let dir = dev_dir();
        let counts = multilingual_counts();
        let dev = count_dev(dir.path(), Some(LineRange::parse("1:2").unwrap()), &balanced_config(dir.path(), None).count).unwrap();
        let zero_latin = LanguageWeights { weighting: Weighting::Uniform, multipliers: vec![("la".into(), 0.0)] };
        let configs = [
            TrainSettings { merge: MergeSettings { vocab_size: 256 + 80, ..Default::default() }, ..Default::default() },
            TrainSettings { merge: MergeSettings { vocab_size: 256 + 80, max_token_bytes: Some(3), ..Default::default() }, ..Default::default() },
            TrainSettings { merge: MergeSettings { vocab_size: 256 + 80, weights: zero_latin, ..Default::default() }, ..Default::default() },
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
