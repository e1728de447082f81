//! The merge loop: learn merges from weighted words with incremental pair-count updates.
//!
//! State: every distinct word as a sequence of token ids with a weight; the weighted count of
//! every adjacent pair; for every pair, the words it occurs in; and a max-heap of candidate
//! pairs with lazy invalidation (a popped entry whose count is stale is pushed back with the
//! current count). A merge touches only the words that contain its pair.
//!
//! **Tie-break (a total order, documented because it decides the merge list):** the pair with
//! the highest weighted count wins; among equal counts, the pair with the smaller
//! `(left id, right id)` wins. Ids are assigned deterministically (bytes in the order of their
//! GPT-2 stand-in characters, then merges in the order learned), so this order never depends on
//! hashing or threads. It is the order HF's `BpeTrainer` uses, so on the same words both learn
//! the same merges.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use ahash::AHashMap;
use rayon::prelude::*;

use crate::bpe::TokenId;

/// A pair of adjacent token ids.
pub type Pair = (TokenId, TokenId);

/// A heap entry; ordered by count, then by the smaller pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candidate {
    count: u64,
    pair: Pair,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.count.cmp(&other.count).then_with(|| other.pair.cmp(&self.pair))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Limits of the loop.
#[derive(Clone, Copy, Debug)]
pub struct MergeLimits {
    /// Stop once this many new tokens exist. A merge whose bytes spell an existing token adds a
    /// merge rule but no token, so it does not count (as in HF).
    pub max_new_tokens: usize,
    /// Stop when the best pair occurs fewer times than this (at least 1).
    pub min_frequency: u64,
    /// Skip merges whose token would be longer than this many bytes.
    pub max_token_bytes: Option<usize>,
}

/// A learned merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnedMerge {
    pub left: TokenId,
    pub right: TokenId,
    /// The resulting id (an existing id when two merges spell the same bytes).
    pub result: TokenId,
    /// Weighted count of the pair when it was merged.
    pub count: u64,
}

/// Learns merges on `words` (token-id sequences with weights).
///
/// `token_bytes` holds the bytes of every id that exists so far (indexed by id, the byte
/// tokens included); new tokens are appended to it. `on_merge(new_tokens)` is called after each
/// merge.
pub fn learn_merges(
    mut words: Vec<Vec<TokenId>>,
    weights: &[u64],
    token_bytes: &mut Vec<Vec<u8>>,
    limits: MergeLimits,
    mut on_merge: impl FnMut(usize),
) -> Vec<LearnedMerge> {
    let mut index: AHashMap<Vec<u8>, TokenId> =
        token_bytes.iter().enumerate().map(|(id, b)| (b.clone(), id as TokenId)).collect();
    let (mut pair_counts, mut where_found) = count_pairs(&words, weights);
    let mut heap: BinaryHeap<Candidate> =
        pair_counts.iter().filter(|(_, &c)| c > 0).map(|(&pair, &c)| Candidate { count: c as u64, pair }).collect();
    let min_frequency = limits.min_frequency.max(1);
    let mut merges = Vec::with_capacity(limits.max_new_tokens);
    let initial_len = token_bytes.len();
    let target_len = initial_len + limits.max_new_tokens;

    while token_bytes.len() < target_len {
        let Some(top) = heap.pop() else { break };
        let current = pair_counts.get(&top.pair).copied().unwrap_or(0).max(0) as u64;
        if current != top.count {
            if current > 0 {
                heap.push(Candidate { count: current, pair: top.pair });
            }
            continue;
        }
        if current < min_frequency {
            break;
        }
        let (left, right) = top.pair;
        let joined: Vec<u8> = [&token_bytes[left as usize][..], &token_bytes[right as usize][..]].concat();
        if limits.max_token_bytes.is_some_and(|max| joined.len() > max) {
            pair_counts.remove(&top.pair);
            continue;
        }
        let result = match index.get(&joined) {
            Some(&id) => id,
            None => {
                let id = token_bytes.len() as TokenId;
                index.insert(joined.clone(), id);
                token_bytes.push(joined);
                id
            }
        };
        merges.push(LearnedMerge { left, right, result, count: current });

        let mut positions = where_found.remove(&top.pair).unwrap_or_default();
        positions.sort_unstable();
        positions.dedup();
        pair_counts.remove(&top.pair);
        let mut deltas: AHashMap<Pair, i64> = AHashMap::new();
        let mut new_pairs: Vec<(Pair, u32)> = Vec::new();
        for &w in &positions {
            let weight = weights[w as usize] as i64;
            apply_merge(&mut words[w as usize], top.pair, result, |pair, delta| {
                *deltas.entry(pair).or_insert(0) += delta * weight;
                if delta > 0 {
                    new_pairs.push((pair, w));
                }
            });
        }
        for (pair, delta) in deltas {
            if pair == top.pair {
                continue;
            }
            let count = pair_counts.entry(pair).or_insert(0);
            *count += delta;
            if delta > 0 {
                heap.push(Candidate { count: *count as u64, pair });
            }
        }
        for (pair, w) in new_pairs {
            if pair != top.pair {
                where_found.entry(pair).or_default().push(w);
            }
        }
        on_merge(token_bytes.len() - initial_len);
    }
    merges
}

/// Counts all adjacent pairs, in parallel; also records which words hold each pair.
fn count_pairs(words: &[Vec<TokenId>], weights: &[u64]) -> (AHashMap<Pair, i64>, AHashMap<Pair, Vec<u32>>) {
    words
        .par_iter()
        .enumerate()
        .with_min_len(1024)
        .fold(
            || (AHashMap::new(), AHashMap::new()),
            |(mut counts, mut found): (AHashMap<Pair, i64>, AHashMap<Pair, Vec<u32>>), (w, word)| {
                for pair in word.windows(2) {
                    let pair = (pair[0], pair[1]);
                    *counts.entry(pair).or_insert(0) += weights[w] as i64;
                    found.entry(pair).or_default().push(w as u32);
                }
                (counts, found)
            },
        )
        .reduce(
            || (AHashMap::new(), AHashMap::new()),
            |(mut counts, mut found), (c2, f2)| {
                for (pair, c) in c2 {
                    *counts.entry(pair).or_insert(0) += c;
                }
                for (pair, mut w) in f2 {
                    found.entry(pair).or_default().append(&mut w);
                }
                (counts, found)
            },
        )
}

/// Merges every non-overlapping occurrence of `pair` (left to right) in `word` into `result`,
/// reporting the change of each adjacent pair as `(pair, -1 | +1)`.
///
/// Only pairs touching a merged position change: the old pairs around each occurrence are
/// removed and the new ones around each new symbol added.
fn apply_merge(word: &mut Vec<TokenId>, pair: Pair, result: TokenId, mut report: impl FnMut(Pair, i64)) {
    let old = std::mem::take(word);
    let mut merged_at = Vec::new();
    let mut i = 0;
    while i < old.len() {
        if i + 1 < old.len() && (old[i], old[i + 1]) == pair {
            merged_at.push(word.len());
            word.push(result);
            i += 2;
        } else {
            word.push(old[i]);
            i += 1;
        }
    }
    // Old pairs touching a merged symbol: walk old positions, marking consumed ones.
    let mut touched = vec![false; old.len()];
    let mut j = 0;
    while j + 1 < old.len() {
        if (old[j], old[j + 1]) == pair {
            touched[j] = true;
            touched[j + 1] = true;
            j += 2;
        } else {
            j += 1;
        }
    }
    for k in 0..old.len().saturating_sub(1) {
        if touched[k] || touched[k + 1] {
            report((old[k], old[k + 1]), -1);
        }
    }
    let mut is_new = vec![false; word.len()];
    for &m in &merged_at {
        is_new[m] = true;
    }
    for k in 0..word.len().saturating_sub(1) {
        if is_new[k] || is_new[k + 1] {
            report((word[k], word[k + 1]), 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_merge_reports_local_changes() {
        let mut word = vec![1, 2, 1, 2, 3];
        let mut changes = Vec::new();
        apply_merge(&mut word, (1, 2), 9, |p, d| changes.push((p, d)));
        assert_eq!(word, vec![9, 9, 3]);
        changes.sort();
        assert_eq!(changes, vec![((1, 2), -1), ((1, 2), -1), ((2, 1), -1), ((2, 3), -1), ((9, 3), 1), ((9, 9), 1)]);
    }

    #[test]
    fn overlapping_runs_merge_left_to_right() {
        let mut word = vec![5, 5, 5];
        apply_merge(&mut word, (5, 5), 7, |_, _| {});
        assert_eq!(word, vec![7, 5]);
    }

    fn bytes_table() -> Vec<Vec<u8>> {
        (0..=255u8).map(|b| vec![b]).collect()
    }

    #[test]
    fn learns_most_frequent_pairs_with_documented_ties() {
        let words: Vec<Vec<TokenId>> = vec![b"abab".iter().map(|&b| b as u32).collect(), b"cd".iter().map(|&b| b as u32).collect()];
        let mut table = bytes_table();
        let limits = MergeLimits { max_new_tokens: 10, min_frequency: 1, max_token_bytes: None };
        let merges = learn_merges(words, &[1, 2], &mut table, limits, |_| {});
        // (a,b) occurs twice with weight 1 and (c,d) once with weight 2: tie at 2, (a,b) is the
        // smaller pair. Then (c,d)=2, then (ab,ab)=1, (b,a) is gone.
        let learned: Vec<(&[u8], u64)> = merges.iter().map(|m| (&table[m.result as usize][..], m.count)).collect();
        assert_eq!(learned, vec![(&b"ab"[..], 2), (b"cd", 2), (b"abab", 1)]);
    }

    #[test]
    fn counts_are_u64() {
        let words = vec![vec![b' ' as u32, b' ' as u32]];
        let mut table = bytes_table();
        let big = 3_000_000_000u64; // above i32::MAX
        let merges = learn_merges(words, &[big], &mut table, MergeLimits { max_new_tokens: 1, min_frequency: 2, max_token_bytes: None }, |_| {});
        assert_eq!(merges[0].count, big);
    }

    #[test]
    fn max_token_bytes_skips_long_merges() {
        let words = vec![b"aaaa".iter().map(|&b| b as u32).collect()];
        let mut table = bytes_table();
        let limits = MergeLimits { max_new_tokens: 10, min_frequency: 1, max_token_bytes: Some(2) };
        let merges = learn_merges(words, &[5], &mut table, limits, |_| {});
        assert_eq!(merges.len(), 1);
        assert_eq!(table[merges[0].result as usize], b"aa");
    }
}
