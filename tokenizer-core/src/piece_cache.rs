//! The per-thread piece → ids cache that makes encoding fast.
//!
//! Text repeats its words (Zipf), so most pieces are found here instead of being looked up in
//! the model or merged again. Every piece of 1..=23 bytes goes through the cache, whole tokens
//! included: a piece costs one lookup, and the branches that text makes unpredictable (single
//! byte or not, whole token or merged, one id or two) are gone from the common path. Each slot
//! is self-contained in 32 bytes, so a lookup touches one cache line. Pieces of up to 15 bytes
//! (nearly all of them) have a table of their own, with a 16-byte key (one 128-bit compare)
//! and up to four ids copied out as one 16-byte store; longer pieces have 24-byte keys and up to
//! three 21-bit ids. Pieces with more ids keep them in an overflow arena that both share.
//!
//! The table of short pieces, measured with `encode_lines` (GPT-2, the first megabyte of each
//! `../shared/corpus/train` file, one thread, best of 5–6 passes, interleaved binaries, 3–4
//! runs) against one table of 24-byte keys for every piece: whole files 272–292 → 306–313
//! MB/s, lines 212–219 → 222–228 (OLMo-2 216–219 → 221–241); the first, cold pass 62–67 → 65–72.
//!
//! Measured with `encode_lines` (cl100k, the 11.4 MB of lines of `benches/RESULTS.md`, warm
//! passes, interleaved binaries, best of 3): the former design (whole tokens looked up in the
//! model's table first, this cache second, single bytes apart, 56-byte slots) gave 108–113
//! MB/s; one table for every piece, 136; single bytes in it too, 145; key masks from a table
//! instead of branches on the length, 150. Slots of 32 instead of 56 bytes changed nothing by
//! themselves (113 / 114), and neither did a second prefetch for the next slot in the probe
//! sequence nor the first pieces of a text prefetched before its loop. A direct-mapped front
//! table of 8,192 pieces (73% of lookups hit it) was slower (100 against 108): the time is not
//! spent waiting on memory alone, as a tenth of the text (a smaller set of distinct pieces)
//! encodes no faster.
//!
//! A cache starts at 2^14 slots and doubles whenever half full, up to 2^19 slots (16 MB),
//! where it is cleared when half full instead; short uses stay small and a long run keeps its
//! pieces. The former fixed 2^17 slots, cleared three times a pass, gave 50–53 MB/s on warm
//! passes against 85–95 MB/s for 2^19 (56-byte slots then; 2^18 and 2^20 measured no better).

use std::cell::RefCell;
use std::ops::Range;

use crate::bpe::TokenId;
use crate::table::{fold_mul, hash_word, SlotKey, SlotTable};

/// A table from pieces to `V`.
pub(crate) type PieceTable<V> = SlotTable<PieceKey, V>;

/// Bytes after a text that [`PieceKey::in_padded`] may read.
pub(crate) const KEY_PADDING: usize = 24;

/// Makes `padded` a copy of `text` followed by the zero bytes [`PieceKey::in_padded`] may read
/// past a piece, so that every key is read in whole words.
pub(crate) fn pad_text(text: &[u8], padded: &mut Vec<u8>) {
    padded.clear();
    padded.extend_from_slice(text);
    padded.resize(text.len() + KEY_PADDING, 0);
}

/// The longest piece the cache holds.
pub(crate) const MAX_CACHED: usize = 23;
/// The longest piece whose key can carry a tag (see [`PieceKey::tagged`]).
pub(crate) const TAGGED_MAX: usize = 16;

/// Slots of a new cache (32 bytes each, 0.5 MB): short uses stay small.
const FIRST_CACHE_SLOTS: usize = 1 << 14;
/// Slots a cache grows to (doubling whenever half full; 16 MB); at this size it is cleared
/// when half full instead.
const MAX_CACHE_SLOTS: usize = 1 << 19;
/// Tokenizers whose caches a thread keeps at once.
const CACHED_TOKENIZERS: usize = 4;

/// A cached piece of 1..=23 bytes, stored inline as three little-endian words: the bytes,
/// zero-padded, with the length in the last byte. Longer pieces are rare and not cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PieceKey([u64; 3]);

impl PieceKey {
    /// The key of a piece of 1..=23 bytes.
    #[inline]
    pub(crate) fn new(piece: &[u8]) -> Option<PieceKey> {
        if piece.is_empty() || piece.len() > 23 {
            return None;
        }
        let mut raw = [0u8; 24];
        raw[..piece.len()].copy_from_slice(piece);
        Some(Self::from_padded(&raw, piece.len()))
    }

    /// The key of the `len` bytes (1..=23) at `start` of a text padded by [`pad_text`]: whole
    /// words are read and masked, with no copy of a variable length and no branch on it.
    #[inline(always)]
    pub(crate) fn in_padded(padded: &[u8], start: usize, len: usize) -> PieceKey {
        Self::from_padded(&padded[start..start + 24], len)
    }

    /// This key (of a piece of at most [`TAGGED_MAX`] bytes) with `tag` in bytes 16 and 17,
    /// which such a piece leaves zero: one key for a (piece, tag) pair.
    #[inline(always)]
    pub(crate) fn tagged(self, tag: u16) -> PieceKey {
        debug_assert!(self.len() <= TAGGED_MAX);
        let [a, b, c] = self.0;
        PieceKey([a, b, c | u64::from(tag)])
    }

    /// The tag of a key made by [`Self::tagged`].
    pub(crate) fn tag(&self) -> u16 {
        self.0[2] as u16
    }

    /// The piece's length in bytes.
    pub(crate) fn len(&self) -> usize {
        (self.0[2] >> 56) as usize
    }

    /// The first bytes of the piece, zero-padded: all of a piece that can be tagged.
    pub(crate) fn head_bytes(&self) -> [u8; TAGGED_MAX] {
        let mut bytes = [0u8; TAGGED_MAX];
        bytes[..8].copy_from_slice(&self.0[0].to_le_bytes());
        bytes[8..].copy_from_slice(&self.0[1].to_le_bytes());
        bytes
    }

    /// The key of the first `len` bytes of a 24-byte window (later bytes are ignored).
    #[inline(always)]
    fn from_padded(window: &[u8], len: usize) -> PieceKey {
        let window: &[u8; 24] = window[..24].try_into().unwrap();
        let masks = &KEY_MASKS[len];
        let word = |k: usize| u64::from_le_bytes(window[8 * k..8 * k + 8].try_into().unwrap()) & masks[k];
        PieceKey([word(0), word(1), word(2) | ((len as u64) << 56)])
    }
}

/// For each piece length up to 23, the masks that keep a key's three words to the piece's
/// bytes (a table instead of branches on the length, which text makes unpredictable).
const KEY_MASKS: [[u64; 3]; 24] = {
    let mut masks = [[0u64; 3]; 24];
    let mut len: usize = 0;
    while len < 24 {
        let mut k = 0;
        while k < 3 {
            let keep = len.saturating_sub(8 * k);
            masks[len][k] = if keep >= 8 { u64::MAX } else { (1u64 << (8 * keep)) - 1 };
            k += 1;
        }
        len += 1;
    }
    masks
};

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
        hash_word(h)
    }
}

/// The ids of a cached piece in 8 bytes, so that a slot (24-byte key and this) is 32 bytes.
///
/// Up to three ids below [`NO_ID`] are inline, 21 bits each (bit 63 clear; a missing second or
/// third id is [`NO_ID`]); anything else (more ids, larger ids, none) is [`OVERFLOW_BIT`] with
/// the offset of a count and the ids in the overflow arena. Three inline ids instead of two
/// keep a further 12% of GPT-2's pieces on European text out of the arena, whose reads miss
/// the cache (see [`PieceCache::extend`] for the measurement).
type CachedIds = u64;
/// Bits of an inline id.
const ID_BITS: u32 = 21;
/// An absent inline id (ids at or above it go to the overflow arena).
const NO_ID: u64 = (1 << ID_BITS) - 1;
/// Marks an entry whose ids are in the overflow arena (at the offset in the low bits).
const OVERFLOW_BIT: u64 = 1 << 63;

/// Overflow entries of at most this many ids are copied as a block of this size and cut to
/// their length: a copy of a variable length was a `memcpy` call per piece, 2.9% of the samples
/// of `encode_lines` with GPT-2 (whose pieces of other languages than English take many ids).
const OVERFLOW_COPY: usize = 8;

/// The longest piece with a short key.
pub(crate) const MAX_SHORT: usize = 15;

/// The key of a piece of 1..=15 bytes in one 128-bit word: its bytes, zero-padded, with the
/// length in the last byte (so no real key is 0, the empty slot's).
#[inline(always)]
pub(crate) fn short_key(padded: &[u8], start: usize, len: usize) -> u128 {
    let window: &[u8; 16] = padded[start..start + 16].try_into().unwrap();
    let masks = &KEY_MASKS[len];
    let lo = u64::from_le_bytes(window[..8].try_into().unwrap()) & masks[0];
    let hi = u64::from_le_bytes(window[8..].try_into().unwrap()) & masks[1];
    (lo as u128) | ((hi | (len as u64) << 56) as u128) << 64
}

/// The hash of a [`short_key`] (both halves usable).
#[inline(always)]
pub(crate) fn short_hash(key: u128) -> u64 {
    fold_mul(key as u64 ^ 0x243f_6a88_85a3_08d3, (key >> 64) as u64 ^ 0x1319_8a2e_0370_7344)
}

/// Up to four ids of a short piece (absent ones `u32::MAX`), or with a first id of
/// `u32::MAX`, the offset of its ids in the overflow arena as the second.
type ShortIds = [TokenId; 4];

/// The two tables of a [`PieceCache`].
#[derive(Clone, Copy)]
enum Table {
    Short,
    Long,
}

/// One tokenizer's piece cache on one thread.
pub(crate) struct PieceCache {
    /// Pieces of 1..=[`MAX_SHORT`] bytes, by [`short_key`].
    short: SlotTable<u128, ShortIds>,
    /// Longer pieces (up to [`MAX_CACHED`] bytes), by [`PieceKey`].
    long: PieceTable<CachedIds>,
    /// The ids of the entries of either table that do not fit in their slot.
    overflow: Vec<TokenId>,
}

impl Default for PieceCache {
    fn default() -> Self {
        PieceCache {
            short: SlotTable::with_capacity(FIRST_CACHE_SLOTS),
            long: PieceTable::with_capacity(FIRST_CACHE_SLOTS),
            overflow: Vec::new(),
        }
    }
}

impl PieceCache {
    /// Makes room in a full table: it doubles, or at its largest size the whole cache is
    /// cleared (both tables, which share the arena's offsets).
    #[cold]
    fn make_room(&mut self, table: Table) {
        let capacity = match table {
            Table::Short => self.short.capacity(),
            Table::Long => self.long.capacity(),
        };
        if capacity >= MAX_CACHE_SLOTS {
            self.short.clear();
            self.long.clear();
            self.overflow.clear();
            return;
        }
        match table {
            Table::Short => self.short.double(|&key| short_hash(key)),
            Table::Long => self.long.double(PieceKey::hash64),
        }
    }

    /// Starts loading the slot of a short piece.
    #[inline(always)]
    pub(crate) fn prefetch_short(&self, hash: u64) {
        self.short.prefetch(hash);
    }

    /// Appends the cached ids of a piece by its [`short_key`] to `out`; false if it is not
    /// cached.
    #[inline(always)]
    pub(crate) fn extend_short(&self, key: u128, hash: u64, out: &mut Vec<TokenId>) -> bool {
        let Some(&ids) = self.short.get(&key, hash) else { return false };
        if ids[0] == TokenId::MAX {
            self.extend_spilled(ids[1] as usize, out);
        } else {
            out.reserve(4);
            let len = out.len();
            // SAFETY: room for four more ids was reserved; the length covers only real ids.
            unsafe {
                (out.as_mut_ptr().add(len) as *mut ShortIds).write_unaligned(ids);
                out.set_len(len + 1 + (ids[1] != TokenId::MAX) as usize + (ids[2] != TokenId::MAX) as usize + (ids[3] != TokenId::MAX) as usize);
            }
        }
        true
    }

    /// Remembers the ids of a piece of up to [`MAX_SHORT`] bytes by its [`short_key`] (see
    /// [`Self::make_room`]).
    pub(crate) fn insert_short(&mut self, key: u128, hash: u64, ids: &[TokenId]) {
        if self.short.is_full() {
            self.make_room(Table::Short);
        }
        let inline = (1..=4).contains(&ids.len()) && ids.iter().all(|&id| id != TokenId::MAX);
        let value = if inline {
            let mut value = [TokenId::MAX; 4];
            value[..ids.len()].copy_from_slice(ids);
            value
        } else {
            [TokenId::MAX, self.spill(ids) as TokenId, 0, 0]
        };
        self.short.insert(key, hash, value);
    }

    /// Appends the ids stored by [`Self::spill`] at `start` to `out`.
    #[inline(always)]
    fn extend_spilled(&self, start: usize, out: &mut Vec<TokenId>) {
        let len = self.overflow[start] as usize;
        let ids = &self.overflow[start + 1..];
        match ids.first_chunk::<OVERFLOW_COPY>() {
            // A copy of a fixed size (inlined, no call) and a shorter length after it.
            Some(head) if len <= OVERFLOW_COPY => {
                let end = out.len() + len;
                out.extend_from_slice(head);
                out.truncate(end);
            }
            _ => out.extend_from_slice(&ids[..len]),
        }
    }

    /// Stores `ids` in the overflow arena as a count and the ids, and returns their offset
    /// (below 2^32: a table is cleared at 2^18 entries of at most 24 ids each).
    fn spill(&mut self, ids: &[TokenId]) -> usize {
        let start = self.overflow.len();
        self.overflow.push(ids.len() as TokenId);
        self.overflow.extend_from_slice(ids);
        start
    }

    /// Appends the cached ids of a piece by its long key to `out`; false if it is not cached.
    /// Always inlined: a call per piece cost 6% of warm encoding.
    #[inline(always)]
    pub(crate) fn extend_long(&self, key: &PieceKey, hash: u64, out: &mut Vec<TokenId>) -> bool {
        let Some(&entry) = self.long.get(key, hash) else { return false };
        if entry & OVERFLOW_BIT != 0 {
            self.extend_spilled((entry & !OVERFLOW_BIT) as usize, out);
        } else {
            // One to three ids without a branch on how many: all three are written, and the
            // length counts those present (a missing second id means a missing third).
            let field = |k: u32| (entry >> (k * ID_BITS)) & NO_ID;
            let (first, second, third) = (field(0), field(1), field(2));
            out.reserve(3);
            let len = out.len();
            // SAFETY: room for three more ids was reserved; the length covers only written ids.
            unsafe {
                out.as_mut_ptr().add(len).write(first as TokenId);
                out.as_mut_ptr().add(len + 1).write(second as TokenId);
                out.as_mut_ptr().add(len + 2).write(third as TokenId);
                out.set_len(len + 1 + (second != NO_ID) as usize + (third != NO_ID) as usize);
            }
        }
        true
    }

    /// Remembers the ids of a piece of up to [`MAX_CACHED`] bytes by its long key (see
    /// [`Self::make_room`]).
    pub(crate) fn insert_long(&mut self, key: PieceKey, hash: u64, ids: &[TokenId]) {
        if self.long.is_full() {
            self.make_room(Table::Long);
        }
        let inline = (1..=3).contains(&ids.len()) && ids.iter().all(|&id| u64::from(id) < NO_ID);
        let cached = if inline {
            let field = |k: usize| ids.get(k).map_or(NO_ID, |&id| u64::from(id));
            field(0) | field(1) << ID_BITS | field(2) << (2 * ID_BITS)
        } else {
            OVERFLOW_BIT | self.spill(ids) as u64
        };
        self.long.insert(key, hash, cached);
    }
}

/// Reusable per-thread buffers of one encode call.
#[derive(Default)]
pub(crate) struct Buffers {
    /// Byte ranges of the pieces.
    pub ranges: Vec<Range<usize>>,
    /// The [`short_key`] and its hash of each piece of the run being looked up (0, no key, for
    /// a longer piece).
    pub keys: Vec<(u128, u64)>,
    /// A short text, padded (see [`pad_text`]), or short texts laid end to end, padded.
    pub padded: Vec<u8>,
    /// Where each of the texts laid end to end in `padded` ends.
    pub text_ends: Vec<usize>,
    /// Where the pieces of each of those texts end in `ranges`.
    pub piece_ends: Vec<usize>,
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
        let key = |piece: &[u8]| PieceKey::new(piece).unwrap();
        // Inline: one to three ids below 2^21 - 1. Overflow: no ids (a byte the vocabulary
        // lacks), an id too large to be inline, four, eight (one block copy) and nine ids, and
        // last in the arena an entry shorter than a block.
        let largest_inline = (NO_ID - 1) as TokenId;
        let entries: [(&[u8], &[TokenId]); 10] = [
            (b"\xff", &[]),
            (b"a", &[7]),
            (b"ab", &[7, 8]),
            (b"abc", &[3, 2, 1]),
            (b"abd", &[0, largest_inline, 5]),
            (b"abe", &[0, largest_inline + 1, 5]),
            (b"abcd", &[4, 3, 2, 1]),
            (b"abcdefgh", &[1, 2, 3, 4, 5, 6, 7, 8]),
            (b"abcdefghij", &[1, 2, 3, 4, 5, 6, 7, 8, 9]),
            (b"z", &[TokenId::MAX - 1]),
        ];
        for (piece, ids) in entries {
            cache.insert_long(key(piece), key(piece).hash64(), ids);
        }
        for (piece, ids) in entries {
            let mut out = vec![0];
            assert!(cache.extend_long(&key(piece), key(piece).hash64(), &mut out));
            assert_eq!(out[1..], *ids, "{piece:?}");
        }
        let mut out = vec![0];
        assert!(!cache.extend_long(&key(b"ba"), key(b"ba").hash64(), &mut out));
        assert_eq!(out, vec![0]);
        assert!(PieceKey::new(b"").is_none() && PieceKey::new(&[b'x'; 24]).is_none());
    }

    /// The short key of a piece, read from a padded copy as the encoder reads it.
    fn short(piece: &[u8]) -> (u128, u64) {
        let mut padded = Vec::new();
        pad_text(piece, &mut padded);
        let key = short_key(&padded, 0, piece.len());
        (key, short_hash(key))
    }

    #[test]
    fn short_entries_inline_and_overflow() {
        let mut cache = PieceCache::default();
        // Inline: one to four ids other than u32::MAX. Overflow: none, five, and a
        // u32::MAX id (no real id; the marker of an overflow entry).
        let entries: [(&[u8], &[TokenId]); 8] = [
            (b"\xff", &[]),
            (b"a", &[0]),
            (b"ab", &[7, 8]),
            (b"abc", &[3, 2, 1]),
            (b"abcd", &[4, 3, 2, TokenId::MAX - 1]),
            (b"abcde", &[1, 2, 3, 4, 5]),
            (b"abcdef", &[TokenId::MAX, 1]),
            (b"fifteen bytes!!", &[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),
        ];
        for (piece, ids) in entries {
            let (key, hash) = short(piece);
            cache.insert_short(key, hash, ids);
        }
        for (piece, ids) in entries {
            let (key, hash) = short(piece);
            let mut out = vec![0];
            assert!(cache.extend_short(key, hash, &mut out));
            assert_eq!(out[1..], *ids, "{piece:?}");
        }
        let (key, hash) = short(b"ba");
        assert!(!cache.extend_short(key, hash, &mut Vec::new()));
    }

    #[test]
    fn short_keys_differ_by_length_and_bytes_and_ignore_what_follows() {
        assert_ne!(short(b"ab").0, short(b"ab\0").0);
        assert_ne!(short(b"ab").1, short(b"ab\0").1);
        let text = b"xxabcdefghijklmnopqrstuvwxyz0123456789";
        let mut padded = text.to_vec();
        padded.resize(text.len() + KEY_PADDING, 0xff);
        for start in 0..text.len() {
            for end in start + 1..=text.len().min(start + MAX_SHORT) {
                assert_eq!(short_key(&padded, start, end - start), short(&text[start..end]).0, "{start}..{end}");
            }
        }
    }

    #[test]
    fn a_growing_table_keeps_the_arena_entries_of_the_other() {
        let mut cache = PieceCache::default();
        let long_key = PieceKey::new(b"sixteen bytes!!!").unwrap();
        cache.insert_long(long_key, long_key.hash64(), &[1, 2, 3, 4, 5]);
        let piece = |i: u32| format!("p{i}");
        let grown = FIRST_CACHE_SLOTS as u32 + 1;
        for i in 0..grown {
            let (key, hash) = short(piece(i).as_bytes());
            cache.insert_short(key, hash, &[i, i + 1, i + 2, i + 3, i + 4]);
        }
        assert_eq!(cache.short.capacity(), FIRST_CACHE_SLOTS * 4);
        for i in [0, grown / 2, grown - 1] {
            let (key, hash) = short(piece(i).as_bytes());
            let mut out = Vec::new();
            assert!(cache.extend_short(key, hash, &mut out));
            assert_eq!(out, (i..i + 5).collect::<Vec<_>>());
        }
        let mut out = Vec::new();
        assert!(cache.extend_long(&long_key, long_key.hash64(), &mut out));
        assert_eq!(out, [1, 2, 3, 4, 5]);
        // At its largest size a full short table clears the whole cache, the long table too.
        cache.short = SlotTable::with_capacity(MAX_CACHE_SLOTS);
        for i in 0..=(MAX_CACHE_SLOTS / 2) as u32 {
            let (key, hash) = short(piece(i).as_bytes());
            cache.insert_short(key, hash, &[i]);
        }
        assert_eq!(cache.short.len(), 1);
        assert!(!cache.extend_long(&long_key, long_key.hash64(), &mut Vec::new()));
    }

    #[test]
    fn cache_grows_keeping_entries_then_clears_at_its_largest() {
        let mut cache = PieceCache::default();
        let key = |i: u32| PieceKey::new(format!("piece{i}").as_bytes()).unwrap();
        // Enough pieces to make the cache grow twice (it grows when half full): every one
        // stays cached.
        let grown = FIRST_CACHE_SLOTS as u32 + 1;
        for i in 0..grown {
            cache.insert_long(key(i), key(i).hash64(), &[i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6]);
        }
        assert_eq!(cache.long.capacity(), FIRST_CACHE_SLOTS * 4);
        for i in 0..grown {
            let mut out = Vec::new();
            assert!(cache.extend_long(&key(i), key(i).hash64(), &mut out), "{i}");
            assert_eq!(out, (i..i + 7).collect::<Vec<_>>());
        }
        // At the largest size, a full cache is cleared instead of grown.
        let mut cache = PieceCache { long: PieceTable::with_capacity(MAX_CACHE_SLOTS), ..PieceCache::default() };
        let half = (MAX_CACHE_SLOTS / 2) as u32;
        for i in 0..=half {
            cache.insert_long(key(i), key(i).hash64(), &[i]);
        }
        assert_eq!((cache.long.capacity(), cache.long.len()), (MAX_CACHE_SLOTS, 1));
        assert!(cache.extend_long(&key(half), key(half).hash64(), &mut Vec::new()));
        assert!(!cache.extend_long(&key(0), key(0).hash64(), &mut Vec::new()));
    }

    #[test]
    fn keys_differ_by_length_and_bytes() {
        // A trailing NUL must not make "ab\0" equal to "ab".
        assert!(PieceKey::new(b"ab").unwrap() != PieceKey::new(b"ab\0").unwrap());
        assert!(PieceKey::new(b"ab").unwrap().hash64() != PieceKey::new(b"ab\0").unwrap().hash64());
        // Keys read from a padded text ignore what follows the piece.
        let text = b"xxabcdefghijklmnopqrstuvwxyz0123456789";
        let mut padded = text.to_vec();
        padded.resize(text.len() + KEY_PADDING, 0xff);
        for start in 0..text.len() {
            for end in start + 1..=text.len().min(start + MAX_CACHED) {
                assert_eq!(Some(PieceKey::in_padded(&padded, start, end - start)), PieceKey::new(&text[start..end]), "{start}..{end}");
            }
        }
    }
}
