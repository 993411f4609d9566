//! Randomness for session IDs and artifact ULIDs, with a test override.
//!
//! `GIT_HANDOFF_RANDOMNESS_SEED` (an integer) makes every random value a function of the seed
//! and of how many values this process drew before, as jj's `JJ_RANDOMNESS_SEED` does: tests
//! give each command its own seed, so their outputs can be compared with snapshots.

use std::sync::atomic::{AtomicU64, Ordering};

/// Environment variable that makes randomness deterministic.
pub const SEED_ENV: &str = "GIT_HANDOFF_RANDOMNESS_SEED";

/// 128 random bits: from the seed when one is set, else from the operating system (through
/// the ulid crate's generator).
pub fn bits128() -> u128 {
    static DRAWN: AtomicU64 = AtomicU64::new(0);
    let seed = std::env::var(SEED_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok());
    match seed {
        Some(seed) => {
            let n = DRAWN.fetch_add(1, Ordering::Relaxed);
            let mut state = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (u128::from(splitmix64(&mut state)) << 64) | u128::from(splitmix64(&mut state))
        }
        None => ulid::Ulid::generate().random(),
    }
}

/// SplitMix64: a small, well-mixed generator for seeded test values.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A ULID for `time`, its random part from [`bits128`].
pub fn ulid_at(time: std::time::SystemTime) -> ulid::Ulid {
    let ms = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    ulid::Ulid::from_parts(ms, bits128())
}
