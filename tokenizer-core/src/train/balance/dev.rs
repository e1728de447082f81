//! The dev set: line-aligned `<lang>.txt` files that say the same thing in every language.
//!
//! It is read and counted once, split and normalized as the training text is, then followed
//! through the merges as [`DevText`]: each merge is applied to the dev words that hold its pair,
//! so every dev language's token count is current without re-encoding.

use std::path::Path;
use std::sync::Arc;

use ahash::AHashMap;

use super::columns::{Column, Target};
use crate::bpe::TokenId;
use crate::corpus::Documents;
use crate::train::count::WordCounts;
use crate::train::words::{apply_merge, Pair};
use crate::train::{CountSettings, TrainSettings};
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

/// The dev text the configuration's parity settings name, counted (`None` without one).
pub fn dev_counts(settings: &TrainSettings) -> Result<Option<WordCounts>> {
    match settings.merge.parity.as_ref().and_then(|p| p.dev.as_ref().map(|dir| (dir, p.dev_lines))) {
        Some((dir, lines)) => count_dev(dir, lines, &settings.count).map(Some),
        None => Ok(None),
    }
}

/// Counts a dev set: every `<lang>.txt` of `dir` (the lines of `lines`, all by default), split
/// and normalized as the training text is. Each line is a document.
pub fn count_dev(dir: &Path, lines: Option<LineRange>, settings: &CountSettings) -> Result<WordCounts> {
    let texts = crate::corpus::parallel::read_language_dir(dir, None)?;
    // Dev text is never pruned: its every word counts toward the costs.
    let mut counter = settings.word_counter()?.with_max_words(None);
    for text in &texts {
        let selected = match lines {
            Some(range) => range.select(&text.lines),
            None => &text.lines[..],
        };
        if selected.is_empty() {
            return Err(Error::config(format!("{}: no dev lines selected from {}.txt", dir.display(), text.lang)));
        }
        let lang: Arc<str> = Arc::from(text.lang.as_str());
        let mut docs = Documents::new();
        for line in selected {
            docs.push(&lang, line);
        }
        counter.add_batch(&docs)?;
    }
    Ok(counter.finish())
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

    /// The words of counted dev text that belong to a dev column, as `to_local` spells them
    /// (empty without dev text).
    pub fn from_counts(dev: Option<&WordCounts>, columns: &[Column], to_local: impl Fn(&[u8]) -> Vec<TokenId>) -> DevText {
        let Some(dev) = dev else { return DevText::new(Vec::new(), Vec::new(), columns.len()) };
        let dev_column: Vec<Option<usize>> =
            dev.languages.iter().map(|l| columns.iter().position(|c| &c.lang == l && c.target == Target::Dev)).collect();
        let mut words = Vec::new();
        let mut word_counts = Vec::new();
        for (word, lang_counts) in &dev.words {
            let cols: Vec<(usize, u64)> = lang_counts.iter().filter_map(|&(l, c)| dev_column[l as usize].map(|col| (col, c))).collect();
            if !cols.is_empty() {
                words.push(to_local(word));
                word_counts.push(cols);
            }
        }
        DevText::new(words, word_counts, columns.len())
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
