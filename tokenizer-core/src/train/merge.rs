//! The merge loop: learn merges from weighted words with incremental pair-count updates.
//!
//! State: every distinct word as a sequence of token ids with a weight; the weighted count of
//! every adjacent pair; for every pair, the words it occurs in; and a max-heap of the pairs
//! that can win soon, with lazy invalidation (a popped entry whose count is stale is pushed back
//! with the current count). A merge touches only the words that contain its pair, a block at a
//! time: it merges the words recording what changed, then applies the changes to the counts.
//! The loop is bound by cache misses, not work; what each of these choices bought is in
//! `benches/RESULTS.md`, "The merge loop: fewer cache misses".
//!
//! For balanced training each pair also has one raw count per balanced language (a "column"),
//! each with its own heap, and each language's token count on its training text is kept
//! current; [`super::balance::Balancer`] decides which counts choose each merge. Plain training
//! has no columns and pays nothing for them.
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
use smallvec::SmallVec;

use super::balance::{Balancer, Pick};
use super::count::LangId;
use super::words::{Pair, Ragged, Words};
use crate::bpe::TokenId;
use crate::table::{hash_word, SlotTable};

/// A heap entry; ordered by count, then by the smaller pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Candidate {
    count: u64,
    pair: Pair,
    slot: u32,
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
    /// Stop when the best pair occurs fewer times than this (at least 1). Compared with raw
    /// counts for a language's column and with `min_frequency · weight_scale` for the weighted
    /// global counts.
    pub min_frequency: u64,
    /// Skip merges whose token would be longer than this many bytes.
    pub max_token_bytes: Option<usize>,
    /// Skip merges whose token would span more than this many words (the superword cap; see
    /// [`super::superword::token_words`]).
    pub max_token_words: Option<usize>,
}

/// A learned merge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnedMerge {
    pub left: TokenId,
    pub right: TokenId,
    /// The resulting id (an existing id when two merges spell the same bytes).
    pub result: TokenId,
    /// Count of the pair in the counts that chose it (weighted for global picks).
    pub count: u64,
    /// The balanced language whose counts chose it; `None` for the global counts.
    pub column: Option<u16>,
}


/// The words to learn from.
#[derive(Clone, Debug, Default)]
pub struct MergeInput {
    /// Every distinct word as token ids.
    pub words: Words,
    /// Each word's weight in the global counts.
    pub weights: Vec<u64>,
    /// What a weight of one occurrence is (1, or the fixed-point scale of weighted counts).
    pub weight_scale: u64,
    /// Per word, its occurrences in each corpus language, as `(language, count)`: one row per
    /// word, or no rows at all when languages do not matter (as when extending a vocabulary).
    pub languages: Ragged<(LangId, u64)>,
    /// The balanced column of each corpus language (`None`: not balanced). Its length is the
    /// number of corpus languages.
    pub column_of: Vec<Option<u16>>,
    /// Number of balanced language columns.
    pub n_columns: usize,
    /// Each column's language factor (fixed-point, as in `weights`), for soft selection,
    /// which weighs words as `Σ_c occurrences_c · factor_c · λ_c`.
    pub column_factors: Vec<u64>,
}

/// Which balanced columns each word counts in.
#[derive(Clone, Copy)]
struct WordColumns<'a> {
    languages: &'a Ragged<(LangId, u64)>,
    column_of: &'a [Option<u16>],
    n_columns: usize,
}

impl<'a> WordColumns<'a> {
    /// Whether there are balanced columns at all.
    fn any(self) -> bool {
        self.n_columns > 0
    }

    /// Word `w`'s occurrences in each balanced column, as `(column, count)`. Without columns
    /// the word's languages are not read: the merge loop asks for every word it touches, and
    /// loading the rows cost plain training a cache miss per word.
    fn of(self, w: usize) -> impl Iterator<Item = (usize, u64)> + 'a {
        let row = if self.any() { word_languages(self.languages, w) } else { &[][..] };
        let column_of = self.column_of;
        row.iter().filter_map(move |&(lang, n)| column_of[lang as usize].map(|c| (c as usize, n)))
    }
}

/// Word `w`'s occurrences by language (none when the input has no language rows).
fn word_languages(languages: &Ragged<(LangId, u64)>, w: usize) -> &[(LangId, u64)] {
    if languages.is_empty() {
        &[]
    } else {
        languages.row(w)
    }
}

/// What the merge loop learned.
#[derive(Clone, Debug, Default)]
pub struct MergeOutput {
    pub merges: Vec<LearnedMerge>,
    pub lengths: ColumnLengths,
    /// Per corpus language, the tokens of its training text after the last merge (the words
    /// end the loop segmented exactly as the learned merges encode them).
    pub language_tokens: Vec<u64>,
}

/// Per balanced column: bytes of its training text and its current token count.
#[derive(Clone, Debug, Default)]
pub struct ColumnLengths {
    pub bytes: Vec<u64>,
    pub tokens: Vec<u64>,
}

/// The words holding one pair. Most pairs are held by a word or two (the pairs a merge makes
/// inside rare words), so up to four are kept inline rather than in an allocation of their own.
type Holders = SmallVec<[u32; 4]>;

// Inline lists cost no memory over a `Vec` (smallvec's `union` layout).
const _: () = assert!(std::mem::size_of::<Holders>() == std::mem::size_of::<Vec<u32>>());

/// The slot of every pair seen: an open-addressing table whose home slots are known before
/// the lookup, so the merge loop can prefetch the slots of the changes ahead (the lookups are
/// cache misses, about a fifth of plain training's merge loop in a `HashMap`). Entries take 12
/// bytes and the table is kept at most three quarters full, which takes about the memory of
/// the `HashMap` it replaced.
struct PairSlots(SlotTable<Pair, u32>);

impl PairSlots {
    /// A table for `pairs`, numbered in order.
    fn numbering(pairs: &[Pair]) -> PairSlots {
        let mut slots = PairSlots(SlotTable::with_capacity(pairs.len() * 4 / 3 + 1));
        for (slot, &pair) in pairs.iter().enumerate() {
            slots.insert(pair, slot as u32);
        }
        slots
    }

    fn hash(pair: &Pair) -> u64 {
        hash_word((pair.0 as u64) << 32 | pair.1 as u64)
    }

    fn get(&self, pair: Pair) -> Option<u32> {
        self.0.get(&pair, Self::hash(&pair)).copied()
    }

    fn insert(&mut self, pair: Pair, slot: u32) {
        if self.0.len() * 4 >= self.0.capacity() * 3 {
            self.0.double(Self::hash);
        }
        self.0.insert(pair, Self::hash(&pair), slot);
    }

    /// Starts loading where `pair`'s slot is.
    fn prefetch(&self, pair: Pair) {
        self.0.prefetch(Self::hash(&pair));
    }
}

/// Counts of every pair seen, by slot: global (weighted) and per column (raw).
struct PairTable {
    slot_of: PairSlots,
    pairs: Vec<Pair>,
    /// The weighted counts, stored (empty when they are derived, see `factors`).
    global: Vec<i64>,
    /// `slot * n_columns + column`.
    columns: Vec<i64>,
    n_columns: usize,
    /// Soft selection: every language is a column, so a pair's weighted count is
    /// `Σ_c count_c · factor_c`, derived on demand instead of stored. A reweighting then only
    /// replaces the factors, where stored counts meant recomputing every word's weight and
    /// every pair's count (measured with the alternatives in `benches/RESULTS.md`, "Training
    /// time").
    factors: Option<Vec<i64>>,
    /// Words holding each pair, one entry per time a word gained it (stale entries are
    /// harmless: merging a word without the pair changes nothing).
    holders: Vec<Holders>,
}

impl PairTable {
    /// Soft selection: the weighted counts are derived from the columns (see `factors`), and
    /// there is only the global queue.
    fn is_soft(&self) -> bool {
        self.factors.is_some()
    }

    fn slot(&mut self, pair: Pair) -> usize {
        if let Some(slot) = self.slot_of.get(pair) {
            return slot as usize;
        }
        let slot = self.pairs.len();
        self.slot_of.insert(pair, slot as u32);
        self.pairs.push(pair);
        if !self.is_soft() {
            self.global.push(0);
        }
        self.columns.resize(self.columns.len() + self.n_columns, 0);
        self.holders.push(Holders::new());
        slot
    }

    fn count(&self, slot: usize, pick: Pick) -> i64 {
        match (pick, &self.factors) {
            (Pick::Global, None) => self.global[slot],
            (Pick::Global, Some(factors)) => self.row(slot).iter().zip(factors).map(|(&count, &f)| count * f).sum(),
            (Pick::Column(c), _) => self.columns[slot * self.n_columns + c],
        }
    }

    /// A pair's raw count in every column.
    fn row(&self, slot: usize) -> &[i64] {
        &self.columns[slot * self.n_columns..(slot + 1) * self.n_columns]
    }

    /// Derives the weighted counts from the columns with these factors from now on; the stored
    /// counts (equal to them: every word's weight is `Σ_c occurrences_c · factor_c`) are freed.
    fn derive_global(&mut self, factors: Vec<i64>) {
        debug_assert!((0..self.pairs.len()).all(|s| self.global[s] == self.row(s).iter().zip(&factors).map(|(&c, &f)| c * f).sum::<i64>()));
        self.global = Vec::new();
        self.factors = Some(factors);
    }
}

/// One max-heap of candidate pairs per pick (global first, then one per column).
struct Heaps(Vec<Queue>);

/// A lazy max-heap of candidate pairs. It holds only pairs whose count was at least `floor`
/// when they were pushed: none of the others can be the best while the top is at least `floor`
/// (a pair whose count grows is pushed again), and when the top falls below it the heap is
/// rebuilt from the table with a lower floor. It is also rebuilt when pushes have made it
/// large: the heap of every pair grew to a million entries in plain training, most never
/// popped, and each pop cost about a microsecond of cache misses.
struct Queue {
    heap: BinaryHeap<Candidate>,
    /// 0 when every pair with a positive count has an entry.
    floor: u64,
    /// About how many pairs a rebuild keeps.
    keep: usize,
}

impl Queue {
    /// About the `keep` pairs with the highest counts in `pick` (all tied at the cut). Every
    /// count is read once (a derived count is a dot product).
    fn top(table: &PairTable, pick: Pick, keep: usize) -> Queue {
        let mut candidates: Vec<Candidate> = (0..table.pairs.len())
            .into_par_iter()
            .filter_map(|slot| {
                let count = table.count(slot, pick);
                (count > 0).then(|| Candidate { count: count as u64, pair: table.pairs[slot], slot: slot as u32 })
            })
            .collect();
        if candidates.len() <= keep {
            return Queue { heap: BinaryHeap::from(candidates), floor: 0, keep };
        }
        let cut = candidates.len() - keep;
        let floor = candidates.select_nth_unstable_by_key(cut, |c| c.count).1.count;
        candidates.retain(|c| c.count >= floor);
        Queue { heap: BinaryHeap::from(candidates), floor, keep }
    }

    /// Adds a pair with its current count (left out when it is below the floor).
    fn push(&mut self, candidate: Candidate) {
        if candidate.count >= self.floor.max(1) {
            self.heap.push(candidate);
        }
    }

    /// The best pair in `pick` with its current count, or `None` when no count is positive.
    fn pop_best(&mut self, table: &PairTable, pick: Pick) -> Option<Candidate> {
        // Merges push the new pairs they make, most of them rare: drop those again before the
        // heap outgrows the cache.
        if self.heap.len() > self.keep.saturating_mul(4) {
            *self = Self::top(table, pick, self.keep);
        }
        loop {
            match self.pop_current(table, pick) {
                Some(top) => return Some(top),
                None if self.floor == 0 => return None,
                // A left-out pair may now be the best.
                None => *self = Self::top(table, pick, self.keep),
            }
        }
    }

    /// Pops the best entry whose count is current: an entry whose count is stale is pushed
    /// back with the current count (counts only fall between pushes, so the first entry that
    /// is current is the maximum).
    fn pop_current(&mut self, table: &PairTable, pick: Pick) -> Option<Candidate> {
        while let Some(top) = self.heap.pop() {
            let current = table.count(top.slot as usize, pick).max(0) as u64;
            if current == top.count {
                return Some(top);
            }
            self.push(Candidate { count: current, ..top });
        }
        None
    }
}

/// How many words ahead the merge loop starts loading a word's ids (and twice as many, where
/// the word is).
const PREFETCH_WORDS: usize = 16;

/// Words merged, then applied to the table, at a time: the changes of a block stay in cache
/// and take a few megabytes at most.
const MERGE_BLOCK_WORDS: usize = 1 << 15;

/// Pairs a queue keeps when it is built: enough that rebuilds are rare in plain training.
const QUEUE_PAIRS: usize = 1 << 16;

/// Pairs kept in the heap soft selection rebuilds after each reweighting: a handful of merges
/// happen between two rebuilds, so heaping more would be mostly wasted.
const SOFT_HEAP_PAIRS: usize = 1 << 14;

impl Heaps {
    /// One queue per pick; only the global one for soft selection, which never picks a column.
    fn build(table: &PairTable, soft: bool) -> Heaps {
        let picks = if soft { 1 } else { table.n_columns + 1 };
        Heaps((0..picks).map(|h| Queue::top(table, Self::pick_of(h), QUEUE_PAIRS)).collect())
    }

    /// The pick a heap index stands for: 0 is global, then one per column.
    fn pick_of(h: usize) -> Pick {
        if h == 0 {
            Pick::Global
        } else {
            Pick::Column(h - 1)
        }
    }

    fn queue(&mut self, pick: Pick) -> &mut Queue {
        match pick {
            Pick::Global => &mut self.0[0],
            Pick::Column(c) => &mut self.0[c + 1],
        }
    }
}

/// Learns merges on `input`.
///
/// `token_bytes` holds the bytes of every id that exists so far (indexed by id, the byte
/// tokens included); new tokens are appended to it. With a `balancer`, each step's merge is
/// chosen by the counts it picks (see [`super::balance`]); without, by the global counts.
/// `on_merge(new_tokens)` is called after each merge.
pub fn learn_merges(
    input: MergeInput,
    token_bytes: &mut Vec<Vec<u8>>,
    limits: MergeLimits,
    mut balancer: Option<&mut Balancer>,
    mut on_merge: impl FnMut(usize),
) -> MergeOutput {
    let MergeInput { mut words, mut weights, weight_scale, languages, column_of, n_columns, column_factors } = input;
    let mut index: AHashMap<Vec<u8>, TokenId> =
        token_bytes.iter().enumerate().map(|(id, b)| (b.clone(), id as TokenId)).collect();
    let columns = WordColumns { languages: &languages, column_of: &column_of, n_columns };
    let mut lengths = ColumnLengths { bytes: vec![0; n_columns], tokens: vec![0; n_columns] };
    for w in 0..words.len() {
        let word = words.get(w);
        let bytes: u64 = word.iter().map(|&t| token_bytes[t as usize].len() as u64).sum();
        for (c, n) in columns.of(w) {
            lengths.bytes[c] += bytes * n;
            lengths.tokens[c] += word.len() as u64 * n;
        }
    }
    let mut table = count_pairs(&words, &weights, columns);
    let soft = balancer.as_deref().is_some_and(|b| b.is_soft());
    if soft {
        table.derive_global(column_factors.iter().map(|&f| f as i64).collect());
        weights = Vec::new();
    }
    let mut heaps = Heaps::build(&table, soft);
    let min_frequency = limits.min_frequency.max(1);
    let mut merges = Vec::with_capacity(limits.max_new_tokens);
    let initial_len = token_bytes.len();
    let target_len = initial_len + limits.max_new_tokens;
    let mut touched: Vec<(u32, u32)> = Vec::new();
    let mut merged = MergedWords::default();

    while token_bytes.len() < target_len {
        if let Some(lambda) = balancer.as_deref_mut().and_then(|b| b.reweight(&lengths.bytes, &lengths.tokens)) {
            reweight(&lambda, &column_factors, &mut table, &mut heaps);
        }
        let pick = balancer.as_deref().map_or(Pick::Global, |b| b.pick(&lengths.bytes, &lengths.tokens));
        let floor = match pick {
            Pick::Global => min_frequency.saturating_mul(weight_scale.max(1)),
            Pick::Column(_) => min_frequency,
        };
        let best = heaps.queue(pick).pop_best(&table, pick);
        let Some(top) = best.filter(|top| top.count >= floor) else {
            match (pick, balancer.as_deref_mut()) {
                (Pick::Column(c), Some(b)) => {
                    b.exhaust(c);
                    continue;
                }
                _ => break,
            }
        };
        let slot = top.slot as usize;
        let (left, right) = top.pair;
        let joined: Vec<u8> = [&token_bytes[left as usize][..], &token_bytes[right as usize][..]].concat();
        if limits.max_token_bytes.is_some_and(|max| joined.len() > max)
            || limits.max_token_words.is_some_and(|max| super::superword::token_words(&joined) > max)
        {
            clear_counts(&mut table, slot);
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
        merges.push(LearnedMerge {
            left,
            right,
            result,
            count: top.count,
            column: match pick {
                Pick::Global => None,
                Pick::Column(c) => Some(c as u16),
            },
        });

        let mut positions = std::mem::take(&mut table.holders[slot]);
        positions.sort_unstable();
        positions.dedup();
        clear_counts(&mut table, slot);
        touched.clear();
        // Merge a block of words, recording what changed, then apply the changes: two tight
        // loops whose cache misses overlap better than one loop doing both (plain training's
        // loop took 1.52 s that way, 1.34 s this way).
        for block in positions.chunks(MERGE_BLOCK_WORDS) {
            merge_words(&mut words, block, top.pair, result, &weights, columns.any(), &mut merged);
            apply_changes(&mut merged, &mut table, columns, &mut touched, &mut lengths);
        }
        // Pairs whose count grew get a fresh heap entry; stale ones are fixed when popped.
        touched.sort_unstable();
        touched.dedup();
        for &(s, h) in &touched {
            let count = table.count(s as usize, Heaps::pick_of(h as usize));
            if count > 0 {
                heaps.0[h as usize].push(Candidate { count: count as u64, pair: table.pairs[s as usize], slot: s });
            }
        }
        if let Some(b) = balancer.as_deref_mut() {
            b.merged(pick, top.pair, result);
        }
        on_merge(token_bytes.len() - initial_len);
    }
    let mut language_tokens = vec![0u64; column_of.len()];
    for w in 0..words.len() {
        for &(lang, n) in word_languages(&languages, w) {
            language_tokens[lang as usize] += words.get(w).len() as u64 * n;
        }
    }
    MergeOutput { merges, lengths, language_tokens }
}

/// A change a merge made to one pair of one word, recorded as the word is merged and applied
/// to the pair table afterwards.
#[derive(Clone, Copy, Debug)]
struct Change {
    pair: Pair,
    /// The pair's slot, once [`apply_changes`] has looked it up, or [`NEW_PAIR`].
    slot: u32,
    word: u32,
    /// -1 (the word lost the pair) or +1 (gained it).
    delta: i8,
    /// `delta` times the word's weight (0 for soft selection, which keeps no word weights).
    weighted: i64,
}

/// [`Change::slot`] not looked up yet, or of a pair the table did not hold yet.
const NEW_PAIR: u32 = u32::MAX;

/// What merging a block of words did: the changes in word order, and (when there are columns,
/// whose token counts follow) each word's tokens saved.
#[derive(Debug, Default)]
struct MergedWords {
    changes: Vec<Change>,
    saved: Vec<(u32, u32)>,
}

/// Merges `pair` into `result` in each of `block` (ascending words), recording what changed
/// in `out` (the changes' slots are found when they are applied). `weights` is empty for soft
/// selection.
fn merge_words(words: &mut Words, block: &[u32], pair: Pair, result: TokenId, weights: &[u64], keep_saved: bool, out: &mut MergedWords) {
    out.changes.clear();
    out.saved.clear();
    for (i, &w) in block.iter().enumerate() {
        // The words are far apart in memory and each costs a few cache misses: start loading
        // where the words a little ahead are, and the ids of those nearer.
        if let Some(&ahead) = block.get(i + 2 * PREFETCH_WORDS) {
            words.prefetch_place(ahead as usize);
            if let Some(weight) = weights.get(ahead as usize) {
                crate::table::prefetch(weight);
            }
        }
        if let Some(&near) = block.get(i + PREFETCH_WORDS) {
            words.prefetch_ids(near as usize);
        }
        let weight = weights.get(w as usize).map_or(0, |&x| x as i64);
        let saved = words.merge(w as usize, pair, result, |changed, delta| {
            if changed != pair {
                out.changes.push(Change { pair: changed, slot: NEW_PAIR, word: w, delta: delta as i8, weighted: delta * weight });
            }
        });
        if keep_saved {
            out.saved.push((w, saved as u32));
        }
    }
}

/// How many changes ahead [`apply_changes`] finds a change's slot (and starts loading its
/// counts), and twice as many, where the slot is.
const PREFETCH_CHANGES: usize = 16;

/// Applies what merging some words changed to the pair table (counts, holders), noting in
/// `touched` the `(slot, heap)` of every count that grew, and to the columns' token counts.
fn apply_changes(
    merged: &mut MergedWords,
    table: &mut PairTable,
    columns: WordColumns,
    touched: &mut Vec<(u32, u32)>,
    lengths: &mut ColumnLengths,
) {
    let soft = table.is_soft();
    let changes = &mut merged.changes;
    for i in 0..changes.len() {
        // The lookups are cache misses: overlap them by finding slots a few changes ahead.
        if let Some(far) = changes.get(i + 2 * PREFETCH_CHANGES) {
            table.slot_of.prefetch(far.pair);
        }
        if let Some(near) = changes.get_mut(i + PREFETCH_CHANGES) {
            if let Some(slot) = table.slot_of.get(near.pair) {
                near.slot = slot;
                if let Some(count) = table.global.get(slot as usize) {
                    crate::table::prefetch(count);
                }
                crate::table::prefetch(&table.holders[slot as usize]);
            }
        }
        let change = changes[i];
        // A pair without a slot a few changes ago may have one by now.
        let s = if change.slot == NEW_PAIR { table.slot(change.pair) } else { change.slot as usize };
        let w = change.word as usize;
        if !soft {
            table.global[s] += change.weighted;
        }
        let delta = change.delta as i64;
        for (c, n) in columns.of(w) {
            table.columns[s * columns.n_columns + c] += delta * n as i64;
        }
        if delta > 0 {
            // A word gaining a pair twice needs one entry (a long piece would otherwise hold
            // one per occurrence).
            if table.holders[s].last() != Some(&change.word) {
                table.holders[s].push(change.word);
            }
            touched.push((s as u32, 0));
            if !soft {
                touched.extend(columns.of(w).map(|(c, _)| (s as u32, c as u32 + 1)));
            }
        }
    }
    for &(w, saved) in &merged.saved {
        for (c, n) in columns.of(w as usize) {
            lengths.tokens[c] -= saved as u64 * n;
        }
    }
}

/// Soft selection: scales every column's factor by `lambda` (the table's weighted counts
/// follow, being derived from the columns) and rebuilds the global heap.
fn reweight(lambda: &[f64], column_factors: &[u64], table: &mut PairTable, heaps: &mut Heaps) {
    let factors: Vec<i64> = column_factors.iter().zip(lambda).map(|(&f, &l)| (f as f64 * l).round() as i64).collect();
    table.factors = Some(factors);
    *heaps.queue(Pick::Global) = Queue::top(table, Pick::Global, SOFT_HEAP_PAIRS);
}

/// Zeroes a pair's counts (merged, or refused by `max_token_bytes` or `max_token_words`).
fn clear_counts(table: &mut PairTable, slot: usize) {
    if !table.is_soft() {
        table.global[slot] = 0;
    }
    let n = table.n_columns;
    table.columns[slot * n..(slot + 1) * n].fill(0);
}

/// Counts all adjacent pairs, in parallel, and records which words hold each pair. Slots are
/// numbered in pair order, so the table does not depend on thread count.
fn count_pairs(words: &Words, weights: &[u64], columns: WordColumns) -> PairTable {
    let n_columns = columns.n_columns;
    /// Per pair: its weighted count and its raw count in each column (empty without columns).
    type Counts = AHashMap<Pair, (i64, Vec<i64>)>;
    let (mut counts, mut found) = (0..words.len())
        .into_par_iter()
        .with_min_len(1024)
        .fold(
            || (Counts::new(), AHashMap::new()),
            |(mut counts, mut found): (Counts, AHashMap<Pair, Vec<u32>>), w| {
                for pair in words.get(w).windows(2) {
                    let pair = (pair[0], pair[1]);
                    let (global, by_column) = counts.entry(pair).or_insert_with(|| (0, vec![0; n_columns]));
                    *global += weights[w] as i64;
                    for (c, n) in columns.of(w) {
                        by_column[c] += n as i64;
                    }
                    // One entry per word, however often the pair occurs in it.
                    let holders: &mut Vec<u32> = found.entry(pair).or_default();
                    if holders.last() != Some(&(w as u32)) {
                        holders.push(w as u32);
                    }
                }
                (counts, found)
            },
        )
        .reduce(
            || (Counts::new(), AHashMap::new()),
            |(mut counts, mut found), (c2, f2)| {
                for (pair, (global, columns)) in c2 {
                    let (into_global, into_columns) = counts.entry(pair).or_insert_with(|| (0, vec![0; n_columns]));
                    *into_global += global;
                    into_columns.iter_mut().zip(columns).for_each(|(into, n)| *into += n);
                }
                for (pair, mut w) in f2 {
                    found.entry(pair).or_default().append(&mut w);
                }
                (counts, found)
            },
        );
    let mut pairs: Vec<Pair> = counts.keys().copied().collect();
    pairs.par_sort_unstable();
    let mut global = Vec::with_capacity(pairs.len());
    let mut columns = Vec::with_capacity(pairs.len() * n_columns);
    for pair in &pairs {
        let (count, by_column) = counts.remove(pair).unwrap_or_default();
        global.push(count);
        columns.extend(by_column);
    }
    let holders: Vec<Holders> = pairs.iter().map(|p| Holders::from_vec(found.remove(p).unwrap_or_default())).collect();
    let slot_of = PairSlots::numbering(&pairs);
    PairTable { slot_of, pairs, global, columns, n_columns, holders, factors: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of `counts.len()` pairs with these global counts.
    fn table_with(counts: &[i64]) -> PairTable {
        let pairs: Vec<Pair> = (0..counts.len() as u32).map(|i| (i, i + 1)).collect();
        PairTable {
            slot_of: PairSlots::numbering(&pairs),
            pairs,
            global: counts.to_vec(),
            columns: Vec::new(),
            n_columns: 0,
            holders: vec![Holders::new(); counts.len()],
            factors: None,
        }
    }

    /// Pops everything, zeroing each popped count and raising one left-out pair on the way, as
    /// merges do.
    fn drain(table: &mut PairTable, mut queue: Queue) -> Vec<(Pair, u64)> {
        let mut order = Vec::new();
        while let Some(top) = queue.pop_best(table, Pick::Global) {
            order.push((top.pair, top.count));
            table.global[top.slot as usize] = 0;
            if order.len() == 3 {
                table.global[7] += 500;
                queue.push(Candidate { count: table.global[7] as u64, pair: table.pairs[7], slot: 7 });
            }
            if order.len() == 5 {
                table.global[40] -= 1; // counts also fall
            }
        }
        order
    }

    #[test]
    fn a_partial_queue_pops_what_a_complete_one_does() {
        let counts: Vec<i64> = (0..200).map(|i| (i * 37 % 101) as i64).collect();
        let complete = drain(&mut table_with(&counts), Queue::top(&table_with(&counts), Pick::Global, usize::MAX));
        let mut table = table_with(&counts);
        let top = Queue::top(&table, Pick::Global, 10);
        assert!(top.floor > 0 && top.heap.len() < 20, "floor {} with {} entries", top.floor, top.heap.len());
        assert_eq!(drain(&mut table, top), complete);
        assert_eq!(complete.len(), counts.iter().filter(|&&c| c > 0).count());
    }

    /// Pops with a small queue while counts rise (pushed, as merges push the pairs they make)
    /// and fall (not pushed), checking every pop against the best pair of the whole table.
    #[test]
    fn a_small_queue_always_pops_the_best_pair() {
        // Few pairs have counts at first, so the queue starts complete (floor 0), as plain
        // training's does with its byte pairs.
        let counts: Vec<i64> = (0..3000).map(|i| if i % 500 == 7 { 100 + i as i64 } else { 0 }).collect();
        let mut table = table_with(&counts);
        let mut queue = Queue::top(&table, Pick::Global, 8);
        assert_eq!(queue.floor, 0);
        let mut state = 12345u64;
        let mut next = |n: u64| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let (mut pops, mut most_entries) = (0, 0);
        loop {
            most_entries = most_entries.max(queue.heap.len());
            let best = (0..table.pairs.len())
                .filter(|&s| table.global[s] > 0)
                .max_by(|&a, &b| table.global[a].cmp(&table.global[b]).then_with(|| table.pairs[b].cmp(&table.pairs[a])));
            let popped = queue.pop_best(&table, Pick::Global);
            assert_eq!(popped.map(|c| c.slot as usize), best, "pop {pops}");
            let Some(top) = popped else { break };
            assert_eq!(top.count, table.global[top.slot as usize] as u64);
            table.global[top.slot as usize] = 0;
            pops += 1;
            for _ in 0..20 {
                let slot = next(table.pairs.len() as u64) as usize;
                if next(3) == 0 && table.global[slot] > 0 {
                    table.global[slot] -= 1 + next(table.global[slot] as u64) as i64;
                } else if pops < 2000 {
                    let range = if next(50) == 0 { 200 } else { 3 };
                    table.global[slot] += 1 + next(range) as i64;
                    queue.push(Candidate { count: table.global[slot] as u64, pair: table.pairs[slot], slot: slot as u32 });
                }
            }
        }
        assert!(pops > 2000);
        // The rare pairs pushed were dropped again (a rebuild keeps every pair tied at its cut,
        // so more than `keep`); the heap of every push would have held thousands.
        assert!(most_entries < 400, "{most_entries} entries");
    }

    fn bytes_table() -> Vec<Vec<u8>> {
        (0..=255u8).map(|b| vec![b]).collect()
    }

    fn plain(words: Vec<Vec<TokenId>>, weights: &[u64], table: &mut Vec<Vec<u8>>, limits: MergeLimits) -> Vec<LearnedMerge> {
        let input = MergeInput { words: words.into_iter().collect(), weights: weights.to_vec(), weight_scale: 1, ..Default::default() };
        learn_merges(input, table, limits, None, |_| {}).merges
    }

    #[test]
    fn learns_most_frequent_pairs_with_documented_ties() {
        let words: Vec<Vec<TokenId>> = vec![b"abab".iter().map(|&b| b as u32).collect(), b"cd".iter().map(|&b| b as u32).collect()];
        let mut table = bytes_table();
        let limits = MergeLimits { max_new_tokens: 10, min_frequency: 1, max_token_bytes: None, max_token_words: None };
        let merges = plain(words, &[1, 2], &mut table, limits);
        // (a,b) occurs twice with weight 1 and (c,d) once with weight 2: tie at 2, (a,b) is the
        // smaller pair. Then (c,d)=2, then (ab,ab)=1, (b,a) is gone.
        let learned: Vec<(&[u8], u64)> = merges.iter().map(|m| (&table[m.result as usize][..], m.count)).collect();
        assert_eq!(learned, vec![(&b"ab"[..], 2), (b"cd", 2), (b"abab", 1)]);
    }

    /// Learns merges the slow way: recount every pair of every word before each merge.
    fn recounting_merges(mut words: Vec<Vec<TokenId>>, weights: &[u64], table: &mut Vec<Vec<u8>>, max_new_tokens: usize) -> Vec<(Pair, TokenId, u64)> {
        let mut merges = Vec::new();
        let target_len = table.len() + max_new_tokens;
        while table.len() < target_len {
            let mut counts = std::collections::BTreeMap::<Pair, u64>::new();
            for (word, &weight) in words.iter().zip(weights) {
                for pair in word.windows(2) {
                    *counts.entry((pair[0], pair[1])).or_default() += weight;
                }
            }
            // The highest count, then the smaller pair.
            let Some((&pair, &count)) = counts.iter().rev().max_by_key(|(_, &count)| count) else { break };
            let joined = [&table[pair.0 as usize][..], &table[pair.1 as usize][..]].concat();
            let result = match table.iter().position(|t| *t == joined) {
                Some(id) => id as TokenId,
                None => {
                    table.push(joined);
                    table.len() as TokenId - 1
                }
            };
            for word in &mut words {
                let len = super::super::words::apply_merge(word, pair, result, |_, _| {});
                word.truncate(len);
            }
            merges.push((pair, result, count));
        }
        merges
    }

    proptest::proptest! {
        /// The incremental loop learns what recounting every pair before each merge learns, on
        /// words with many repeats (so merges change many pairs, and make ids that spell
        /// existing tokens).
        #[test]
        fn the_loop_learns_what_recounting_learns(
            words in proptest::collection::vec(proptest::collection::vec(0u32..5, 0..40), 1..60),
            weight_seed in 0u64..1000,
        ) {
            let weights: Vec<u64> = (0..words.len() as u64).map(|w| 1 + (w * 7 + weight_seed) % 13).collect();
            let limits = MergeLimits { max_new_tokens: 40, min_frequency: 1, max_token_bytes: None, max_token_words: None };
            let mut table = bytes_table();
            let learned: Vec<(Pair, TokenId, u64)> =
                plain(words.clone(), &weights, &mut table, limits).iter().map(|m| ((m.left, m.right), m.result, m.count)).collect();
            let mut expected_table = bytes_table();
            proptest::prop_assert_eq!(learned, recounting_merges(words, &weights, &mut expected_table, 40));
            proptest::prop_assert_eq!(table, expected_table);
        }
    }

    #[test]
    fn pair_slots_grow_and_keep_every_slot() {
        let pairs: Vec<Pair> = (0..3u32).map(|i| (i, i)).collect();
        let mut slots = PairSlots::numbering(&pairs);
        let capacity = slots.0.capacity();
        for i in 3..10_000u32 {
            slots.insert((i % 97, i), i);
        }
        assert!(slots.0.capacity() > capacity && slots.0.len() * 4 <= slots.0.capacity() * 3);
        assert_eq!((0..3).map(|i| slots.get((i, i))).collect::<Vec<_>>(), vec![Some(0), Some(1), Some(2)]);
        assert!((3..10_000u32).all(|i| slots.get((i % 97, i)) == Some(i)));
        assert_eq!(slots.get((5, 3)), None);
    }

    #[test]
    fn counts_are_u64() {
        let words = vec![vec![b' ' as u32, b' ' as u32]];
        let mut table = bytes_table();
        let big = 3_000_000_000u64; // above i32::MAX
        let merges = plain(words, &[big], &mut table, MergeLimits { max_new_tokens: 1, min_frequency: 2, max_token_bytes: None, max_token_words: None });
        assert_eq!(merges[0].count, big);
    }

    #[test]
    fn max_token_bytes_skips_long_merges() {
        let words = vec![b"aaaa".iter().map(|&b| b as u32).collect()];
        let mut table = bytes_table();
        let limits = MergeLimits { max_new_tokens: 10, min_frequency: 1, max_token_bytes: Some(2), max_token_words: None };
        let merges = plain(words, &[5], &mut table, limits);
        assert_eq!(merges.len(), 1);
        assert_eq!(table[merges[0].result as usize], b"aa");
    }

    use super::super::balance::{Column, DevText, ParityConfig, Target, Window};

    /// Two languages: "a" (column 0) repeats `x y`, "b" (column 1) repeats `p q`, "a" three
    /// times as often. Dev text: one word per language, "b"'s the longer.
    fn two_languages() -> (MergeInput, Vec<Column>, DevText) {
        let words = [vec![1, 2, 1, 2, 1, 2], vec![3, 4, 3, 4, 3, 4]].into_iter().collect();
        let languages = [vec![(0, 30)], vec![(1, 10)]].into_iter().collect();
        let input = MergeInput {
            words,
            weights: vec![30, 10],
            weight_scale: 1,
            languages,
            column_of: vec![Some(0), Some(1)],
            n_columns: 2,
            column_factors: vec![1, 1],
        };
        let cols = vec![Column { lang: "a".into(), target: Target::Dev }, Column { lang: "b".into(), target: Target::Dev }];
        let dev = DevText::new(vec![vec![1, 2], vec![3, 4, 3, 4]], vec![vec![(0, 1)], vec![(1, 1)]], 2);
        (input, cols, dev)
    }

    #[test]
    fn parity_merges_for_the_language_with_most_dev_tokens() {
        let (input, cols, dev) = two_languages();
        let limits = MergeLimits { max_new_tokens: 1, min_frequency: 1, max_token_bytes: None, max_token_words: None };
        // Plain BPE takes (1, 2): 90 occurrences against 30.
        let words = (0..input.words.len()).map(|w| input.words.get(w).to_vec()).collect();
        let plain_merges = plain(words, &input.weights, &mut bytes_table(), limits);
        assert_eq!((plain_merges[0].left, plain_merges[0].right), (1, 2));
        // Parity serves "b", whose dev text is longer: (3, 4), chosen by column 1.
        let mut balancer = Balancer::new(cols, dev, &ParityConfig::default());
        let MergeOutput { merges, lengths, language_tokens } = learn_merges(input, &mut bytes_table(), limits, Some(&mut balancer), |_| {});
        assert_eq!((merges[0].left, merges[0].right, merges[0].column), (3, 4, Some(1)));
        assert_eq!(language_tokens, vec![180, 30]);
        assert_eq!(merges[0].count, 30);
        // Dev and training token counts follow the merge.
        assert_eq!(balancer.dev_tokens(), vec![2, 2]);
        assert_eq!(lengths.tokens, vec![180, 30]);
        assert_eq!(lengths.bytes, vec![180, 60]);
    }

    #[test]
    fn parity_then_plain_once_languages_are_even() {
        let (input, cols, dev) = two_languages();
        let config = ParityConfig { tolerance: Some(0.0), ..ParityConfig::default() };
        let mut balancer = Balancer::new(cols, dev, &config);
        let limits = MergeLimits { max_new_tokens: 2, min_frequency: 1, max_token_bytes: None, max_token_words: None };
        let merges = learn_merges(input, &mut bytes_table(), limits, Some(&mut balancer), |_| {}).merges;
        // After (3, 4) both dev texts have 2 tokens: the next merge is plain, (1, 2).
        let picked: Vec<(TokenId, TokenId, Option<u16>)> = merges.iter().map(|m| (m.left, m.right, m.column)).collect();
        assert_eq!(picked, vec![(3, 4, Some(1)), (1, 2, None)]);
    }

    #[test]
    fn ratio_mode_serves_the_language_below_its_target() {
        let (input, _, _) = two_languages();
        // "a" wants 1.0 bytes/token (met from the start), "b" 3.0.
        let cols = vec![Column { lang: "a".into(), target: Target::Ratio(1.0) }, Column { lang: "b".into(), target: Target::Ratio(3.0) }];
        let mut balancer = Balancer::new(cols, DevText::new(vec![], vec![], 2), &ParityConfig::default());
        let limits = MergeLimits { max_new_tokens: 2, min_frequency: 1, max_token_bytes: None, max_token_words: None };
        let MergeOutput { merges, lengths, .. } = learn_merges(input, &mut bytes_table(), limits, Some(&mut balancer), |_| {});
        assert!(merges.iter().all(|m| m.column == Some(1)), "{merges:?}");
        assert_eq!(lengths.tokens[1], 20); // "pq pq pq" → "pqpq" "pq" after two merges
    }

    #[test]
    fn exhausted_language_hands_over() {
        let (input, cols, dev) = two_languages();
        let mut balancer = Balancer::new(cols, dev, &ParityConfig::default());
        // min_frequency 31: column 1's pairs (30) are below it; column 0's (3 · 30 = 90) are not.
        let limits = MergeLimits { max_new_tokens: 1, min_frequency: 31, max_token_bytes: None, max_token_words: None };
        let merges = learn_merges(input, &mut bytes_table(), limits, Some(&mut balancer), |_| {}).merges;
        assert_eq!((merges[0].left, merges[0].right, merges[0].column), (1, 2, Some(0)));
    }

    #[test]
    fn window_caps_picks_in_the_merge_loop() {
        // Column 0's dev text stays far longer, so it would take every merge without the cap.
        let words = (0..40).map(|i| vec![10 + i, 100 + i]).collect();
        let languages: Ragged<(LangId, u64)> = (0..40).map(|i| vec![((i % 2) as LangId, 100 - i as u64)]).collect();
        let weights = (0..40).map(|w| languages.row(w)[0].1).collect();
        let input = MergeInput {
            words,
            weights,
            weight_scale: 1,
            languages,
            column_of: vec![Some(0), Some(1)],
            n_columns: 2,
            column_factors: vec![1, 1],
        };
        let dev = DevText::new(vec![vec![1; 1000], vec![2; 10]], vec![vec![(0, 1)], vec![(1, 1)]], 2);
        let cols = vec![Column { lang: "a".into(), target: Target::Dev }, Column { lang: "b".into(), target: Target::Dev }];
        let config = ParityConfig { window: Some(Window { size: 6, alpha: 1.0 }), ..ParityConfig::default() };
        let mut balancer = Balancer::new(cols, dev, &config);
        let limits = MergeLimits { max_new_tokens: 30, min_frequency: 1, max_token_bytes: None, max_token_words: None };
        let mut table: Vec<Vec<u8>> = (0..200).map(|i| vec![(i % 256) as u8, (i / 256) as u8]).collect();
        let merges = learn_merges(input, &mut table, limits, Some(&mut balancer), |_| {}).merges;
        assert_eq!(merges.len(), 30);
        for window in merges.windows(6) {
            let a = window.iter().filter(|m| m.column == Some(0)).count();
            assert!(a <= 3, "column 0 took {a} of 6: {merges:?}");
        }
        assert!(merges.iter().filter(|m| m.column == Some(0)).count() >= 14);
    }
}

