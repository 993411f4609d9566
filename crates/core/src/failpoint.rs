//! Failpoints for crash tests: `GIT_HANDOFF_FAILPOINT=<name>` makes the process abort, as a
//! `kill -9` would, when it reaches the step of that name (`panic:<name>` panics there instead,
//! for tests of how a front end reports a bug). Tests use it to check that every
//! step leaves a state that re-running the command or `repair` completes (docs/format.md,
//! "Crash safety"), without depending on timing.
//!
//! Hand-written rather than the `fail` crate: that one is switched on by a cargo feature, which
//! the binary under test in `tests/` would then need in every build.

use std::sync::OnceLock;

/// The variable naming the failpoint to trigger.
pub const VARIABLE: &str = "GIT_HANDOFF_FAILPOINT";

/// Aborts the process if `name` is the failpoint named in the environment.
pub fn hit(name: &str) {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var(VARIABLE).ok().filter(|v| !v.is_empty()));
    match armed.as_deref() {
        Some(armed) if armed == name => std::process::abort(),
        Some(armed) if armed.strip_prefix("panic:") == Some(name) => {
            panic!("failpoint {name}")
        }
        _ => {}
    }
}
