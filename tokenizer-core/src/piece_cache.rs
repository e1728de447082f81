//! The per-thread piece → ids cache that makes encoding fast.
//!
//! Text repeats its words (Zipf), so most pieces are found here instead of being merged again.
//! Encoding is bound by memory latency on this table, so every entry is self-contained: the key
//! bytes and (almost always) the ids sit inline in one 52-byte slot, and a lookup touches one
//! cache line instead of chasing pointers to a heap key and a heap value.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::ops::Range;

use crate::bpe::TokenId;

/// A thread's cache is cleared when it reaches this many pieces (about 5 MB).
const CACHE_ENTRIES: usize = 100_000;
/// Tokenizers whose caches a thread keeps at once.
const CACHED_TOKENIZERS: usize = 4;
/// Ids stored inline in an entry; longer encodings go to the cache's overflow arena.
const INLINE_IDS: usize = 6;

/// A cached piece of 2..=23 bytes, stored inline. Longer pieces are rare and not cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PieceKey {
    len: u8,
    bytes: [u8; 23],
}

impl PieceKey {
    /// The key of a piece of 2..=23 bytes (single bytes need no cache).
    #[inline]
    pub(crate) fn new(piece: &[u8]) -> Option<PieceKey> {
        if piece.len() < 2 || piece.len() > 23 {
            return None;
        }
        let mut bytes = [0u8; 23];
        bytes[..piece.len()].copy_from_slice(piece);
        Some(PieceKey { len: piece.len() as u8, bytes })
    }

    /// The key as three little-endian words (length in the low byte of the first).
    #[inline]
    fn words(&self) -> [u64; 3] {
        let mut raw = [0u8; 24];
        raw[0] = self.len;
        raw[1..].copy_from_slice(&self.bytes);
        [
            u64::from_le_bytes(raw[0..8].try_into().unwrap()),
            u64::from_le_bytes(raw[8..16].try_into().unwrap()),
            u64::from_le_bytes(raw[16..24].try_into().unwrap()),
        ]
    }
}

impl Hash for PieceKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        let [a, b, c] = self.words();
        state.write_u64(fold_mul(a ^ 0x243f_6a88_85a3_08d3, b ^ 0x1319_8a2e_0370_7344) ^ c);
    }
}

/// The 128-bit product of `a` and `b`, folded to 64 bits: a fast, well-mixing combiner.
#[inline]
pub(crate) fn fold_mul(a: u64, b: u64) -> u64 {
    let product = (a as u128).wrapping_mul(b as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Hashes fixed-size integer keys with one folded multiply (faster than a general hasher for
/// keys that are already one word; `HashMap` uses both the high and low bits, which the fold
/// mixes well).
#[derive(Default, Clone, Copy)]
pub(crate) struct WordHasher(u64);

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.0 = fold_mul(self.0 ^ word ^ 0x9e37_79b9_7f4a_7c15, 0xa076_1d64_78bd_642f);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by small fixed-size values, hashed with [`WordHasher`].
pub(crate) type WordMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// The ids of a cached piece: inline when there are at most [`INLINE_IDS`], otherwise
/// `ids[0]` is an offset into the overflow arena.
#[derive(Clone, Copy)]
struct CachedIds {
    len: u32,
    ids: [TokenId; INLINE_IDS],
}

/// One tokenizer's piece cache on one thread.
#[derive(Default)]
pub(crate) struct PieceCache {
    entries: WordMap<PieceKey, CachedIds>,
    overflow: Vec<TokenId>,
}

impl PieceCache {
    /// Appends the cached ids of `key` to `out`; false if the piece is not cached.
    #[inline]
    pub(crate) fn extend(&self, key: &PieceKey, out: &mut Vec<TokenId>) -> bool {
        let Some(cached) = self.entries.get(key) else { return false };
        let len = cached.len as usize;
        if len <= INLINE_IDS {
            out.extend_from_slice(&cached.ids[..len]);
        } else {
            let start = cached.ids[0] as usize;
            out.extend_from_slice(&self.overflow[start..start + len]);
        }
        true
    }

    /// Remembers the ids of a piece (clearing the cache first when it is full).
    pub(crate) fn insert(&mut self, key: PieceKey, ids: &[TokenId]) {
        if self.entries.len() >= CACHE_ENTRIES {
            self.entries.clear();
            self.overflow.clear();
        }
        let mut cached = CachedIds { len: ids.len() as u32, ids: [0; INLINE_IDS] };
        if ids.len() <= INLINE_IDS {
            cached.ids[..ids.len()].copy_from_slice(ids);
        } else {
            cached.ids[0] = self.overflow.len() as TokenId;
            self.overflow.extend_from_slice(ids);
        }
        self.entries.insert(key, cached);
    }
}

/// Per-thread scratch space: piece caches keyed by tokenizer identity, and a reusable buffer
/// of piece ranges.
#[derive(Default)]
struct Scratch {
    caches: Vec<(u64, PieceCache)>,
    ranges: Vec<Range<usize>>,
}

thread_local! {
    /// Being per thread, the cache needs no lock when rayon encodes a batch.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's cache for tokenizer `uid` and the range buffer.
pub(crate) fn with_scratch<R>(uid: u64, f: impl FnOnce(&mut PieceCache, &mut Vec<Range<usize>>) -> R) -> R {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let Scratch { caches, ranges } = &mut *scratch;
        let index = match caches.iter().position(|(id, _)| *id == uid) {
            Some(i) => i,
            None => {
                if caches.len() >= CACHED_TOKENIZERS {
                    caches.remove(0);
                }
                caches.push((uid, PieceCache::default()));
                caches.len() - 1
            }
        };
        f(&mut caches[index].1, ranges)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_overflow_entries() {
        let mut cache = PieceCache::default();
        let short = PieceKey::new(b"ab").unwrap();
        let long = PieceKey::new(b"abcdefghij").unwrap();
        cache.insert(short, &[7, 8]);
        cache.insert(long, &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut out = vec![0];
        assert!(cache.extend(&short, &mut out));
        assert!(cache.extend(&long, &mut out));
        assert!(!cache.extend(&PieceKey::new(b"ba").unwrap(), &mut out));
        assert_eq!(out, vec![0, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(PieceKey::new(b"a").is_none() && PieceKey::new(&[b'x'; 24]).is_none());
    }

    #[test]
    fn keys_differ_by_length_and_bytes() {
        // A trailing NUL must not make "ab\0" equal to "ab".
        assert!(PieceKey::new(b"ab").unwrap() != PieceKey::new(b"ab\0").unwrap());
        assert!(PieceKey::new(b"ab").unwrap().words() != PieceKey::new(b"ab\0").unwrap().words());
    }
}
