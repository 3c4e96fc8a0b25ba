//! [`RequestIds`]: how the pending requests' table hashes their ids.
//!
//! Why not the standard `RandomState` (SipHash): the ids are ours, numbered
//! 1, 2, 3 … by the connection, so there is nothing for a peer to choose and
//! no flooding to defend against (a peer's reply only looks an id up, in a
//! table holding our ids alone). SipHash cost about 90 instructions per
//! insert and as many per removal, twice per round trip; a multiply by the
//! golden ratio (Fibonacci hashing) spreads consecutive ids over the high
//! bits the table's probing uses, in one instruction.

use std::hash::{BuildHasherDefault, Hasher};

/// The table's hasher, made fresh for each id.
pub(super) type RequestIds = BuildHasherDefault<IdHasher>;

/// Hashes one `u64` id by Fibonacci hashing.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    /// Only `u64` ids are hashed; anything else is folded in byte by byte
    /// the same way, so the hasher is still correct if that ever changes.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn consecutive_ids_spread_over_the_top_bits() {
        // hashbrown takes its 7-bit tag from the top of the hash: ids 1..=128
        // must not share a few tags.
        let ids = RequestIds::default();
        let tags: HashSet<u64> = (1..=128u64).map(|id| ids.hash_one(id) >> 57).collect();
        assert!(tags.len() > 64, "only {} distinct tags", tags.len());
    }
}
