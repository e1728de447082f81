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

use std::borrow::Cow;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::LangId;

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

/// A word of one worker's batch, borrowed from the batch's text unless normalization changed it.
pub(super) struct BatchWord<'a> {
    pub hash: u64,
    /// See [`CountedWord::head`].
    pub head: u64,
    pub lang: LangId,
    pub count: u64,
    pub word: Cow<'a, [u8]>,
}

/// A worker's counts of (language, word) for one batch, in the shards of the running counts.
pub(super) struct BatchTable<'a> {
    shards: Vec<HashTable<BatchWord<'a>>>,
}

impl Default for BatchTable<'_> {
    fn default() -> Self {
        BatchTable { shards: (0..SHARDS).map(|_| HashTable::new()).collect() }
    }
}

impl<'a> BatchTable<'a> {
    /// Counts one occurrence of `word` in `lang`; `owned` gives the word when the table must
    /// keep it (it is met for the first time), borrowed from the text when possible.
    pub fn add(&mut self, lang: LangId, word: &[u8], owned: impl FnOnce() -> Cow<'a, [u8]>) {
        let (hash, head) = (word_hash(word), head_of(word));
        let table = &mut self.shards[shard_of(hash)];
        match table.find_mut(hash, |e| e.hash == hash && e.lang == lang && same_word(e.head, &e.word, head, word)) {
            Some(entry) => entry.count += 1,
            None => {
                table.insert_unique(hash, BatchWord { hash, head, lang, count: 1, word: owned() }, |e| e.hash);
            }
        }
    }

    /// The words of one shard.
    pub fn shard(&self, shard: usize) -> impl Iterator<Item = &BatchWord<'a>> {
        self.shards[shard].iter()
    }
}

/// A distinct word of the running counts, with its non-zero counts by language (sorted). Its
/// hash is not kept (it is computed again when the table grows): a word's head and length
/// tell most words apart, and the running counts are the largest table of training.
pub(super) struct CountedWord {
    /// The word's first eight bytes (zero-padded): most words are no longer, so most lookups
    /// and sort comparisons never load the word from the heap.
    pub head: u64,
    pub word: Box<[u8]>,
    pub counts: Vec<(LangId, u64)>,
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

/// One shard of the running counts.
#[derive(Default)]
pub(super) struct CountShard {
    pub words: HashTable<CountedWord>,
}

impl CountShard {
    /// Adds a worker's count of a word to this shard (the word's hash must fall in it).
    pub fn absorb(&mut self, from: &BatchWord<'_>) {
        let (hash, head) = (from.hash, from.head);
        match self.words.find_mut(hash, |e| same_word(e.head, &e.word, head, &from.word)) {
            Some(entry) => add_count(&mut entry.counts, from.lang, from.count),
            None => {
                let word = CountedWord { head, word: Box::from(&*from.word), counts: vec![(from.lang, from.count)] };
                self.words.insert_unique(hash, word, |e| word_hash(&e.word));
            }
        }
    }
}

/// Adds `n` occurrences in `lang` to sparse counts sorted by language.
fn add_count(counts: &mut Vec<(LangId, u64)>, lang: LangId, n: u64) {
    match counts.binary_search_by_key(&lang, |&(l, _)| l) {
        Ok(i) => counts[i].1 += n,
        Err(i) => counts.insert(i, (lang, n)),
    }
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
