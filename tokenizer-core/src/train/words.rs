//! Words and pairs: the distinct words of a training run as token ids, and the one operation on
//! them, merging a pair in place while reporting which adjacent pairs changed.
//!
//! The merge loop ([`super::merge`]) keeps its pair counts current from those reports, and the
//! balance dev text ([`super::balance`]) applies each merge the same way, so both see exactly the
//! segmentation the learned merges produce.

use crate::bpe::TokenId;

/// A pair of adjacent token ids.
pub type Pair = (TokenId, TokenId);

/// Rows of varying length stored end to end: one allocation for all rows instead of one per
/// row, which for a million distinct words saves tens of megabytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ragged<T> {
    items: Vec<T>,
    /// Row `i` is `items[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
}

impl<T> Default for Ragged<T> {
    fn default() -> Self {
        Ragged { items: Vec::new(), starts: vec![0] }
    }
}

impl<T> Ragged<T> {
    pub fn push_row(&mut self, row: impl IntoIterator<Item = T>) {
        self.items.extend(row);
        self.starts.push(self.items.len());
    }

    pub fn row(&self, i: usize) -> &[T] {
        &self.items[self.starts[i]..self.starts[i + 1]]
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> FromIterator<Vec<T>> for Ragged<T> {
    fn from_iter<I: IntoIterator<Item = Vec<T>>>(rows: I) -> Self {
        let mut ragged = Ragged::default();
        for row in rows {
            ragged.push_row(row);
        }
        ragged
    }
}

/// Every distinct word as token ids, end to end. Merging only shortens a word, so it is
/// rewritten in place and keeps its start; its current length is kept beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Words {
    ids: Ragged<TokenId>,
    lens: Vec<u32>,
}

impl Words {
    pub fn push(&mut self, word: impl IntoIterator<Item = TokenId>) {
        self.ids.push_row(word);
        self.lens.push(self.ids.row(self.lens.len()).len() as u32);
    }

    /// Word `w` as it is now.
    pub fn get(&self, w: usize) -> &[TokenId] {
        let start = self.ids.starts[w];
        &self.ids.items[start..start + self.lens[w] as usize]
    }

    pub fn len(&self) -> usize {
        self.lens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Merges `pair` into `result` in word `w` (see [`apply_merge`]); returns the tokens saved.
    pub(super) fn merge(&mut self, w: usize, pair: Pair, result: TokenId, report: impl FnMut(Pair, i64)) -> usize {
        let start = self.ids.starts[w];
        let before = self.lens[w] as usize;
        let after = apply_merge(&mut self.ids.items[start..start + before], pair, result, report);
        self.lens[w] = after as u32;
        before - after
    }

    /// Starts loading where word `w` is (its start and length), so that [`Words::prefetch_ids`]
    /// can find its ids a few words later without waiting.
    pub(super) fn prefetch_place(&self, w: usize) {
        crate::table::prefetch(&self.ids.starts[w]);
        crate::table::prefetch(&self.lens[w]);
    }

    /// Starts loading word `w`'s first ids.
    pub(super) fn prefetch_ids(&self, w: usize) {
        if let Some(first) = self.ids.items.get(self.ids.starts[w]) {
            crate::table::prefetch(first);
        }
    }
}

impl FromIterator<Vec<TokenId>> for Words {
    fn from_iter<I: IntoIterator<Item = Vec<TokenId>>>(words: I) -> Self {
        let mut all = Words::default();
        for word in words {
            all.push(word);
        }
        all
    }
}

/// Merges every non-overlapping occurrence of `pair` (left to right) in `word` into `result`,
/// reporting the change of each adjacent pair as `(pair, -1 | +1)`.
///
/// Only pairs touching a merged position change: the old pairs around each occurrence are
/// removed and the new ones around each new symbol added. Works in place, without allocating:
/// this runs once per word holding the pair, millions of times in a training run. Returns the
/// word's new length (its first that many ids).
pub(crate) fn apply_merge(word: &mut [TokenId], pair: Pair, result: TokenId, mut report: impl FnMut(Pair, i64)) -> usize {
    let (a, b) = pair;
    let n = word.len();
    let Some(first) = (0..n.saturating_sub(1)).find(|&i| word[i] == a && word[i + 1] == b) else { return n };
    // Old pairs (k, k+1) with k or k+1 consumed by a merge at i: k = i-1, i, i+1, each once.
    let mut next_unreported = 0;
    let mut i = first;
    while i + 1 < n {
        if word[i] == a && word[i + 1] == b {
            for k in i.saturating_sub(1)..=i + 1 {
                if k >= next_unreported && k + 1 < n {
                    report((word[k], word[k + 1]), -1);
                    next_unreported = k + 1;
                }
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    // Compact in place (the write index never passes the read index) and add the new pairs: a
    // merged symbol's left pair when it is written, its right pair when the next one is.
    let (mut read, mut write) = (first, first);
    let mut right_pending = false;
    while read < n {
        if read + 1 < n && word[read] == a && word[read + 1] == b {
            word[write] = result;
            if write > 0 {
                report((word[write - 1], result), 1);
            }
            right_pending = true;
            read += 2;
        } else {
            word[write] = word[read];
            if right_pending {
                report((word[write - 1], word[write]), 1);
                right_pending = false;
            }
            read += 1;
        }
        write += 1;
    }
    write
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_merge_reports_local_changes() {
        let mut word = vec![1, 2, 1, 2, 3];
        let mut changes = Vec::new();
        let len = apply_merge(&mut word, (1, 2), 9, |p, d| changes.push((p, d)));
        word.truncate(len);
        assert_eq!(word, vec![9, 9, 3]);
        changes.sort();
        assert_eq!(changes, vec![((1, 2), -1), ((1, 2), -1), ((2, 1), -1), ((2, 3), -1), ((9, 3), 1), ((9, 9), 1)]);
    }

    #[test]
    fn overlapping_runs_merge_left_to_right() {
        let mut word = vec![5, 5, 5];
        let mut changes = Vec::new();
        let len = apply_merge(&mut word, (5, 5), 7, |p, d| changes.push((p, d)));
        word.truncate(len);
        assert_eq!(word, vec![7, 5]);
        assert_eq!(changes, vec![((5, 5), -1), ((5, 5), -1), ((7, 5), 1)]);
        let mut word = vec![1, 5, 5, 5, 5, 2];
        let mut changes = Vec::new();
        let len = apply_merge(&mut word, (5, 5), 7, |p, d| changes.push((p, d)));
        word.truncate(len);
        assert_eq!(word, vec![1, 7, 7, 2]);
        changes.sort();
        assert_eq!(changes, vec![((1, 5), -1), ((1, 7), 1), ((5, 2), -1), ((5, 5), -1), ((5, 5), -1), ((5, 5), -1), ((7, 2), 1), ((7, 7), 1)]);
    }

    proptest::proptest! {
        /// The pair counts after a merge equal the reported changes applied to the counts before.
        #[test]
        fn reported_changes_match_recounting(word in proptest::collection::vec(0u32..4, 0..12), a in 0u32..4, b in 0u32..4) {
            let count = |w: &[TokenId]| {
                let mut m = std::collections::BTreeMap::new();
                for p in w.windows(2) {
                    *m.entry((p[0], p[1])).or_insert(0i64) += 1;
                }
                m
            };
            let mut counts = count(&word);
            let mut merged = word.clone();
            let len = apply_merge(&mut merged, (a, b), 9, |p, d| *counts.entry(p).or_insert(0) += d);
            merged.truncate(len);
            counts.retain(|_, c| *c != 0);
            proptest::prop_assert_eq!(counts, count(&merged));
            let expected: Vec<TokenId> = {
                let mut out = Vec::new();
                let mut i = 0;
                while i < word.len() {
                    if i + 1 < word.len() && (word[i], word[i + 1]) == (a, b) { out.push(9); i += 2; } else { out.push(word[i]); i += 1; }
                }
                out
            };
            proptest::prop_assert_eq!(merged, expected);
        }
    }
}
