//! How the core tells a front end what it is doing, without printing: the CLI passes a
//! reporter that writes to stderr, the MCP server one that logs, tests [`Silent`]. The core
//! never writes to stdout or stderr itself.

use std::time::Duration;

/// Receives status lines, warnings and phase timings from long or partial work.
pub trait Reporter: Send + Sync {
    /// Something done that the user may want to know (`pushed 3 handoff refs`).
    fn status(&self, _message: &str) {}
    /// Something that went wrong without failing the command.
    fn warn(&self, _message: &str) {}
    /// How long a phase took (shown when tracing is on).
    fn phase(&self, _phase: &str, _elapsed: Duration) {}
    /// Progress of long work: `done` of `total` items.
    fn progress(&self, _label: &str, _done: usize, _total: usize) {}
}

/// A reporter that drops everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {}

/// Times `work` as the phase `phase` on `reporter`.
pub fn timed<T>(reporter: &dyn Reporter, phase: &str, work: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let value = work();
    reporter.phase(phase, started.elapsed());
    value
}
