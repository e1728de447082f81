//! Superword merges (SuperBPE, Liu et al. 2025): after a transition point, training continues
//! on a second split whose pieces may span spaces, so later merges can join words ("of the",
//! "in order to").
//!
//! - **Stage 1** is plain (or parity-aware) training on the usual pieces; its merges keep their
//!   ranks, so the first merges equal those of a run that stops at the transition.
//! - **Stage 2** counts the pieces of the stage-2 split once, as words, alongside the stage-1
//!   words (one pass over the corpus), and starts each one as the stage-1 merges encode it —
//!   by rank, over the whole stage-2 piece. That is exactly where `tokenizers` stands on such a
//!   piece once no stage-1 merge applies, so the merge loop continues on the segmentation the
//!   exported tokenizer really produces, and encoding with `Split(stage-2 pattern) + ByteLevel`
//!   and all merges in rank order gives the same ids in polybpe and in `tokenizers`.
//! - A merge whose token would span more than `max_words` words is refused (the paper's cap);
//!   the stage-2 split itself keeps digit groups and runs of punctuation apart and never joins
//!   across a line break or a `": "`.
//!
//! Stage-2 pieces longer than [`super::count::MAX_PIECE_BYTES`] are counted in chunks, like
//! stage-1 pieces: training then misses the pairs across a cut (long clauses without a digit,
//! a punctuation run or a line break), while the encoder, as `tokenizers`, never cuts. The
//! exported file is unaffected; only those pairs' counts are.
//!
//! Parity-aware selection carries on through stage 2 (the balancer keeps its picks; its dev
//! text is re-split and re-encoded the same way), so stage 2 only changes the words.

use rayon::prelude::*;

use super::balance::{self, LanguageColumns};
use super::count::{LangId, WordCounts};
use super::merge::{self, MergeInput, MergeLimits, MergeOutput};
use super::settings::TrainSettings;
use super::{MergeSummary, Prepared, TrainObserver};
use crate::bpe::{BpeModel, TokenId};
use crate::pretokenize::Pattern;
use crate::tokenizer::Tokenizer;
use crate::{Error, Result};

/// A superword may span at most this many words unless set otherwise (the paper's "mw4").
pub const DEFAULT_MAX_SUPERWORD_WORDS: usize = 4;

/// Stage-2 pieces encoded with the stage-1 merges at a time (in parallel).
const ENCODE_BLOCK: usize = 1 << 16;

/// When stage 2 starts.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Transition {
    /// After this many stage-1 merges (new tokens).
    Merges(usize),
    /// After this share of the merges (0 < share < 1).
    Share(f64),
}

impl Transition {
    /// `50000` (merges) or `0.8` (a share of the merges), as a flag spells it.
    pub fn parse(text: &str) -> Result<Transition> {
        let bad = || Error::config(format!("superword_transition {text:?}: give a number of merges (50000) or a share of them (0.8)"));
        if text.contains(['.', 'e', 'E']) {
            text.parse::<f64>().map(Transition::Share).map_err(|_| bad())
        } else {
            text.parse::<usize>().map(Transition::Merges).map_err(|_| bad())
        }
    }

    /// Stage-1 merges out of `max_merges`.
    pub fn stage1_merges(self, max_merges: usize) -> usize {
        match self {
            Transition::Merges(n) => n.min(max_merges),
            Transition::Share(share) => (share * max_merges as f64).round() as usize,
        }
    }
}

/// The stage-2 split.
#[derive(Clone, Debug, PartialEq)]
pub enum SuperwordPattern {
    /// The paper's rules ([`superbpe_regex`]), with digits grouped as the stage-1 pattern groups them.
    SuperBpe,
    /// A regex whose matches and the text between them are the stage-2 pieces (HF `Split`,
    /// `Isolated`).
    Custom(String),
}

impl SuperwordPattern {
    pub fn parse(text: &str) -> SuperwordPattern {
        match text {
            "superbpe" => SuperwordPattern::SuperBpe,
            regex => SuperwordPattern::Custom(regex.to_string()),
        }
    }

    /// `superbpe` or the regex.
    pub fn name(&self) -> &str {
        match self {
            SuperwordPattern::SuperBpe => "superbpe",
            SuperwordPattern::Custom(regex) => regex,
        }
    }

    /// The stage-2 pattern for a run whose stage-1 pattern is `stage1`.
    pub fn resolve(&self, stage1: &Pattern) -> Pattern {
        match self {
            SuperwordPattern::SuperBpe => Pattern::Custom(superbpe_regex(stage1)),
            SuperwordPattern::Custom(regex) => Pattern::Custom(regex.clone()),
        }
    }
}

/// Superword merges: when stage 2 starts, how it splits, and how many words a token may span.
#[derive(Clone, Debug, PartialEq)]
pub struct SuperwordConfig {
    pub transition: Transition,
    pub pattern: SuperwordPattern,
    pub max_words: usize,
}

/// The stage-2 split of SuperBPE, as a `Split(…, Isolated)` regex: its matches are pieces on
/// their own, and the text between two matches is one piece, spaces included.
///
/// Matches, tried in order at each position:
/// 1. digit groups (`\p{N}{1,3}` when the stage-1 pattern groups digits by three, else single
///    digits, so stage 2 learns no number tokens stage 1 would not);
/// 2. runs of two or more punctuation characters with an optional leading space and trailing
///    line breaks or slashes (the paper's rule: `" ?[^\s\p{L}\p{N}]{2,}[\r\n/]*"`);
/// 3. a colon followed by a space (so `"Note: the"` never becomes one token);
/// 4. line breaks with the whitespace before them (never joined across);
/// 5. a run of spaces before a non-space keeps its last space for the next word (`" +(?!\S)"`),
///    as in stage 1.
///
/// A single punctuation character stays inside its piece: `", and"` may become a superword.
pub fn superbpe_regex(stage1: &Pattern) -> String {
    let digits = if stage1.regex().contains(r"\p{N}{1,3}") { r"\p{N}{1,3}" } else { r"\p{N}" };
    format!(r"{digits}| ?[^\s\p{{L}}\p{{N}}]{{2,}}[\r\n/]*|:(?= )|\s*[\r\n]+| +(?!\S)")
}

/// Words in a token: runs of non-whitespace bytes (`" of the"` has 2, `"e of th"` has 3).
pub fn token_words(bytes: &[u8]) -> usize {
    let mut words = 0;
    let mut in_word = false;
    for &b in bytes {
        let space = b.is_ascii_whitespace();
        if !space && !in_word {
            words += 1;
        }
        in_word = !space;
    }
    words
}

/// Runs both stages on prepared stage-1 words and the counted stage-2 pieces, and builds the
/// tokenizer (which splits with the stage-2 pattern).
pub(super) fn learn(
    prepared: Prepared,
    stage2_counts: WordCounts,
    stage1_totals: &WordCounts,
    settings: &TrainSettings,
    config: &SuperwordConfig,
    observer: &dyn TrainObserver,
) -> Result<(Tokenizer, MergeSummary)> {
    let Prepared { token_bytes: mut table, input, mut balancer, language_shares } = prepared;
    let total = settings.max_merges();
    let stage1_merges = config.transition.stage1_merges(total);
    let limits = MergeLimits {
        max_new_tokens: stage1_merges,
        min_frequency: settings.merge.min_frequency,
        max_token_bytes: settings.merge.max_token_bytes,
        max_token_words: None,
    };
    let stage1 = merge::learn_merges(input, &mut table, limits, balancer.as_mut(), |done| observer.merging(done, total));
    let stage1_tokens = table.len() - 256;

    // The stage-1 vocabulary in local ids, to start the stage-2 words (and dev text) from.
    let stage1_model = local_model(&table, &stage1.merges)?;
    let encode = |piece: &[u8]| {
        let mut ids = Vec::new();
        stage1_model.encode_piece(piece, &mut ids);
        ids
    };
    let stage2_pattern = config.pattern.resolve(&settings.count.pattern);
    // The same weights and columns as stage 1: they depend on the corpus languages and their
    // stage-1 totals only.
    let dev1 = balance::dev_counts(settings)?;
    let LanguageColumns { weights, columns, column_of, column_factors } =
        LanguageColumns::new(stage1_totals, dev1.as_ref(), &settings.merge.weights, settings.merge.parity.as_ref())?;
    drop(dev1);
    let lang_of: Vec<Option<LangId>> = stage2_counts
        .languages
        .iter()
        .map(|l| stage1_totals.languages.iter().position(|m| m == l).map(|i| i as LangId))
        .collect();
    let mut input = MergeInput { weight_scale: weights.scale, n_columns: columns.len(), column_factors, column_of, ..Default::default() };
    // Encoded a block at a time, and each block's text freed once encoded: the pieces' text
    // and their ids are never both held whole.
    let mut pieces = stage2_counts.words;
    let mut start = 0;
    while start < pieces.len() {
        let end = (start + ENCODE_BLOCK).min(pieces.len());
        let encoded: Vec<Vec<TokenId>> = pieces[start..end].par_iter().map(|(piece, _)| encode(piece)).collect();
        for (ids, (piece, lang_counts)) in encoded.into_iter().zip(&mut pieces[start..end]) {
            let langs: Vec<(LangId, u64)> = lang_counts.iter().filter_map(|&(l, n)| lang_of[l as usize].map(|l| (l, n))).collect();
            input.words.push(ids);
            input.weights.push(weights.word_weight(&langs));
            input.languages.push_row(langs);
            *piece = Box::default();
            *lang_counts = Vec::new();
        }
        start = end;
    }
    drop(pieces);
    if let (Some(balancer), Some(parity)) = (balancer.as_mut(), settings.merge.parity.as_ref()) {
        let dev2 = match &parity.dev {
            Some(dir) => {
                let count = super::CountSettings { pattern: stage2_pattern.clone(), ..settings.count.clone() };
                Some(balance::count_dev(dir, parity.dev_lines, &count)?)
            }
            None => None,
        };
        balancer.replace_dev_text(balance::DevText::from_counts(dev2.as_ref(), &columns, encode));
    }
    let limits = MergeLimits {
        max_new_tokens: total - stage1_tokens,
        min_frequency: settings.merge.min_frequency,
        max_token_bytes: settings.merge.max_token_bytes,
        max_token_words: Some(config.max_words),
    };
    let MergeOutput { merges: stage2, lengths, language_tokens } =
        merge::learn_merges(input, &mut table, limits, balancer.as_mut(), |done| observer.merging(stage1_tokens + done, total));
    let superword_merges = stage2.len();
    let learned: Vec<_> = stage1.merges.into_iter().chain(stage2).collect();
    let balance = balancer.map(|b| b.summary(&lengths.bytes, &lengths.tokens));
    let summary = MergeSummary::new(learned.len(), table.len() - 256, total, language_shares, language_tokens, balance, Some(superword_merges));
    let tokenizer = super::assemble(table, &learned, settings, stage2_pattern)?;
    Ok((tokenizer, summary))
}

/// A byte-level model over local ids (bytes 0..256 in stand-in order, then `merges`' results).
fn local_model(table: &[Vec<u8>], merges: &[merge::LearnedMerge]) -> Result<BpeModel> {
    let tokens = table.iter().map(|b| Some(b.clone().into_boxed_slice())).collect();
    let pairs: Vec<(TokenId, TokenId)> = merges.iter().map(|m| (m.left, m.right)).collect();
    BpeModel::new(tokens, &pairs, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_parse_and_resolve() {
        assert_eq!(Transition::parse("5000").unwrap(), Transition::Merges(5000));
        assert_eq!(Transition::parse("0.8").unwrap(), Transition::Share(0.8));
        assert_eq!(Transition::Share(0.8).stage1_merges(1000), 800);
        assert_eq!(Transition::Merges(5000).stage1_merges(1000), 1000);
        let err = Transition::parse("lots").unwrap_err().to_string();
        assert!(err.contains("superword_transition"), "{err}");
    }

    #[test]
    fn words_are_runs_of_non_space() {
        assert_eq!(token_words(b" of the"), 2);
        assert_eq!(token_words(b"e of th"), 3);
        assert_eq!(token_words(b"   "), 0);
        assert_eq!(token_words(b"word"), 1);
    }

    use std::path::{Path, PathBuf};

    use crate::corpus::CorpusOptions;
    use crate::train::{LineRange, MergeSettings, ParityConfig, Silent, Trainer, TrainSettings, WordCounter};
    use crate::{AllowedSpecial, Normalization};

    /// A small corpus with frequent multi-word phrases: `en.txt` and `nl.txt`, and a dev
    /// directory of two aligned lines each.
    fn corpus() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut en = String::new();
        let mut nl = String::new();
        for i in 0..150 {
            en.push_str(&format!("In the middle of the night, the house of the king was {i} times as red as the door.\n"));
            en.push_str(&format!("Note: at the end of the day, one of the men said it {} times...\n", i * 7));
            nl.push_str(&format!("In het midden van de nacht was het huis van de koning {i} keer zo rood als de deur.\n"));
        }
        std::fs::write(dir.path().join("en.txt"), en).unwrap();
        std::fs::write(dir.path().join("nl.txt"), nl).unwrap();
        std::fs::create_dir(dir.path().join("dev")).unwrap();
        std::fs::write(dir.path().join("dev/en.txt"), "the house of the king\nat the end of the day\n").unwrap();
        std::fs::write(dir.path().join("dev/nl.txt"), "het huis van de koning\naan het einde van de dag\n").unwrap();
        dir
    }

    fn settings(merges: usize, superword: Option<SuperwordConfig>, parity: Option<&Path>) -> TrainSettings {
        let parity = parity.map(|dev| ParityConfig { dev: Some(dev.to_path_buf()), dev_lines: Some(LineRange::parse("1:2").unwrap()), ..ParityConfig::default() });
        TrainSettings {
            count: crate::train::CountSettings { pattern: Pattern::Cl100k, ..Default::default() },
            merge: MergeSettings { vocab_size: 256 + merges, min_frequency: 2, parity, superword, ..Default::default() },
        }
    }

    fn superwords(transition: usize) -> Option<SuperwordConfig> {
        Some(SuperwordConfig { transition: Transition::Merges(transition), pattern: SuperwordPattern::SuperBpe, max_words: 3 })
    }

    fn train(dir: &Path, settings: TrainSettings) -> (Tokenizer, crate::train::TrainReport) {
        let paths: Vec<PathBuf> = ["en.txt", "nl.txt"].iter().map(|f| dir.join(f)).collect();
        Trainer::new(settings).unwrap().train_files(&paths, &CorpusOptions::default(), &Silent).unwrap()
    }

    fn token_strings(tok: &Tokenizer) -> Vec<String> {
        tok.model().merges().iter().map(|m| String::from_utf8_lossy(tok.model().token_bytes(m.result).unwrap()).into_owned()).collect()
    }

    #[test]
    fn stage1_merges_keep_their_ranks() {
        let dir = corpus();
        for parity in [None, Some(dir.path().join("dev"))] {
            let (plain, _) = train(dir.path(), settings(120, None, parity.as_deref()));
            let (superword, report) = train(dir.path(), settings(300, superwords(120), parity.as_deref()));
            let n = plain.model().merges().len();
            assert_eq!(&superword.model().merges()[..n], plain.model().merges(), "parity {parity:?}");
            assert_eq!(report.superword_merges, Some(superword.model().merges().len() - n));
            assert!(report.superword_merges > Some(0));
        }
    }

    #[test]
    fn superwords_span_spaces_within_the_limits() {
        let dir = corpus();
        let (tok, _) = train(dir.path(), settings(300, superwords(120), None));
        let learned = token_strings(&tok);
        let spanning: Vec<&String> = learned.iter().filter(|t| token_words(t.as_bytes()) >= 2).collect();
        assert!(spanning.iter().any(|t| t.as_str() == " of the"), "{spanning:?}");
        assert!(learned[..120].iter().all(|t| token_words(t.as_bytes()) <= 1), "{learned:?}");
        for token in &learned {
            assert!(token_words(token.as_bytes()) <= 3, "{token:?} spans more than 3 words");
            assert!(!token.contains(": ") && !token.contains('\n') || token.trim().is_empty(), "{token:?}");
            assert!(!token.chars().any(|c| c.is_ascii_digit()) || token.chars().all(|c| c.is_ascii_digit()), "{token:?}");
        }
        // The tokenizer splits with the stage-2 pattern: a phrase is a few tokens.
        let ids = tok.encode("In the middle of the night", AllowedSpecial::None).unwrap();
        assert!(ids.len() <= 3, "{ids:?}");
        assert_eq!(tok.decode(&ids).unwrap(), "In the middle of the night");
    }

    /// The merge loop ends with every stage-2 piece segmented as the tokenizer encodes it: the
    /// training text's token counts equal a fresh encoding of every piece.
    #[test]
    fn the_words_end_as_the_tokenizer_encodes_them() {
        let dir = corpus();
        for parity in [None, Some(dir.path().join("dev"))] {
            let config = settings(300, superwords(100), parity.as_deref());
            let (tok, report) = train(dir.path(), config.clone());
            let stage2 = config.merge.superword.as_ref().unwrap().pattern.resolve(&config.count.pattern);
            let mut counter = WordCounter::new(Normalization::Nfc, crate::pretokenize::PreTokenizer::from_pattern(stage2).unwrap(), &[] as &[&str]);
            for file in ["en.txt", "nl.txt"] {
                for line in std::fs::read_to_string(dir.path().join(file)).unwrap().lines() {
                    counter.add_document(file.trim_end_matches(".txt"), line).unwrap();
                }
            }
            let pieces = counter.finish();
            assert!(pieces.words.iter().all(|(w, _)| w.len() <= crate::train::count::MAX_PIECE_BYTES));
            assert_eq!(crate::train::tokens_per_language(&tok, &pieces), report.tokens_per_language, "parity {parity:?}");
        }
    }

    #[test]
    fn identical_at_any_thread_count() {
        let dir = corpus();
        for parity in [None, Some(dir.path().join("dev"))] {
            let run = |threads| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                pool.install(|| crate::formats::hf::to_json(&train(dir.path(), settings(300, superwords(100), parity.as_deref())).0).unwrap())
            };
            assert_eq!(run(1), run(4), "parity {parity:?}");
        }
    }

    #[test]
    fn needs_the_corpus_files() {
        let dir = corpus();
        let trainer = Trainer::new(settings(300, superwords(100), None)).unwrap();
        let mut counter = trainer.counting().counter().unwrap();
        counter.add_document("en", "the house of the king").unwrap();
        let counted = trainer.counting().finish(counter, Default::default(), std::time::Instant::now(), &Silent).unwrap();
        let err = trainer.learn(counted, &Silent).unwrap_err().to_string();
        assert!(err.contains("train from files"), "{err}");
        drop(dir);
    }

    fn pieces(pattern: &Pattern, text: &str) -> Vec<String> {
        let pre = crate::pretokenize::PreTokenizer::from_pattern(pattern.clone()).unwrap();
        pre.split(text).unwrap().into_iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn the_stage2_split_keeps_the_papers_boundaries() {
        let stage2 = SuperwordPattern::SuperBpe.resolve(&Pattern::Cl100k);
        assert_eq!(
            pieces(&stage2, "by the way, in 2024 we said: yes...\nNext  line"),
            ["by the way, in ", "202", "4", " we said", ":", " yes", "...\n", "Next", " ", " line"]
        );
        // Digits as the stage-1 pattern cuts them.
        let single = SuperwordPattern::SuperBpe.resolve(&Pattern::Default);
        assert_eq!(pieces(&single, "in 24 days"), ["in ", "2", "4", " days"]);
    }
}
