//! Nothing lost, nothing forged: notes kept byte for byte, sizes symmetric, hostile stored data
//! validated on decode, bad input refused (docs/format.md).

use std::io::Write;
use std::process::Stdio;

use crate::common::TestEnv;

/// Writes `bytes` as a blob with plain git and returns its OID.
fn hash_object(env: &TestEnv, repo: &std::path::Path, bytes: &[u8]) -> String {
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
fn note_bytes(env: &TestEnv, repo: &std::path::Path, commit: &str) -> Vec<u8> {
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

#[test]
fn notes_over_one_mib_and_foreign_bytes_are_kept_whole() {
    let env = TestEnv::new();
    let repo = env.repo("repo");
    let id = env.plan(&repo, "Big notes");
    env.handoff(&repo, &["review", &id, "--verdict", "approve", "-m", "ok"])
        .ok();
    let commit = env.commit_file(&repo, "a.txt", "a\n", "a");
    // A person's own note on our ref: 2 MiB of lines, one of them not UTF-8, the last one
    // past the old 1 MiB cut.
    let mut foreign = Vec::new();
    for i in 0..40_000 {
        foreign.extend_from_slice(format!("line {i:06} of a long human note.\n").as_bytes());
    }
    foreign.extend_from_slice(b"latin-1 caf\xe9 \xff\xfe\n");
    foreign.extend_from_slice(b"zz the very last line\n");
    assert!(foreign.len() > 1024 * 1024);
    let blob = hash_object(&env, &repo, &foreign);
    env.git_ok(
        &repo,
        &["notes", "--ref=handoff", "add", "-C", &blob, &commit],
    );

    env.handoff(&repo, &["implement", &id, "-m", "done"]).ok();
    let note = note_bytes(&env, &repo, &commit);
    let ours = format!("Handoff-Session: {id} implementation\n");
    // Every foreign line is still there, byte for byte, and ours was added.
    let mut expected: Vec<&[u8]> = foreign.split_inclusive(|b| *b == b'\n').collect();
    expected.push(ours.as_bytes());
    expected.sort();
    let got: Vec<&[u8]> = note.split_inclusive(|b| *b == b'\n').collect();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the note was altered");
    assert!(note.windows(6).any(|w| w == b"caf\xe9 \xff"));
    env.git_ok(&repo, &["fsck", "--strict"]);
}
