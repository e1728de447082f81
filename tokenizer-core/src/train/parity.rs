//! Parity-aware merge selection (Foroutan et al. 2025, "Parity-aware Byte-Pair Encoding").
//!
//! Plain BPE takes, at every step, the pair most frequent in the whole corpus. Parity-aware BPE
//! first picks a *language* — the one that is currently worst off — and takes that language's
//! most frequent pair; the merge is then applied everywhere. "Worst off" is measured by:
//! - **dev parity**: languages with a line-aligned dev text. Their dev texts say the same
//!   thing, so the one with the most tokens is the worst compressed. Its cost is
//!   `dev_tokens_l / min_k dev_tokens_k` (≥ 1; 1 means parity with the best language).
//! - **ratio targets**: languages without parallel text (Latin, historical, code) get a target
//!   compression in bytes per token on their own training text. Their cost is
//!   `target / (bytes_l / tokens_l)` (> 1 while short of the target).
//!
//! The language with the highest cost is picked. Options, all measured in `vocab/REPORT.md`:
//! - `global_merges`: the first K merges are plain (the paper's hybrid);
//! - `tolerance`: a plain merge is taken whenever every cost is within `1 + tolerance`, so
//!   parity is pursued only as far as it is missing, not past it (the paper's algorithm always
//!   serves the longest language, which fits the dev set exactly and overshoots elsewhere);
//! - a moving window (size W, share cap `alpha / n_languages`): a language already picked
//!   `cap = ⌊alpha · W / n⌋` times among the last W merges waits (the paper's window variant);
//! - languages of the corpus that take part in training but not in balancing (code).
//!
//! Costs are kept current without recounting: the merge loop maintains every language's token
//! count on its training text, and [`DevText`] applies each merge to the dev words that contain
//! the pair.

use std::collections::VecDeque;
use std::path::PathBuf;

use ahash::AHashMap;

use crate::bpe::TokenId;
use crate::train::merge::{apply_merge, Pair};
use crate::{Error, Result};

/// Which lines of every dev file to use, 1-based and inclusive (`first..=last`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineRange {
    pub first: usize,
    pub last: Option<usize>,
}

impl LineRange {
    /// Parses `A:B`, `A:` or `:B` (1-based, inclusive).
    pub fn parse(text: &str) -> Result<LineRange> {
        let bad = || Error::config(format!("line range {text:?}: expected FIRST:LAST, FIRST: or :LAST (1-based)"));
        let (a, b) = text.split_once(':').ok_or_else(bad)?;
        let first = if a.trim().is_empty() { 1 } else { a.trim().parse().map_err(|_| bad())? };
        let last = if b.trim().is_empty() { None } else { Some(b.trim().parse().map_err(|_| bad())?) };
        if first == 0 || last.is_some_and(|l| l < first) {
            return Err(bad());
        }
        Ok(LineRange { first, last })
    }

    /// The selected lines of `lines`.
    pub fn select<'a, T>(&self, lines: &'a [T]) -> &'a [T] {
        let start = (self.first - 1).min(lines.len());
        let end = self.last.map_or(lines.len(), |l| l.min(lines.len()));
        &lines[start..end.max(start)]
    }
}

/// A moving window that caps how often one language is picked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Number of most recent merges looked at.
    pub size: usize,
    /// A language may take at most `alpha / n_languages` of the window.
    pub alpha: f64,
}

/// Settings of parity-aware selection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParityConfig {
    /// Directory of line-aligned `<lang>.txt` dev files.
    pub dev: Option<PathBuf>,
    /// Lines of the dev files to use (the rest can serve as held-out text).
    pub dev_lines: Option<LineRange>,
    /// Target bytes per token on the training text, for languages without dev text.
    pub ratio: Vec<(String, f64)>,
    /// Languages that are trained on but not balanced (picked only by plain merges).
    pub exclude: Vec<String>,
    /// Plain merges before parity starts.
    pub global_merges: usize,
    /// Take a plain merge whenever every language's cost is within `1 + tolerance`.
    pub tolerance: Option<f64>,
    pub window: Option<Window>,
    /// Soft selection: instead of one language's top pair, take the top pair of all counts
    /// weighted by `cost_l ^ strength` (see [`Balancer::reweight`]).
    pub strength: Option<f64>,
    /// Merges between two reweightings in soft selection (0: every 100).
    pub reweight_every: usize,
}

impl ParityConfig {
    /// Checks values that do not depend on the corpus.
    pub fn validate(&self) -> Result<()> {
        if self.dev.is_none() && self.ratio.is_empty() {
            return Err(Error::config("parity-aware training needs a dev set (parallel text) or ratio targets"));
        }
        for (lang, target) in &self.ratio {
            if !target.is_finite() || *target <= 0.0 {
                return Err(Error::config(format!("ratio target of {lang:?} is {target}: it must be a positive bytes/token value")));
            }
        }
        if let Some(t) = self.tolerance {
            if !t.is_finite() || t < 0.0 {
                return Err(Error::config(format!("parity tolerance {t} must be a non-negative number")));
            }
        }
        if let Some(strength) = self.strength {
            if !strength.is_finite() || strength <= 0.0 {
                return Err(Error::config(format!("parity strength {strength} must be a positive number")));
            }
            if self.window.is_some() {
                return Err(Error::config("a parity window applies to language picks; soft selection (strength) has none"));
            }
        }
        if let Some(w) = self.window {
            if w.size == 0 || !w.alpha.is_finite() || w.alpha <= 0.0 {
                return Err(Error::config("parity window needs a size ≥ 1 and alpha > 0"));
            }
        }
        Ok(())
    }
}

/// What a language is balanced by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// Token count of its dev text, compared with the other dev languages.
    Dev,
    /// Bytes per token on its training text.
    Ratio(f64),
    /// Counted (for soft selection, which weighs every language) but not balanced.
    Free,
}

/// A balanced language: one count column of the merge loop.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub lang: String,
    pub target: Target,
}

/// Which counts choose the next merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// The weighted counts of the whole corpus (plain BPE).
    Global,
    /// The counts of one balanced language (index into the columns).
    Column(usize),
}

/// The dev text as distinct words in token ids, with counts per column.
#[derive(Clone, Debug, Default)]
pub struct DevText {
    words: Vec<Vec<TokenId>>,
    /// Per word: `(column, occurrences)`.
    counts: Vec<Vec<(usize, u64)>>,
    /// Pair → dev words holding it (may hold stale entries; merging a word without the pair is a
    /// no-op).
    index: AHashMap<Pair, Vec<u32>>,
    /// Current token count per column (0 for ratio columns).
    pub tokens: Vec<u64>,
}

impl DevText {
    /// Builds the dev text from words (in local token ids) with their per-column counts.
    pub fn new(words: Vec<Vec<TokenId>>, counts: Vec<Vec<(usize, u64)>>, n_columns: usize) -> DevText {
        let mut tokens = vec![0u64; n_columns];
        let mut index: AHashMap<Pair, Vec<u32>> = AHashMap::new();
        for (w, (word, word_counts)) in words.iter().zip(&counts).enumerate() {
            for &(c, n) in word_counts {
                tokens[c] += n * word.len() as u64;
            }
            for pair in word.windows(2) {
                index.entry((pair[0], pair[1])).or_default().push(w as u32);
            }
        }
        DevText { words, counts, index, tokens }
    }

    /// Applies a merge to every dev word holding `pair`, updating the token counts.
    pub fn apply(&mut self, pair: Pair, result: TokenId) {
        let Some(mut holders) = self.index.remove(&pair) else { return };
        holders.sort_unstable();
        holders.dedup();
        let mut new_pairs = Vec::new();
        for w in holders {
            let word = &mut self.words[w as usize];
            let before = word.len();
            new_pairs.clear();
            let after = apply_merge(word, pair, result, |p, delta| {
                if delta > 0 && p != pair {
                    new_pairs.push(p);
                }
            });
            word.truncate(after);
            let saved = (before - after) as u64;
            for &(c, n) in &self.counts[w as usize] {
                self.tokens[c] -= saved * n;
            }
            for &p in &new_pairs {
                self.index.entry(p).or_default().push(w);
            }
        }
    }
}

/// Picks, at every merge step, whose counts choose the merge.
#[derive(Clone, Debug)]
pub struct Balancer {
    pub columns: Vec<Column>,
    pub dev: DevText,
    global_merges: usize,
    tolerance: Option<f64>,
    window: Option<(usize, usize)>,
    /// The last merges' picks (`None` = plain), when a window is set.
    recent: VecDeque<Option<usize>>,
    /// Columns with no pair left at the minimum frequency.
    exhausted: Vec<bool>,
    strength: Option<f64>,
    reweight_every: usize,
    reweighted_at: Option<usize>,
    /// Merges picked for each column.
    pub picks: Vec<u64>,
    /// Merges picked by global counts.
    pub global_picks: u64,
    step: usize,
}

impl Balancer {
    pub fn new(columns: Vec<Column>, dev: DevText, config: &ParityConfig) -> Balancer {
        let n = columns.len();
        let window = config.window.map(|w| {
            let cap = ((w.alpha * w.size as f64) / n.max(1) as f64).floor() as usize;
            (w.size, cap.max(1))
        });
        Balancer {
            columns,
            dev,
            global_merges: config.global_merges,
            tolerance: config.tolerance,
            window,
            recent: VecDeque::new(),
            exhausted: vec![false; n],
            strength: config.strength,
            reweight_every: if config.reweight_every == 0 { 100 } else { config.reweight_every },
            reweighted_at: None,
            picks: vec![0; n],
            global_picks: 0,
            step: 0,
        }
    }

    /// The cost of every column (see the module docs); `None` for exhausted and free columns.
    pub fn costs(&self, train_bytes: &[u64], train_tokens: &[u64]) -> Vec<Option<f64>> {
        let dev_tokens = || self.columns.iter().enumerate().filter(|(_, c)| c.target == Target::Dev).map(|(i, _)| self.dev.tokens[i]);
        // Hard picks compare with the best language (parity = 1); soft weights with the mean,
        // so the best languages weigh less than 1 and free languages (weight 1) keep their place.
        let reference = match self.strength {
            None => dev_tokens().min().unwrap_or(0) as f64,
            Some(_) => dev_tokens().sum::<u64>() as f64 / dev_tokens().count().max(1) as f64,
        }
        .max(1.0);
        self.columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                if self.exhausted[i] {
                    return None;
                }
                match column.target {
                    Target::Dev => Some(self.dev.tokens[i] as f64 / reference),
                    Target::Ratio(target) => Some(target * train_tokens[i] as f64 / train_bytes[i].max(1) as f64),
                    Target::Free => None,
                }
            })
            .collect()
    }

    /// Whose counts choose the next merge, given every column's training bytes and current
    /// token count.
    pub fn pick(&self, train_bytes: &[u64], train_tokens: &[u64]) -> Pick {
        if self.step < self.global_merges || self.strength.is_some() {
            return Pick::Global;
        }
        let costs = self.costs(train_bytes, train_tokens);
        let mut best: Option<(usize, f64)> = None;
        for (i, cost) in costs.iter().enumerate() {
            let Some(cost) = *cost else { continue };
            if let Some((_, cap)) = self.window {
                if self.recent.iter().filter(|&&p| p == Some(i)).count() >= cap {
                    continue;
                }
            }
            // Ties go to the lower column index (columns are sorted by language code).
            if best.is_none_or(|(_, b)| cost > b) {
                best = Some((i, cost));
            }
        }
        match best {
            Some((i, cost)) if self.tolerance.is_none_or(|t| cost > 1.0 + t) => Pick::Column(i),
            _ => Pick::Global,
        }
    }

    /// Soft selection: every `reweight_every` merges (from the end of the global merges on),
    /// the factor of each column, `cost ^ strength` clamped to [1/64, 64] (1 for free columns).
    /// The merge loop multiplies each language's weight by it. `None` when it is not time.
    pub fn reweight(&mut self, train_bytes: &[u64], train_tokens: &[u64]) -> Option<Vec<f64>> {
        let strength = self.strength?;
        if self.step < self.global_merges
            || (self.step - self.global_merges) % self.reweight_every != 0
            || self.reweighted_at == Some(self.step)
        {
            return None;
        }
        self.reweighted_at = Some(self.step);
        let costs = self.costs(train_bytes, train_tokens);
        Some(costs.iter().map(|c| c.map_or(1.0, |c| c.powf(strength).clamp(1.0 / 64.0, 64.0))).collect())
    }

    /// True when every language of the corpus is a column (soft selection weighs them all).
    pub fn needs_all_languages(&self) -> bool {
        self.strength.is_some()
    }

    /// A column's best pair fell below the minimum frequency: stop picking it.
    pub fn exhaust(&mut self, column: usize) {
        self.exhausted[column] = true;
    }

    /// Records a merge taken for `pick` and applies it to the dev text.
    pub fn merged(&mut self, pick: Pick, pair: Pair, result: TokenId) {
        self.step += 1;
        match pick {
            Pick::Global => self.global_picks += 1,
            Pick::Column(c) => self.picks[c] += 1,
        }
        if let Some((size, _)) = self.window {
            if self.step > self.global_merges {
                self.recent.push_back(match pick {
                    Pick::Global => None,
                    Pick::Column(c) => Some(c),
                });
                if self.recent.len() > size {
                    self.recent.pop_front();
                }
            }
        }
        self.dev.apply(pair, result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev_columns(langs: &[&str]) -> Vec<Column> {
        langs.iter().map(|l| Column { lang: l.to_string(), target: Target::Dev }).collect()
    }

    #[test]
    fn line_ranges() {
        let lines = ["a", "b", "c", "d"];
        assert_eq!(LineRange::parse("2:3").unwrap().select(&lines), &["b", "c"]);
        assert_eq!(LineRange::parse("3:").unwrap().select(&lines), &["c", "d"]);
        assert_eq!(LineRange::parse(":1").unwrap().select(&lines), &["a"]);
        assert_eq!(LineRange::parse("9:").unwrap().select(&lines), &[] as &[&str]);
        assert!(LineRange::parse("0:2").is_err());
        assert!(LineRange::parse("3:2").is_err());
        assert!(LineRange::parse("12").is_err());
    }

    #[test]
    fn picks_the_language_with_most_dev_tokens() {
        // Column 1's dev word has 3 tokens, column 0's has 2.
        let dev = DevText::new(vec![vec![1, 2], vec![1, 2, 3]], vec![vec![(0, 1)], vec![(1, 1)]], 2);
        let mut b = Balancer::new(dev_columns(&["de", "fr"]), dev, &ParityConfig::default());
        assert_eq!(b.pick(&[0, 0], &[0, 0]), Pick::Column(1));
        // Merging (2, 3) shortens fr's dev text to 2 tokens: a tie, which goes to column 0.
        b.merged(Pick::Column(1), (2, 3), 9);
        assert_eq!(b.dev.tokens, vec![2, 2]);
        assert_eq!(b.pick(&[0, 0], &[0, 0]), Pick::Column(0));
        b.exhaust(0);
        assert_eq!(b.pick(&[0, 0], &[0, 0]), Pick::Column(1));
        b.exhaust(1);
        assert_eq!(b.pick(&[0, 0], &[0, 0]), Pick::Global);
    }

    #[test]
    fn global_merges_come_first_and_tolerance_stops_at_parity() {
        let dev = DevText::new(vec![vec![1, 2, 3, 4], vec![1, 2, 3, 4, 5]], vec![vec![(0, 10)], vec![(1, 10)]], 2);
        let config = ParityConfig { global_merges: 1, tolerance: Some(0.3), ..ParityConfig::default() };
        let mut b = Balancer::new(dev_columns(&["a", "b"]), dev, &config);
        assert_eq!(b.pick(&[0, 0], &[0, 0]), Pick::Global);
        b.merged(Pick::Global, (7, 7), 8);
        // 50 vs 40 tokens: cost 1.25 is within the tolerance of 0.3.
        assert_eq!(b.pick(&[0, 0], &[0, 0]), Pick::Global);
        let strict = ParityConfig { tolerance: Some(0.2), ..config };
        let dev = DevText::new(vec![vec![1, 2, 3, 4], vec![1, 2, 3, 4, 5]], vec![vec![(0, 10)], vec![(1, 10)]], 2);
        assert_eq!(Balancer::new(dev_columns(&["a", "b"]), dev, &ParityConfig { global_merges: 0, ..strict }).pick(&[0, 0], &[0, 0]), Pick::Column(1));
    }

    #[test]
    fn ratio_mode_picks_the_language_furthest_below_target() {
        let columns = vec![
            Column { lang: "historical".into(), target: Target::Ratio(4.0) },
            Column { lang: "la".into(), target: Target::Ratio(3.0) },
        ];
        let b = Balancer::new(columns, DevText::new(vec![], vec![], 2), &ParityConfig::default());
        // historical: 300 bytes in 100 tokens = 3.0 bytes/token, cost 4/3; la: 2.0, cost 1.5.
        assert_eq!(b.pick(&[300, 200], &[100, 100]), Pick::Column(1));
        // la at 2.9 bytes/token (cost 1.03) is now closer to its target than historical.
        assert_eq!(b.pick(&[300, 290], &[100, 100]), Pick::Column(0));
    }

    #[test]
    fn window_caps_each_language_share() {
        // Column 0 stays the longest by far, so only the cap lets the others in.
        let dev = DevText::new(vec![vec![1; 100], vec![2; 10], vec![3; 10]], vec![vec![(0, 1)], vec![(1, 1)], vec![(2, 1)]], 3);
        let config = ParityConfig { window: Some(Window { size: 10, alpha: 1.5 }), ..ParityConfig::default() };
        let mut b = Balancer::new(dev_columns(&["a", "b", "c"]), dev, &config);
        let cap = 5; // ⌊1.5 · 10 / 3⌋
        let mut picks = Vec::new();
        for step in 0..200 {
            let pick = b.pick(&[0; 3], &[0; 3]);
            picks.push(pick);
            b.merged(pick, (1000 + step, 1000 + step), 5000 + step);
        }
        for window in picks.windows(10) {
            for c in 0..3 {
                let n = window.iter().filter(|&&p| p == Pick::Column(c)).count();
                assert!(n <= cap, "column {c} picked {n} times in a window of 10");
            }
        }
        // The longest language still takes most picks, up to its cap; the others get the rest.
        let counts: Vec<usize> = (0..3).map(|c| picks.iter().filter(|&&p| p == Pick::Column(c)).count()).collect();
        assert!(counts[0] > 80 && counts[0] <= 100, "{counts:?}");
        assert!(counts[1] > 0 && counts[2] > 0, "{counts:?}");
        // Without the window, the longest language takes every pick.
        let dev = DevText::new(vec![vec![1; 100], vec![2; 10]], vec![vec![(0, 1)], vec![(1, 1)]], 2);
        let b = Balancer::new(dev_columns(&["a", "b"]), dev, &ParityConfig::default());
        assert_eq!(b.pick(&[0; 2], &[0; 2]), Pick::Column(0));
    }
}
