//! The hash tables of counting: a word is hashed once, where it is cut from the text, and its
//! hash travels with it from a worker's table into a shard of the running counts.
//!
//! Measured on all of `../shared/corpus/train` (122 MB, GPT-2 split, 2 cores; benches/RESULTS.md,
//! "Counting against gigatoken"): with `ahash` maps keyed by the word, each word was hashed three
//! times (worker, merge of workers, running counts), key comparisons (`memcmp`) were a fifth of
//! the profile, and the running counts absorbed each batch on one thread. Here a worker's table
//! is already cut into the shards of the running counts, so a batch is absorbed shard by shard
//! on all cores; no word is hashed twice, and words of up to eight bytes are compared by their
//! stored head without loading them.
//!
//! The running counts then keyed a boxed word to a vector of counts by language; keyed by
//! (language, word) with the count inline and the words in an arena ([`CountShard`]), `vocab
//! count` on the same corpus went from 1.76–1.87 to 1.50–1.52 CPU-seconds and from 1.35–1.91 to
//! 1.08–1.14 s (interleaved runs beside two background jobs), at the same peak memory.
//!
//! Words of up to 16 bytes then went to a flat table of 32-byte slots keyed by the word and its
//! language, its slots prefetched a run of words ahead ([`BatchTable`]): `vocab count` (GPT-2
//! split, same corpus, 3 interleaved runs) from 1.33–1.36 to 1.07–1.13 s and from 2.00–2.04 to
//! 1.62–1.69 CPU-seconds, the same count file.
//!
//! Tried and dropped: worker tables kept across batches (owning their words in an arena) made
//! absorbing a third as long but counting a fifth longer, their tables no longer fitting the
//! caches: the same wall time. A direct-mapped front table of the last 1,024 short words of each
//! worker (two thirds of the pieces hit it in a simulation) changed no measurable time: the hot
//! words' slots of the worker tables are in cache anyway.

use std::borrow::Cow;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::LangId;
use crate::piece_cache::{PieceKey, PieceTable, TAGGED_MAX};

/// Shards of the word tables. Any power of two gives the same counts; 64 keeps every core busy
/// while a batch is absorbed and leaves the tables of one worker small.
pub(super) const SHARDS: usize = 64;

/// The word's hash: fixed seeds, so a run's memory layout does not vary (the counts never
/// depend on it: they are sorted by word at the end).
pub(super) fn word_hash(word: &[u8]) -> u64 {
    const STATE: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x5eed_cafe_d00d_f00d);
    STATE.hash_one(word)
}

/// The shard of a hash: bits the tables themselves do not use for their slots (the lowest
/// bits) or tags (the top seven), so each shard's table still sees well-spread hashes.
pub(super) fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize & (SHARDS - 1)
}

/// A word of one worker's batch.
pub(super) struct BatchWord<'a> {
    pub hash: u64,
    /// See [`head_of`].
    pub head: u64,
    pub lang: LangId,
    pub count: u64,
    pub word: WordBytes<'a>,
}

/// The bytes of a [`BatchWord`]: a short word's inline, a longer one's borrowed from the batch's
/// text unless normalization changed it.
pub(super) enum WordBytes<'a> {
    Inline { bytes: [u8; TAGGED_MAX], len: u8 },
    Text(Cow<'a, [u8]>),
}

impl std::ops::Deref for WordBytes<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            WordBytes::Inline { bytes, len } => &bytes[..usize::from(*len)],
            WordBytes::Text(word) => word,
        }
    }
}

/// Slots of a worker's table of short words at the start of a batch (32 bytes each, 2 MB).
const FIRST_SHORT_SLOTS: usize = 1 << 16;

/// A worker's counts of (language, word) for one batch, in the shards of the running counts.
///
/// Words of up to [`TAGGED_MAX`] bytes, nearly all of any text, are counted in one flat table
/// keyed by the word and its language packed in 24 bytes, the count beside them: a slot is
/// 32 bytes, found without a pointer to follow, and the caller prefetches the slots of a run of
/// words before counting them (as the encoder does with its cache). When the batch is counted,
/// [`Self::seal`] deals them out to the shards. Longer words go to per-shard hash tables.
pub(super) struct BatchTable<'a> {
    shards: Vec<HashTable<BatchWord<'a>>>,
    short: PieceTable<u64>,
    /// The short words by shard, once sealed.
    short_words: Vec<Vec<BatchWord<'a>>>,
}

impl Default for BatchTable<'_> {
    fn default() -> Self {
        BatchTable {
            shards: (0..SHARDS).map(|_| HashTable::new()).collect(),
            short: PieceTable::with_capacity(FIRST_SHORT_SLOTS),
            short_words: Vec::new(),
        }
    }
}

impl<'a> BatchTable<'a> {
    /// Starts loading the slot of a short word's key (see [`PieceKey::tagged`]).
    #[inline(always)]
    pub fn prefetch_short(&self, hash: u64) {
        self.short.prefetch(hash);
    }

    /// Counts one occurrence of a word of 1..=[`TAGGED_MAX`] bytes, given as its key tagged
    /// with the language, and the key's hash.
    #[inline(always)]
    pub fn add_short(&mut self, key: PieceKey, hash: u64) {
        if self.short.is_full() {
            self.short.double(PieceKey::hash64);
        }
        *self.short.get_or_insert_default(key, hash) += 1;
    }

    /// Counts one occurrence of a longer `word` in `lang`; `owned` gives the word when the
    /// table must keep it (it is met for the first time), borrowed from the text when possible.
    pub fn add(&mut self, lang: LangId, word: &[u8], owned: impl FnOnce() -> Cow<'a, [u8]>) {
        let (hash, head) = (word_hash(word), head_of(word));
        let table = &mut self.shards[shard_of(hash)];
        match table.find_mut(hash, |e| e.hash == hash && e.lang == lang && same_word(e.head, &e.word, head, word)) {
            Some(entry) => entry.count += 1,
            None => {
                table.insert_unique(hash, BatchWord { hash, head, lang, count: 1, word: WordBytes::Text(owned()) }, |e| e.hash);
            }
        }
    }

    /// Deals the short words out to the shards (each hashed once here, however often it
    /// occurred) and frees their table.
    pub fn seal(&mut self) {
        let short = std::mem::replace(&mut self.short, PieceTable::with_capacity(0));
        self.short_words = (0..SHARDS).map(|_| Vec::new()).collect();
        for &(key, count) in short.entries() {
            let (bytes, len) = (key.head_bytes(), key.len());
            let word = &bytes[..len];
            let hash = word_hash(word);
            let entry = BatchWord { hash, head: head_of(word), lang: key.tag(), count, word: WordBytes::Inline { bytes, len: len as u8 } };
            self.short_words[shard_of(hash)].push(entry);
        }
    }

    /// The words of one shard (short ones once sealed).
    pub fn shard(&self, shard: usize) -> impl Iterator<Item = &BatchWord<'a>> {
        self.shards[shard].iter().chain(self.short_words.get(shard).into_iter().flatten())
    }
}

/// The first eight bytes of a word, zero-padded, as a big-endian number: these order as the
/// words do, except that two can tie where the words differ (past the eighth byte, or in
/// trailing zero bytes), which the words themselves then decide.
#[inline]
pub(super) fn head_of(word: &[u8]) -> u64 {
    match word.first_chunk::<8>() {
        Some(head) => u64::from_be_bytes(*head),
        // Shifts, not a copy into a buffer: a copy of variable length is a library call,
        // which took a tenth of counting's time.
        None => word.iter().enumerate().fold(0, |head, (i, &b)| head | (b as u64) << (56 - 8 * i)),
    }
}

/// Whether a stored word, known by its head, is `word` (of head `word_head`): equal heads and
/// lengths settle words of up to eight bytes, which the head holds whole, without loading them.
#[inline]
fn same_word(head: u64, stored: &[u8], word_head: u64, word: &[u8]) -> bool {
    head == word_head && stored.len() == word.len() && (word.len() <= 8 || same_bytes(stored, word))
}

/// One shard of the running counts: a count per (language, word), the words' bytes in one
/// arena.
///
/// Keyed by language and word, an entry holds its count inline and its word in the arena, so
/// absorbing a worker's word touches one entry and allocates nothing: with an entry per word
/// holding a boxed word and a vector of counts by language, absorbing cost three dependent
/// loads and two allocations per new word. The languages of a word meet again when the
/// caller sorts the counts of [`CountShard::take_counts`].
#[derive(Default)]
pub(super) struct CountShard {
    entries: HashTable<ShardEntry>,
    arena: Vec<u8>,
    /// Distinct words (a word counted in several languages has an entry for each).
    words: usize,
}

/// A count of one word in one language.
struct ShardEntry {
    /// See [`head_of`]: most words are no longer, so most lookups never load the arena.
    head: u64,
    start: usize,
    count: u64,
    len: u32,
    lang: LangId,
}

const _: () = assert!(std::mem::size_of::<ShardEntry>() == 32 && std::mem::size_of::<LanguageCount>() == 32);

impl ShardEntry {
    fn word<'a>(&self, arena: &'a [u8]) -> &'a [u8] {
        &arena[self.start..self.start + self.len as usize]
    }
}

/// A word of the running counts with its count in one language; the word is in the arena
/// of its shard (see [`CountShard::take_counts`]).
pub(super) struct LanguageCount {
    pub head: u64,
    start: usize,
    pub count: u64,
    len: u32,
    pub lang: LangId,
    shard: u16,
}

impl LanguageCount {
    /// The word, from the arenas of the shards it was taken from.
    #[inline]
    pub fn word<'a>(&self, arenas: &'a [Vec<u8>]) -> &'a [u8] {
        &arenas[self.shard as usize][self.start..self.start + self.len as usize]
    }
}

impl CountShard {
    /// Distinct words of this shard.
    pub fn distinct_words(&self) -> usize {
        self.words
    }

    /// Counts of this shard: one per language of each word.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds a worker's count of a word to this shard (the word's hash must fall in it).
    pub fn absorb(&mut self, from: &BatchWord<'_>) {
        let (hash, head) = (from.hash, from.head);
        let CountShard { entries, arena, words } = self;
        let mut word_known = false;
        for entry in entries.iter_hash_mut(hash) {
            if same_word(entry.head, entry.word(arena), head, &from.word) {
                if entry.lang == from.lang {
                    entry.count += from.count;
                    return;
                }
                word_known = true;
            }
        }
        *words += usize::from(!word_known);
        let start = arena.len();
        arena.extend_from_slice(&from.word);
        // Pieces are at most `MAX_PIECE_BYTES` long.
        let entry = ShardEntry { head, start, count: from.count, len: from.word.len() as u32, lang: from.lang };
        entries.insert_unique(hash, entry, |e| word_hash(e.word(arena)));
    }

    /// The counts of this shard (numbered `shard`), in no order, and the arena of their words:
    /// the table is freed first, so that its memory is not held while the caller sorts.
    pub fn take_counts(self, shard: u16, counts: &mut Vec<LanguageCount>) -> Vec<u8> {
        counts.extend(self.entries.into_iter().map(|e| LanguageCount { head: e.head, start: e.start, count: e.count, len: e.len, lang: e.lang, shard }));
        self.arena
    }

    /// Each distinct word of this shard with its total count over languages, sorted by word.
    pub fn word_totals(&self) -> Vec<(&[u8], u64)> {
        word_totals(&self.entries, &self.arena)
    }

    /// Keeps the words `keep(word, total)` accepts (with all their languages) and returns the
    /// occurrences dropped. The arena is rebuilt with the kept words only, so repeated pruning
    /// does not grow it.
    pub fn retain_words(&mut self, keep: impl Fn(&[u8], u64) -> bool) -> u64 {
        let totals = word_totals(&self.entries, &self.arena);
        let kept: Vec<bool> = totals.iter().map(|&(word, total)| keep(word, total)).collect();
        let is_kept = |word: &[u8]| kept[totals.binary_search_by(|(w, _)| (*w).cmp(word)).expect("a word of this shard")];
        let mut pruned = 0;
        let mut arena = Vec::with_capacity(self.arena.len());
        self.entries.retain(|entry| {
            let word = entry.word(&self.arena);
            if !is_kept(word) {
                pruned += entry.count;
                return false;
            }
            let start = arena.len();
            arena.extend_from_slice(word);
            entry.start = start;
            true
        });
        self.words = kept.iter().filter(|&&k| k).count();
        self.arena = arena;
        pruned
    }
}

/// See [`CountShard::word_totals`].
fn word_totals<'a>(entries: &HashTable<ShardEntry>, arena: &'a [u8]) -> Vec<(&'a [u8], u64)> {
    let mut counts: Vec<(&[u8], u64)> = entries.iter().map(|e| (e.word(arena), e.count)).collect();
    counts.sort_unstable_by(|a, b| a.0.cmp(b.0));
    counts.dedup_by(|next, kept| {
        let same = next.0 == kept.0;
        if same {
            kept.1 += next.1;
        }
        same
    });
    counts
}

/// Byte equality without a library call for the short words that make up most of a text:
/// two overlapping loads cover 4 to 16 bytes.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word8 = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
    let word4 = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap());
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn same_bytes_is_equality(a in proptest::collection::vec(0u8..4, 0..24), b in proptest::collection::vec(0u8..4, 0..24)) {
            prop_assert_eq!(same_bytes(&a, &b), a == b);
            prop_assert!(same_bytes(&a, &a.clone()));
        }

        #[test]
        fn same_bytes_sees_any_one_byte_changed(a in proptest::collection::vec(any::<u8>(), 1..40), at in any::<prop::sample::Index>()) {
            let mut b = a.clone();
            let i = at.index(a.len());
            b[i] = b[i].wrapping_add(1);
            prop_assert!(!same_bytes(&a, &b));
        }
    }

    #[test]
    fn every_shard_is_used() {
        let mut used = [false; SHARDS];
        for i in 0..10_000u32 {
            used[shard_of(word_hash(format!(" w{i}").as_bytes()))] = true;
        }
        assert!(used.iter().all(|&u| u));
    }
}
