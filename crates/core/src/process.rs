//! Running a local program with a time limit: its input fed and its output drained on their
//! own threads (so a large prompt or a chatty program can never fill a pipe and stall both
//! sides), in its own process group, which is stopped whole when the time runs out. Used for
//! the agents `git handoff run` starts and for ByteRover's CLI.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// What a program did.
#[derive(Debug)]
pub struct Finished {
    /// Its exit code (`None` when a signal ended it, or when it was stopped).
    pub code: Option<i32>,
    /// Its standard output, lossily decoded.
    pub stdout: String,
    /// Its standard error, lossily decoded.
    pub stderr: String,
    /// Whether it was stopped at the time limit.
    pub timed_out: bool,
}

impl Finished {
    /// Whether it exited with 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs `command` with `input` on its standard input (closed when `None`), at most `limit`
/// long; `waiting` is called about every 15 seconds with the time spent (for progress). Fails
/// only when the program cannot be started.
pub fn run(
    mut command: Command,
    input: Option<Vec<u8>>,
    limit: Duration,
    waiting: &mut dyn FnMut(Duration),
) -> std::io::Result<Finished> {
    command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, so that a timeout stops everything it started, not only its
    // first process (whose children would keep the output pipes open).
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn()?;
    let stdin = child.stdin.take();
    let feeder = std::thread::spawn(move || {
        if let (Some(mut stdin), Some(input)) = (stdin, input) {
            let _ = stdin.write_all(&input);
        }
    });
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    // The exit is awaited on a thread of its own, so that it is seen the moment it happens
    // (polling added up to a poll interval to every run) while this thread keeps the clock.
    let pid = child.id();
    let (exited, exit) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = exited.send(());
        status
    });
    let started = Instant::now();
    let mut next_report = Duration::from_secs(15);
    let timed_out = loop {
        let elapsed = started.elapsed();
        if elapsed >= limit {
            stop_group(pid);
            break true;
        }
        let until = (limit - elapsed).min(next_report.saturating_sub(elapsed));
        match exit.recv_timeout(until) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break false,
            Err(RecvTimeoutError::Timeout) => {
                let elapsed = started.elapsed();
                if elapsed >= next_report {
                    waiting(elapsed);
                    next_report += Duration::from_secs(15);
                }
            }
        }
    };
    let status = waiter.join().ok().and_then(Result::ok);
    let code = if timed_out {
        None
    } else {
        status.and_then(|s| s.code())
    };
    let _ = feeder.join();
    Ok(Finished {
        code,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
    })
}

/// Stops a whole process group, and its leader should it have left the group, through the
/// `kill` command: the crate forbids unsafe code, so no direct signal call.
fn stop_group(pid: u32) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}"), &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    #[cfg(not(unix))]
    let _ = pid;
}
