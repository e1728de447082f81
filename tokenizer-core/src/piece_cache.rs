//! The per-thread piece → ids cache that makes encoding fast.
//!
//! Text repeats its words (Zipf), so most pieces are found here instead of being merged again.
//! Encoding is bound by memory latency on this table, so every entry is self-contained: the key
//! bytes and (almost always) the ids sit inline in one 52-byte slot, and a lookup touches one
//! cache line instead of chasing pointers to a heap key and a heap value.

use std::cell::RefCell;
use std::ops::Range;

use crate::bpe::TokenId;
use crate::table::{fold_mul, SlotKey, SlotTable};

/// A table from pieces to `V`.
pub(crate) type PieceTable<V> = SlotTable<PieceKey, V>;

/// Slots of a thread's cache (52 bytes each, 6.8 MB); it is cleared when half full.
const CACHE_SLOTS: usize = 1 << 17;
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

impl SlotKey for PieceKey {
    /// The key of no piece.
    const EMPTY: PieceKey = PieceKey { len: 0, bytes: [0; 23] };
}

impl PieceKey {
    /// A well-mixed 64-bit hash (both halves usable).
    #[inline]
    pub(crate) fn hash64(&self) -> u64 {
        let [a, b, c] = self.words();
        let h = fold_mul(a ^ 0x243f_6a88_85a3_08d3, b ^ 0x1319_8a2e_0370_7344) ^ c;
        fold_mul(h ^ 0x9e37_79b9_7f4a_7c15, 0xa076_1d64_78bd_642f)
    }
}


/// The ids of a cached piece: inline when there are at most [`INLINE_IDS`], otherwise
/// `ids[0]` is an offset into the overflow arena.
#[derive(Clone, Copy, Default)]
struct CachedIds {
    len: u32,
    ids: [TokenId; INLINE_IDS],
}

/// One tokenizer's piece cache on one thread.
pub(crate) struct PieceCache {
    table: PieceTable<CachedIds>,
    overflow: Vec<TokenId>,
}

impl Default for PieceCache {
    fn default() -> Self {
        PieceCache { table: PieceTable::with_capacity(CACHE_SLOTS), overflow: Vec::new() }
    }
}

impl PieceCache {
    /// Starts loading the slot of a piece about to be looked up.
    #[inline(always)]
    pub(crate) fn prefetch(&self, hash: u64) {
        self.table.prefetch(hash);
    }

    /// Appends the cached ids of `key` to `out`; false if the piece is not cached.
    #[inline]
    pub(crate) fn extend(&self, key: &PieceKey, hash: u64, out: &mut Vec<TokenId>) -> bool {
        let Some(cached) = self.table.get(key, hash) else { return false };
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
    pub(crate) fn insert(&mut self, key: PieceKey, hash: u64, ids: &[TokenId]) {
        if self.table.is_full() {
            self.table.clear();
            self.overflow.clear();
        }
        let mut cached = CachedIds { len: ids.len() as u32, ids: [0; INLINE_IDS] };
        if ids.len() <= INLINE_IDS {
            cached.ids[..ids.len()].copy_from_slice(ids);
        } else {
            cached.ids[0] = self.overflow.len() as TokenId;
            self.overflow.extend_from_slice(ids);
        }
        self.table.insert(key, hash, cached);
    }
}

/// Reusable per-thread buffers of one encode call.
#[derive(Default)]
pub(crate) struct Buffers {
    /// Byte ranges of the pieces.
    pub ranges: Vec<Range<usize>>,
    /// Each piece's cache key and hash (`None` for pieces that are not cached).
    pub keys: Vec<Option<(PieceKey, u64)>>,
}

/// Per-thread scratch space: piece caches keyed by tokenizer identity, and buffers.
#[derive(Default)]
struct Scratch {
    caches: Vec<(u64, PieceCache)>,
    buffers: Buffers,
}

thread_local! {
    /// Being per thread, the cache needs no lock when rayon encodes a batch.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's cache for tokenizer `uid` and the buffers.
pub(crate) fn with_scratch<R>(uid: u64, f: impl FnOnce(&mut PieceCache, &mut Buffers) -> R) -> R {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let Scratch { caches, buffers } = &mut *scratch;
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
        f(&mut caches[index].1, buffers)
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
        let other = PieceKey::new(b"ba").unwrap();
        cache.insert(short, short.hash64(), &[7, 8]);
        cache.insert(long, long.hash64(), &[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let mut out = vec![0];
        assert!(cache.extend(&short, short.hash64(), &mut out));
        assert!(cache.extend(&long, long.hash64(), &mut out));
        assert!(!cache.extend(&other, other.hash64(), &mut out));
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
