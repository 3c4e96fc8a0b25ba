//! A tiny seeded random number generator for backoff jitter.
//!
//! Jitter needs numbers that differ between connections, not secrecy, so a
//! SplitMix64 generator (a few arithmetic steps per draw, passes BigCrush)
//! seeded per connection is enough and keeps the `rand` crates out.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// SplitMix64 (Steele, Lea, Flood 2014; the seeding generator of xoshiro).
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw from `[0, 1)` with 53 bits of precision.
    pub(crate) fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// A jitter seed for the connection `name`, different for every name, every
/// process and every call.
///
/// It mixes the name with a per-process random hash key, the process id and
/// the current time, so connections with the same backoff do not draw the
/// same delays, and neither do two processes supervising the same names.
/// Library users pass their own seed to
/// [`RestartTracker::new`](crate::RestartTracker::new) (a fixed one where
/// reproducible delays are wanted).
pub(crate) fn seed_from(name: &str) -> u64 {
    // Every `RandomState` has fresh keys (random per process, then
    // incremented per instance), so even equal names give different seeds.
    let mut hasher = RandomState::new().build_hasher();
    name.hash(&mut hasher);
    std::process::id().hash(&mut hasher);
    if let Ok(since_epoch) = SystemTime::now().duration_since(UNIX_EPOCH) {
        since_epoch.as_nanos().hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // First outputs of the reference implementation for seed 1234567.
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(rng.next_u64(), 9_817_491_932_198_370_423);
    }

    #[test]
    fn units_stay_in_the_half_open_interval_and_spread() {
        let mut rng = SplitMix64::new(7);
        let draws: Vec<f64> = (0..10_000).map(|_| rng.next_unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let below_half = draws.iter().filter(|u| **u < 0.5).count();
        assert!((4_800..5_200).contains(&below_half), "{below_half}");
    }

    #[test]
    fn seeds_differ_between_names_and_calls() {
        let mut seeds: Vec<u64> = (0..200).map(|i| seed_from(&format!("conn-{i}"))).collect();
        seeds.push(seed_from("conn-0"));
        let count = seeds.len();
        seeds.sort_unstable();
        seeds.dedup();
        assert_eq!(seeds.len(), count);
    }
}
