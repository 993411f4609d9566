//! The current time, with a test override.
//!
//! `GIT_HANDOFF_NOW` (RFC 3339) fixes the time our artifacts and commits carry, so tests and
//! the demo are reproducible. Times are truncated to milliseconds, the precision we store.

use chrono::{DateTime, SubsecRound, Utc};

/// Environment variable that overrides the clock.
pub const NOW_ENV: &str = "GIT_HANDOFF_NOW";

/// Now (UTC, millisecond precision), or the time in `GIT_HANDOFF_NOW` when it is set and valid.
pub fn now() -> DateTime<Utc> {
    std::env::var(NOW_ENV)
        .ok()
        .and_then(|v| DateTime::parse_from_rfc3339(v.trim()).ok())
        .map_or_else(Utc::now, |t| t.with_timezone(&Utc))
        .trunc_subsecs(3)
}
