//! Hermetic test environment: a temp root with its own HOME, no global or system git config,
//! a fixed identity, and clocks (git's and ours) that advance one second per command.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Every public subcommand.
pub const COMMANDS: &[&str] = &[
    "init",
    "plan",
    "review",
    "implement",
    "validate",
    "pattern",
    "abandon",
    "undo",
    "show",
    "status",
    "list",
    "search",
    "reindex",
    "sync",
    "annotate",
    "config",
    "completion",
    "install-man",
    "log",
    "diff",
    "context",
    "why",
    "push",
    "pull",
    "repair",
    "start",
    "stop",
    "demo",
    "run",
    "loop",
    "mcp",
    "schema",
];

/// Path of the binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_git-handoff");

/// A temp root, a HOME inside it and a command counter for fixed, increasing dates.
pub struct TestEnv {
    pub root: tempfile::TempDir,
    counter: Cell<u64>,
}

/// The result of running a command. `#[must_use]`: a run nobody checks asserts nothing.
#[derive(Debug)]
#[must_use]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts the exit code and returns stderr.
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "panic: {}", self.stderr);
        &self.stderr
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl TestEnv {
    pub fn new() -> Self {
        let root = tempfile::Builder::new()
            .prefix("handoff-test-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(root.path().join("home")).unwrap();
        Self {
            root,
            counter: Cell::new(0),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    fn tick(&self) -> u64 {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        n
    }

    /// A command with the hermetic environment, run in `dir`.
    pub fn command(&self, program: &str, dir: &Path) -> Command {
        let n = self.tick();
        let epoch = 1_761_559_200 + n; // 2025-10-27T10:00:00Z + n seconds
        let rfc = chrono_like(epoch);
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env_clear()
            .env("PATH", path_with_bin())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("home/.config"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", format!("@{epoch} +0000"))
            .env("GIT_COMMITTER_DATE", format!("@{epoch} +0000"))
            .env("GIT_HANDOFF_NOW", rfc)
            .env("GIT_HANDOFF_RANDOMNESS_SEED", n.to_string())
            .env("TZ", "UTC")
            .env("LC_ALL", "C")
            .env("NO_COLOR", "1")
            .env("GIT_EDITOR", "false")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `git` in `dir`.
    pub fn git(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from(self.command("git", dir).args(args).output().unwrap())
    }

    /// Runs `git` and returns trimmed stdout, asserting success.
    #[track_caller]
    pub fn git_ok(&self, dir: &Path, args: &[&str]) -> String {
        let run = self.git(dir, args);
        assert_eq!(run.code, 0, "git {args:?} failed: {}", run.stderr);
        run.stdout.trim().to_owned()
    }

    /// Runs `git-handoff` in `dir`.
    pub fn handoff(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from(self.command(BIN, dir).args(args).output().unwrap())
    }

    /// Runs `git-handoff` with `input` on standard input.
    pub fn handoff_stdin(&self, dir: &Path, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(BIN, dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// Runs shell scripts in `dir` all at once and asserts that every one succeeded.
    pub fn run_concurrently(&self, dir: &Path, scripts: &[String]) {
        let children: Vec<_> = scripts
            .iter()
            .map(|script| {
                self.command("sh", dir)
                    .args(["-c", script])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// A new repository with an identity and one commit.
    pub fn repo(&self, name: &str) -> PathBuf {
        self.repo_in("sha1", name)
    }

    /// A new repository of an object format (`sha1` or `sha256`) with an identity and one
    /// commit.
    pub fn repo_in(&self, format: &str, name: &str) -> PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        self.git_ok(
            &dir,
            &[
                "init",
                "--quiet",
                "--initial-branch=main",
                &format!("--object-format={format}"),
            ],
        );
        self.git_ok(&dir, &["config", "user.name", "A U Thor"]);
        self.git_ok(&dir, &["config", "user.email", "author@example.com"]);
        self.commit_file(&dir, "README.md", "hello\n", "Initial commit");
        dir
    }

    /// Writes a file, commits it and returns the new commit's OID.
    pub fn commit_file(&self, dir: &Path, path: &str, content: &str, message: &str) -> String {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(full, content).unwrap();
        self.git_ok(dir, &["add", path]);
        self.git_ok(dir, &["commit", "--quiet", "-m", message]);
        self.git_ok(dir, &["rev-parse", "HEAD"])
    }

    /// Starts a session with a plan and returns its ID.
    pub fn plan(&self, dir: &Path, title: &str) -> String {
        let run = self.handoff(dir, &["plan", "-t", title, "-m", "## Plan\nDo the thing."]);
        run.ok().trim().to_owned()
    }
}

/// Waits for a test server started with `state` as its folder to write its port there.
pub fn wait_for_port(state: &Path, what: &str) -> u16 {
    let started = std::time::Instant::now();
    loop {
        if let Ok(port) = std::fs::read_to_string(state.join("port")) {
            return port.trim().parse().unwrap();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{what} did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Writes a session ref by hand with plain git plumbing: `files` are (path, content).
pub fn forge_session(env: &TestEnv, repo: &Path, refname: &str, files: &[(&str, &str)]) {
    let mut index_env = env.command("git", repo);
    let index = env.path(&format!("index-{}", refname.replace('/', "_")));
    let _ = std::fs::remove_file(&index);
    for (path, content) in files {
        let blob = {
            let mut c = env.command("git", repo);
            c.args(["hash-object", "-w", "--stdin"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped());
            let mut child = c.spawn().unwrap();
            std::io::Write::write_all(child.stdin.as_mut().unwrap(), content.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        };
        let status = env
            .command("git", repo)
            .env("GIT_INDEX_FILE", &index)
            .args([
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("100644,{blob},{path}"),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }
    let tree = index_env
        .env("GIT_INDEX_FILE", &index)
        .args(["write-tree"])
        .output()
        .unwrap();
    let tree = String::from_utf8(tree.stdout).unwrap().trim().to_owned();
    let commit = env.git_ok(repo, &["commit-tree", &tree, "-m", "forged"]);
    env.git_ok(repo, &["update-ref", refname, &commit]);
}

/// `PATH` with the directory of the binary under test first, so installed hooks find
/// `git-handoff` as they would after `cargo install`.
fn path_with_bin() -> std::ffi::OsString {
    let bin_dir = Path::new(BIN).parent().unwrap().to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&rest))).unwrap()
}

/// Formats a Unix time as RFC 3339 UTC without pulling chrono into the test crate.
fn chrono_like(epoch: u64) -> String {
    let days = epoch / 86_400;
    let secs = epoch % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

#[test]
fn clock_formatting_is_right() {
    assert_eq!(chrono_like(1_761_559_200), "2025-10-27T10:00:00Z");
    assert_eq!(chrono_like(951_782_400), "2000-02-29T00:00:00Z");
}

/// A `git daemon` serving `base` on 127.0.0.1 with pushes enabled; killed on drop.
pub struct GitDaemon {
    child: std::process::Child,
    /// `git://127.0.0.1:PORT/`
    pub url: String,
}

impl GitDaemon {
    pub fn start(env: &TestEnv, base: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = env
            .command("git", base)
            .args([
                "daemon",
                "--export-all",
                "--enable=receive-pack",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
            ])
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "git daemon did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Self {
            child,
            url: format!("git://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestEnv {
    /// A bare repository `name.git` seeded from a fresh repo, and `clones` clones of it with
    /// their own identities.
    pub fn bare_with_clones(&self, name: &str, clones: &[&str]) -> (PathBuf, Vec<PathBuf>) {
        self.bare_with_clones_in("sha1", name, clones)
    }

    /// [`TestEnv::bare_with_clones`] in an object format (`sha1` or `sha256`).
    pub fn bare_with_clones_in(
        &self,
        format: &str,
        name: &str,
        clones: &[&str],
    ) -> (PathBuf, Vec<PathBuf>) {
        let seed = self.repo_in(format, &format!("{name}-seed"));
        let bare = self.path(&format!("{name}.git"));
        self.git_ok(
            self.root.path(),
            &[
                "clone",
                "-q",
                "--bare",
                seed.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        let dirs = clones
            .iter()
            .map(|c| {
                let dir = self.path(c);
                self.git_ok(
                    self.root.path(),
                    &["clone", "-q", bare.to_str().unwrap(), dir.to_str().unwrap()],
                );
                self.git_ok(&dir, &["config", "user.name", c]);
                self.git_ok(&dir, &["config", "user.email", &format!("{c}@example.com")]);
                dir
            })
            .collect();
        (bare, dirs)
    }
}

/// Writes `bytes` as a blob with plain git and returns its OID.
pub fn hash_object(env: &TestEnv, repo: &std::path::Path, bytes: &[u8]) -> String {
    let mut child = env
        .command("git", repo)
        .args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The raw bytes of the note on `commit` in `refs/notes/handoff`.
pub fn note_bytes(env: &TestEnv, repo: &std::path::Path, commit: &str) -> Vec<u8> {
    let out = env
        .command("git", repo)
        .args(["notes", "--ref=handoff", "show", commit])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Adds `path` with `content` to a session's tree in a new commit, with plain git plumbing, as
/// an older clone or a hostile remote could have written it.
pub fn add_to_session(env: &TestEnv, repo: &std::path::Path, id: &str, path: &str, content: &[u8]) {
    let refname = format!("refs/handoff/sessions/{id}");
    let index = env.path("forge-index");
    let _ = std::fs::remove_file(&index);
    let blob = hash_object(env, repo, content);
    let git_index = |args: &[&str]| {
        let out = env
            .command("git", repo)
            .env("GIT_INDEX_FILE", &index)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    git_index(&["read-tree", &refname]);
    git_index(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("100644,{blob},{path}"),
    ]);
    let tree = git_index(&["write-tree"]);
    let commit = env.git_ok(
        repo,
        &["commit-tree", &tree, "-p", &refname, "-m", "forged"],
    );
    env.git_ok(repo, &["update-ref", &refname, &commit]);
}

/// Builds a session commit by hand from `ls-tree`-style lines (mode, type, oid, name) with
/// `git mktree`, which accepts what `git fsck --strict` refuses.
pub fn mktree(env: &TestEnv, repo: &std::path::Path, lines: &[String]) -> String {
    let mut child = env
        .command("git", repo)
        .args(["mktree", "--missing"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.join("\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Writes an executable hook file `name` into the repository's hooks directory.
pub fn write_hook(repo: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = repo.join(".git/hooks").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The real agent CLIs and the MCP Inspector from npm (pinned), installed once into the test
/// tools' cache ([`tools_cache`]); returns their `node_modules/.bin`.
pub fn node_clis() -> PathBuf {
    static READY: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
    npm_install(
        &READY,
        "node-clis",
        &[
            "@openai/codex@0.169.0",
            "@anthropic-ai/claude-code@2.1.330",
            "@modelcontextprotocol/inspector@2.12.0",
        ],
    )
}

/// ByteRover's real CLI from npm (pinned), installed once into the test tools' cache; returns
/// its `node_modules/.bin`.
pub fn brv_cli() -> PathBuf {
    static READY: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);
    npm_install(&READY, "brv-cli", &["byterover-cli@3.14.0"])
}

/// Where the npm tools the tests run are installed: `$GIT_HANDOFF_TEST_TOOLS`, else
/// `$XDG_CACHE_HOME/git-handoff/test-tools`, else `~/.cache/git-handoff/test-tools` (about
/// 1.7 GB in all), outside the clone, so that another clone or `cargo clean` does not download
/// them again.
pub fn tools_cache() -> PathBuf {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("GIT_HANDOFF_TEST_TOOLS") {
        return dir;
    }
    var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|home| home.join(".cache")))
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
            |cache| cache.join("git-handoff"),
        )
        .join("test-tools")
}

/// Installs `packages` into `<tools_cache>/<folder>` unless the same list is there already,
/// under a file lock (test runs of two clones share the cache).
pub fn npm_install(
    ready: &std::sync::Mutex<Option<PathBuf>>,
    folder: &str,
    packages: &[&str],
) -> PathBuf {
    let mut ready = ready
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(bin) = ready.as_ref() {
        return bin.clone();
    }
    let prefix = tools_cache().join(folder);
    std::fs::create_dir_all(&prefix).unwrap();
    let lock = std::fs::File::create(prefix.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let bin = prefix.join("node_modules/.bin");
    let stamp = prefix.join("installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(&packages.join("\n")) {
        let status = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&prefix)
            .args(packages)
            .status()
            .expect("npm (Node.js) is needed to install the real CLIs these tests run");
        assert!(status.success(), "npm install of {packages:?} failed");
        std::fs::write(&stamp, packages.join("\n")).unwrap();
    }
    drop(lock);
    *ready = Some(bin.clone());
    bin
}
