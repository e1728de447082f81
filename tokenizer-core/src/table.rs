//! Hash tables for the encoder's hot loop: small fixed-size keys, a cheap well-mixing hash,
//! and (for [`SlotTable`]) slot addresses known before the lookup, so lookups can be prefetched.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A key of a [`SlotTable`]: small, `Copy`, with one value that marks empty slots.
pub(crate) trait SlotKey: Copy + Eq {
    /// The value no real key takes.
    const EMPTY: Self;
}

impl SlotKey for u64 {
    const EMPTY: u64 = u64::MAX;
}

impl SlotKey for u128 {
    const EMPTY: u128 = 0;
}

/// A pair of ids: 4-byte aligned, so a `(pair, u32)` entry takes 12 bytes.
impl SlotKey for (u32, u32) {
    const EMPTY: (u32, u32) = (u32::MAX, u32::MAX);
}

/// The 128-bit product of `a` and `b`, folded to 64 bits: a fast, well-mixing combiner.
#[inline]
pub(crate) fn fold_mul(a: u64, b: u64) -> u64 {
    let product = (a as u128).wrapping_mul(b as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Mixes one 64-bit word into a well-spread hash (both halves usable) with one folded
/// multiply: the hash of [`WordHasher`], of the piece cache's long keys and of the merge loop's
/// pairs.
#[inline]
pub(crate) fn hash_word(word: u64) -> u64 {
    fold_mul(word ^ 0x9e37_79b9_7f4a_7c15, 0xa076_1d64_78bd_642f)
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
        self.0 = hash_word(self.0 ^ word);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Asks the CPU to start loading the cache line that holds `value`, so that a loop whose next
/// memory accesses are known can overlap their latency with the work at hand.
#[inline(always)]
pub(crate) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint without memory effects; the address is a live reference.
    unsafe {
        std::arch::x86_64::_mm_prefetch(value as *const T as *const i8, std::arch::x86_64::_MM_HINT_T0)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// A `HashMap` keyed by small fixed-size values, hashed with [`WordHasher`].
pub(crate) type WordMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// A fixed-size open-addressing table with linear probing, for small `Copy` keys.
///
/// Unlike `HashMap`, it tells where a key's slot is before the lookup, so the encoder can
/// prefetch the slots of the next pieces while it handles the current one: the lookups are
/// memory-bound, and overlapping them hides most of the latency.
#[derive(Clone)]
pub(crate) struct SlotTable<K: Copy, V: Copy> {
    slots: crate::huge_pages::PageBuffer<(K, V)>,
    /// `capacity - 1`; the capacity is a power of two.
    mask: usize,
    len: usize,
}

impl<K: Copy, V: Copy> std::fmt::Debug for SlotTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotTable").field("len", &self.len).field("slots", &self.slots.len()).finish()
    }
}

impl<K: SlotKey, V: Copy + Default> SlotTable<K, V> {
    /// An empty table with `capacity` slots (rounded up to a power of two), meant to hold at
    /// most half as many keys.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.next_power_of_two().max(2);
        SlotTable { slots: crate::huge_pages::PageBuffer::filled(capacity, (K::EMPTY, V::default())), mask: capacity - 1, len: 0 }
    }

    /// Number of keys stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slots a table holds at most half full (so that probes stay short).
    pub(crate) fn is_full(&self) -> bool {
        self.len * 2 >= self.slots.len()
    }

    /// Number of slots.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The stored keys and values, in slot order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &(K, V)> {
        self.slots.iter().filter(|(k, _)| *k != K::EMPTY)
    }

    /// Doubles the slots, keeping every entry (for a table that [`Self::is_full`]); `hash` is
    /// the hash its keys were inserted with.
    pub(crate) fn double(&mut self, hash: impl Fn(&K) -> u64) {
        let mut grown = Self::with_capacity(self.capacity() * 2);
        for (key, value) in self.entries() {
            grown.insert(*key, hash(key), *value);
        }
        *self = grown;
    }

    /// Removes every key.
    pub(crate) fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill((K::EMPTY, V::default()));
            self.len = 0;
        }
    }

    /// The home slot of a key's hash.
    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        (hash >> 32) as usize & self.mask
    }

    /// Asks the CPU to start loading the home slot of `hash` (a hint; never faults).
    #[inline(always)]
    pub(crate) fn prefetch(&self, hash: u64) {
        prefetch(&self.slots[self.home(hash)]);
    }

    /// The value of `key` (whose hash is `hash`).
    #[inline(always)]
    pub(crate) fn get(&self, key: &K, hash: u64) -> Option<&V> {
        let mut i = self.home(hash);
        loop {
            let (k, v) = &self.slots[i];
            if k == key {
                return Some(v);
            }
            if *k == K::EMPTY {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The value of `key`, inserted as `V::default()` if absent. The caller keeps the table
    /// from filling up (see [`Self::is_full`]).
    #[inline(always)]
    pub(crate) fn get_or_insert_default(&mut self, key: K, hash: u64) -> &mut V {
        debug_assert!(key != K::EMPTY && self.len < self.slots.len());
        let mut i = self.home(hash);
        loop {
            let k = self.slots[i].0;
            if k == key {
                return &mut self.slots[i].1;
            }
            if k == K::EMPTY {
                self.slots[i] = (key, V::default());
                self.len += 1;
                return &mut self.slots[i].1;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Stores `value` for `key` (replacing an existing value). The caller keeps the table
    /// from filling up (see [`Self::is_full`]).
    pub(crate) fn insert(&mut self, key: K, hash: u64, value: V) {
        debug_assert!(key != K::EMPTY && self.len < self.slots.len());
        let mut i = self.home(hash);
        loop {
            let slot = &mut self.slots[i];
            if slot.0 == key {
                slot.1 = value;
                return;
            }
            if slot.0 == K::EMPTY {
                *slot = (key, value);
                self.len += 1;
                return;
            }
            i = (i + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_probes_past_collisions_and_clears() {
        // Every key in one home slot: lookups must walk the probe sequence.
        let mut table: SlotTable<u64, u32> = SlotTable::with_capacity(8);
        for key in 0..4u64 {
            table.insert(key, 7 << 32, key as u32);
        }
        table.insert(1, 7 << 32, 10);
        assert_eq!(table.len(), 4);
        assert!(table.is_full());
        let found: Vec<Option<u32>> = (0..4u64).map(|k| table.get(&k, 7 << 32).copied()).collect();
        assert_eq!(found, vec![Some(0), Some(10), Some(2), Some(3)]);
        assert_eq!(table.get(&9, 7 << 32), None);
        let mut entries: Vec<(u64, u32)> = table.entries().copied().collect();
        entries.sort();
        assert_eq!(entries, vec![(0, 0), (1, 10), (2, 2), (3, 3)]);
        assert_eq!(table.capacity(), 8);
        table.clear();
        assert_eq!((table.len(), table.get(&0, 7 << 32)), (0, None));
    }
}
