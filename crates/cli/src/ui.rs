//! Output: data to stdout (human text or one JSON document), status and hints to stderr.
//!
//! Stored text comes from other people's clones and agents: every human-readable print goes
//! through [`sanitize`], which neutralises terminal escape sequences and other control
//! characters. A closed stdout (`git handoff list | head`) ends the program quietly.

use std::io::{self, IsTerminal, Write};

/// Makes stored text safe to print on a terminal: control characters other than newline and
/// tab (ESC, BEL, CSI, DEL, C1 controls, bidi overrides) become visible `\u{..}` escapes.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // Runs of bytes that cannot start a dangerous character are copied whole: printing a
    // context prompt with a large diff goes through here, and most text is such runs.
    while let Some(at) = rest
        .bytes()
        .position(|b| MAY_START_DANGEROUS[usize::from(b)])
    {
        out.push_str(&rest[..at]);
        let mut chars = rest[at..].chars();
        if let Some(c) = chars.next() {
            if is_dangerous(c) {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            } else {
                out.push(c);
            }
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    out
}

/// Control characters other than newline and tab, and the bidi overrides and isolates.
fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a UTF-8 byte may start a character [`is_dangerous`] holds for: an ASCII control or
/// DEL, or the lead byte of U+0080..U+009F (0xC2) or of U+2000..U+2FFF (0xE2).
const fn may_start_dangerous(byte: u8) -> bool {
    matches!(byte, 0x00..=0x1f | 0x7f | 0xc2 | 0xe2) && byte != b'\n' && byte != b'\t'
}

/// [`may_start_dangerous`] of every byte: one load per byte where the comparisons took several
/// (a context prompt's diff is scanned byte by byte; this halved the scan's instructions).
static MAY_START_DANGEROUS: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = may_start_dangerous(byte as u8);
        byte += 1;
    }
    table
};

/// Like [`sanitize`], for text that must stay on one line (a title in a `list` row, a
/// subject): newlines and tabs are escaped too, so stored text cannot forge extra rows.
pub fn sanitize_line(text: &str) -> String {
    sanitize(text).replace('\n', "\\n").replace('\t', " ")
}

/// Whether colour may be used on stdout (`--color`, `NO_COLOR`, `color.ui`, a terminal:
/// see `terminal`).
pub fn color_enabled() -> bool {
    super::terminal::color_enabled()
}

/// Wraps `text` in an ANSI style when colour is enabled.
pub fn paint(text: &str, style: Style) -> String {
    if !color_enabled() {
        return text.to_owned();
    }
    let code = match style {
        Style::Bold => "1",
        Style::Dim => "2",
        Style::Green => "32",
        Style::Yellow => "33",
        Style::Red => "31",
        Style::Cyan => "36",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The few styles we use.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    /// Headings.
    Bold,
    /// Secondary information.
    Dim,
    /// Approvals, COMPLETE.
    Green,
    /// Waiting states.
    Yellow,
    /// Changes requested, rejections.
    Red,
    /// IDs.
    Cyan,
}

/// Style for a status marker.
pub fn status_style(status: &str) -> Style {
    match status {
        "COMPLETE" | "READY_FOR_IMPLEMENTATION" => Style::Green,
        "CHANGES_REQUESTED" => Style::Red,
        "ABANDONED" => Style::Dim,
        _ => Style::Yellow,
    }
}

/// Writes data to stdout (or the pager); a broken pipe exits 0 silently.
pub fn out(text: &str) {
    if let Some(result) = super::terminal::write_to_pager(text.as_bytes()) {
        if result.is_err() {
            // The user left the pager before the end: nothing more to show.
            super::terminal::finish_pager();
            std::process::exit(0);
        }
        return;
    }
    let mut stdout = io::stdout().lock();
    let result = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
    if let Err(e) = result
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Writes to stdout through a buffer as `write` produces the output (for output too large to
/// build first); a reader that went away (`| head`) ends the program quietly, as git does.
pub fn out_streamed(
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut stdout = io::BufWriter::with_capacity(64 << 10, io::stdout().lock());
    let result = write(&mut stdout).and_then(|()| Ok(stdout.flush()?));
    if let Err(e) = &result
        && e.chain().any(|c| {
            c.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
        })
    {
        std::process::exit(0);
    }
    result
}

/// Prints one JSON document on stdout.
pub fn json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    out(&text);
    Ok(())
}

/// A progress reporter for long work: a counter line redrawn on stderr when stderr is a
/// terminal and the work is large enough to notice; silent otherwise.
pub fn progress(label: &str) -> impl FnMut(usize, usize) + '_ {
    use git_handoff::report::Reporter as _;
    move |done, total| StderrReporter.progress(label, done, total)
}

/// Writes to stderr, ignoring failures: a closed stderr (`git handoff pull 2>&1 | head -1`)
/// must never turn a message into a panic.
pub fn err_write(text: &str) {
    let mut stderr = io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// Whether `GIT_HANDOFF_TRACE` asks for phase timings (like `GIT_TRACE_PERFORMANCE`).
fn tracing() -> bool {
    std::env::var_os("GIT_HANDOFF_TRACE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A status line on stderr, prefixed `handoff:`.
pub fn status(message: &str) {
    err_write(&format!("handoff: {message}\n"));
}

/// A warning on stderr.
pub fn warn(message: &str) {
    err_write(&format!("handoff: warning: {message}\n"));
}

/// The CLI's reporter: the core's status lines and warnings on stderr (sanitised: they may
/// quote stored text), timings when `GIT_HANDOFF_TRACE` is set, progress on a terminal.
#[derive(Debug, Default, Clone, Copy)]
pub struct StderrReporter;

impl git_handoff::report::Reporter for StderrReporter {
    fn status(&self, message: &str) {
        status(&sanitize(message));
    }
    fn warn(&self, message: &str) {
        warn(&sanitize(message));
    }
    fn phase(&self, phase: &str, elapsed: std::time::Duration) {
        if tracing() {
            err_write(&format!("handoff: trace: {phase}: {elapsed:.2?}\n"));
        }
    }
    fn progress(&self, label: &str, done: usize, total: usize) {
        if !io::stderr().is_terminal() || total < 200 {
            return;
        }
        if done == total || done.is_multiple_of(50) {
            let end = if done == total { "\n" } else { "" };
            err_write(&format!("\rhandoff: {label} {done}/{total}{end}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sanitize` means, one character at a time.
    fn sanitize_by_char(text: &str) -> String {
        text.chars()
            .map(|c| {
                if is_dangerous(c) {
                    format!("\\u{{{:x}}}", u32::from(c))
                } else {
                    c.to_string()
                }
            })
            .collect()
    }

    proptest::proptest! {
        /// The run-copying fast path gives what the character rule gives, on text mixing
        /// ASCII, controls, C1 controls, bidi marks and other characters with the same lead
        /// bytes (U+00A0.., U+2000..).
        #[test]
        fn sanitize_agrees_with_the_character_rule(
            text in "[a-z\\n\\t\\x00-\\x1f\\x7f\\u{80}-\\u{a0}\\u{2000}-\\u{2070}\\u{e9}\\u{1f600}]{0,40}"
        ) {
            proptest::prop_assert_eq!(sanitize(&text), sanitize_by_char(&text));
        }
    }

    #[test]
    fn sanitize_escapes_every_dangerous_class() {
        assert_eq!(
            sanitize("a\x1bb\u{7f}c\u{85}d\u{9f}\u{a0}\u{202e}\u{2069}\u{2070}\u{e9}\n\t"),
            "a\\u{1b}b\\u{7f}c\\u{85}d\\u{9f}\u{a0}\\u{202e}\\u{2069}\u{2070}\u{e9}\n\t"
        );
    }

    #[test]
    fn escapes_are_neutralised_but_text_kept() {
        let hostile = "ok\x1b]0;pwned\x07 \x1b[31mred\x1b[0m\u{202e}rtl\r\nline\ttab";
        let safe = sanitize(hostile);
        assert!(!safe.contains('\x1b') && !safe.contains('\x07') && !safe.contains('\r'));
        assert!(!safe.contains('\u{202e}'));
        assert!(
            safe.contains("\\u{1b}[31mred") && safe.contains("\nline\ttab"),
            "{safe}"
        );
    }
}
