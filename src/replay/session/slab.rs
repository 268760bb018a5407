//! Storage for the process table's hot path: nodes in a vector reused
//! through a free list (a handle is an index, so following a parent or a
//! child costs no hashing), and a keyed hasher for the integer keys of the
//! indexes (pids, GUIDs, handles).
//!
//! Every record costs several index lookups, so SipHash's strength was a
//! large share of the evaluation time; the keys come from recorded logs an
//! attacker may shape, so the fast hash is still seeded per session.

use std::hash::{BuildHasher, Hasher, RandomState};

/// Items by index; freed indexes are reused.
#[derive(Debug)]
pub(super) struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<usize>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// The index the next [`Slab::insert`] will use.
    pub fn next_id(&self) -> usize {
        self.free.last().copied().unwrap_or(self.items.len())
    }

    pub fn insert(&mut self, item: T) -> usize {
        self.len += 1;
        match self.free.pop() {
            Some(id) => {
                self.items[id] = Some(item);
                id
            }
            None => {
                self.items.push(Some(item));
                self.items.len() - 1
            }
        }
    }

    pub fn remove(&mut self, id: usize) -> Option<T> {
        let item = self.items.get_mut(id)?.take()?;
        self.free.push(id);
        self.len -= 1;
        Some(item)
    }

    pub fn get(&self, id: usize) -> Option<&T> {
        self.items.get(id)?.as_ref()
    }

    pub fn get_mut(&mut self, id: usize) -> Option<&mut T> {
        self.items.get_mut(id)?.as_mut()
    }

    pub fn len(&self) -> usize {
        self.len
    }
}

/// Builds [`IdHasher`]s with one random seed per table.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seeded(u64);

impl Default for Seeded {
    fn default() -> Self {
        Seeded(RandomState::new().hash_one(0x5eed_u64))
    }
}

impl BuildHasher for Seeded {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(self.0)
    }
}

/// A multiply-rotate hash over integer words with a final avalanche, for
/// keys made of integers only.
#[derive(Debug, Clone, Copy)]
pub(super) struct IdHasher(u64);

const K: u64 = 0x9e37_79b9_7f4a_7c15;

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(23) ^ n).wrapping_mul(K);
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u128(&mut self, n: u128) {
        self.write_u64(n as u64);
        self.write_u64((n >> 64) as u64);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        // murmur3's fmix64: every input bit reaches the high bits hashbrown
        // uses for its control bytes.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// A hash map over integer keys.
pub(super) type IdMap<K, V> = std::collections::HashMap<K, V, Seeded>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_slots_are_reused_and_counted() {
        let mut s = Slab::default();
        let a = s.insert("a");
        let b = s.insert("b");
        assert_eq!((s.len(), s.get(a), s.get(b)), (2, Some(&"a"), Some(&"b")));
        assert_eq!(s.remove(a), Some("a"));
        assert_eq!((s.remove(a), s.get(a), s.len()), (None, None, 1));
        assert_eq!(s.next_id(), a);
        assert_eq!(s.insert("c"), a);
        let mut m: IdMap<(u32, u64), u8> = IdMap::default();
        for i in 0..1000u64 {
            m.insert((1, i), 1);
        }
        assert_eq!(m.len(), 1000);
    }
}
