//! The per-thread piece → ids cache that makes encoding fast.
//!
//! Text repeats its words (Zipf), so most pieces are found here instead of being merged again.
//! Encoding is bound by memory latency on this table, so every entry is self-contained: the key
//! bytes and (almost always) the ids sit inline in one 56-byte slot, and a lookup touches one
//! cache line instead of chasing pointers to a heap key and a heap value.
//!
//! A cache starts at 2^14 slots and doubles whenever half full, up to 2^19 slots (29 MB, about
//! the 32 MB L3 of the 2-core test machine), where it is cleared when half full instead; short
//! uses stay small and a long run keeps its pieces. Measured with `encode_lines` (cl100k, the
//! 11.4 MB of lines of `benches/RESULTS.md`, 5 passes, interleaved runs): the former fixed
//! 2^17 slots, cleared three times a pass, gave 50–53 MB/s on passes 2–5 (1,357–1,398 ms of
//! task clock in all); 2^19 slots gave 85–95 MB/s (979–1,095 ms); the first pass over new
//! text, bound by merging first sightings, was 40–42 MB/s with either. 2^18 and 2^20 were
//! measured under more load (task clock 1,374 and 1,024 ms against 1,093 ms for 2^19).

use std::cell::RefCell;
use std::ops::Range;

use crate::bpe::TokenId;
use crate::table::{fold_mul, SlotKey, SlotTable};

/// A table from pieces to `V`.
pub(crate) type PieceTable<V> = SlotTable<PieceKey, V>;

/// Slots of a new cache (56 bytes each, 0.9 MB): short uses stay small.
const FIRST_CACHE_SLOTS: usize = 1 << 14;
/// Slots a cache grows to (doubling whenever half full; 29 MB, about this machine's 32 MB L3);
/// at this size it is cleared when half full instead.
const MAX_CACHE_SLOTS: usize = 1 << 19;
/// Tokenizers whose caches a thread keeps at once.
const CACHED_TOKENIZERS: usize = 4;
/// Ids stored inline in an entry; longer encodings go to the cache's overflow arena.
const INLINE_IDS: usize = 6;

/// A cached piece of 2..=23 bytes, stored inline as three little-endian words: the bytes,
/// zero-padded, with the length in the last byte. Longer pieces are rare and not cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PieceKey([u64; 3]);

impl PieceKey {
    /// The key of a piece of 2..=23 bytes (single bytes need no cache).
    #[inline]
    pub(crate) fn new(piece: &[u8]) -> Option<PieceKey> {
        if piece.len() < 2 || piece.len() > 23 {
            return None;
        }
        let mut raw = [0u8; 24];
        raw[..piece.len()].copy_from_slice(piece);
        Some(Self::from_padded(&raw, piece.len()))
    }

    /// The key of `text[range]` (2..=23 bytes). Reads whole words from `text` when it extends
    /// far enough past the piece, which saves a variable-length copy per piece.
    #[inline]
    pub(crate) fn in_text(text: &[u8], range: std::ops::Range<usize>) -> Option<PieceKey> {
        let len = range.len();
        if !(2..=23).contains(&len) {
            return None;
        }
        match text.get(range.start..range.start + 24) {
            Some(window) => Some(Self::from_padded(window, len)),
            None => Self::new(&text[range]),
        }
    }

    /// The key of the first `len` bytes of a 24-byte window (later bytes are ignored).
    #[inline(always)]
    fn from_padded(window: &[u8], len: usize) -> PieceKey {
        let word = |k: usize| {
            let w = u64::from_le_bytes(window[8 * k..8 * k + 8].try_into().unwrap());
            let keep = len.saturating_sub(8 * k).min(8);
            if keep == 8 { w } else { w & ((1u64 << (8 * keep)) - 1) }
        };
        PieceKey([word(0), word(1), word(2) | ((len as u64) << 56)])
    }
}

impl SlotKey for PieceKey {
    /// The key of no piece (every real key has a length).
    const EMPTY: PieceKey = PieceKey([0; 3]);
}

impl PieceKey {
    /// A well-mixed 64-bit hash (both halves usable).
    #[inline]
    pub(crate) fn hash64(&self) -> u64 {
        let [a, b, c] = self.0;
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
        PieceCache { table: PieceTable::with_capacity(FIRST_CACHE_SLOTS), overflow: Vec::new() }
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

    /// Remembers the ids of a piece (growing the cache first when it is full, or clearing it
    /// at its largest size).
    pub(crate) fn insert(&mut self, key: PieceKey, hash: u64, ids: &[TokenId]) {
        if self.table.is_full() {
            if self.table.capacity() < MAX_CACHE_SLOTS {
                let mut grown = PieceTable::with_capacity(self.table.capacity() * 2);
                for (key, cached) in self.table.entries() {
                    grown.insert(*key, key.hash64(), *cached);
                }
                self.table = grown;
            } else {
                self.table.clear();
                self.overflow.clear();
            }
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
    fn cache_grows_keeping_entries_then_clears_at_its_largest() {
        let mut cache = PieceCache::default();
        let key = |i: u32| PieceKey::new(format!("piece{i}").as_bytes()).unwrap();
        // Enough pieces to make the cache grow twice (it grows when half full): every one
        // stays cached.
        let grown = FIRST_CACHE_SLOTS as u32 + 1;
        for i in 0..grown {
            cache.insert(key(i), key(i).hash64(), &[i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6]);
        }
        assert_eq!(cache.table.capacity(), FIRST_CACHE_SLOTS * 4);
        for i in 0..grown {
            let mut out = Vec::new();
            assert!(cache.extend(&key(i), key(i).hash64(), &mut out), "{i}");
            assert_eq!(out, (i..i + 7).collect::<Vec<_>>());
        }
        // At the largest size, a full cache is cleared instead of grown.
        let mut cache = PieceCache { table: PieceTable::with_capacity(MAX_CACHE_SLOTS), overflow: Vec::new() };
        let half = (MAX_CACHE_SLOTS / 2) as u32;
        for i in 0..=half {
            cache.insert(key(i), key(i).hash64(), &[i]);
        }
        assert_eq!((cache.table.capacity(), cache.table.len()), (MAX_CACHE_SLOTS, 1));
        assert!(cache.extend(&key(half), key(half).hash64(), &mut Vec::new()));
        assert!(!cache.extend(&key(0), key(0).hash64(), &mut Vec::new()));
    }

    #[test]
    fn keys_differ_by_length_and_bytes() {
        // A trailing NUL must not make "ab\0" equal to "ab".
        assert!(PieceKey::new(b"ab").unwrap() != PieceKey::new(b"ab\0").unwrap());
        assert!(PieceKey::new(b"ab").unwrap().hash64() != PieceKey::new(b"ab\0").unwrap().hash64());
        // Keys read from a longer text ignore what follows the piece.
        let text = b"xxabcdefghijklmnopqrstuvwxyz0123456789";
        for start in 0..text.len() {
            for end in start..=text.len() {
                assert_eq!(PieceKey::in_text(text, start..end), PieceKey::new(&text[start..end]), "{start}..{end}");
            }
        }
    }
}
