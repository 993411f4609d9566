//! Property-driven fuzzing of the decoders that a remote or an agent feeds (issue "Trust, round
//! 2"): artifact front matter and session.toml, notes, findings JSON, the seed-format parser,
//! redaction, revision lists. Each property holds for every input: no panic, and the decoders
//! that accept something give back what re-encoding reproduces.
//!
//! In CI they run a few hundred cases each; `scripts/fuzz.sh` runs them for minutes
//! (`PROPTEST_CASES`).

use git_handoff::session::codec::{decode_artifact, decode_meta, encode_artifact};
use proptest::prelude::*;

/// Inputs shaped like what a hostile writer sends: TOML-ish front matter with fences, quotes,
/// escapes and control characters, or any bytes at all.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::collection::vec(
        prop_oneof![
            Just("+++\n".to_owned()),
            Just("schema_version = 1\n".to_owned()),
            Just("schema_version = 3\n".to_owned()),
            Just("commits = [\"".to_owned()),
            Just("\"\"\"".to_owned()),
            Just("'''".to_owned()),
            Just("[[findings]]\n".to_owned()),
            Just("kind = \"implementation\"\n".to_owned()),
            Just("id = \"01JB0000000000000000000000\"\n".to_owned()),
            Just("\\u0000".to_owned()),
            "[ -~]{0,24}",
            "\\PC{0,8}",
        ],
        0..40,
    );
    pieces.prop_map(|p| p.concat())
}

fn cases() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn artifact_decoding_never_panics_and_round_trips(text in hostile_text(), bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for input in [text.as_bytes(), bytes.as_slice()] {
            if let Ok(artifact) = decode_artifact(input) {
                // What was accepted encodes, and decodes to the same artifact.
                let again = encode_artifact(&artifact).expect("an accepted artifact encodes");
                let back = decode_artifact(again.as_bytes()).expect("it decodes again");
                prop_assert_eq!(back, artifact);
            }
            let _ = decode_meta(input);
        }
    }

    #[test]
    fn notes_parsing_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512), text in hostile_text()) {
        let _ = git_handoff::store::parse_note(&bytes);
        let lines = git_handoff::store::parse_note(text.as_bytes());
        for line in lines {
            // Every line read back renders to one that reads back the same.
            let again = git_handoff::store::parse_note(line.render().as_bytes());
            prop_assert_eq!(again, vec![line]);
        }
    }

    #[test]
    fn findings_and_seed_texts_never_panic(text in hostile_text(), json in "[\\[\\]{}\",:0-9a-z_ ]{0,200}") {
        let _ = git_handoff::workflow::findings::parse(&text, None);
        let _ = git_handoff::workflow::findings::parse(&json, None);
        let _ = git_handoff::workflow::seed::parse(&text);
        let _ = git_handoff::workflow::seed::body_of(&text);
    }

    #[test]
    fn redaction_never_panics_and_finds_nothing_twice(text in hostile_text()) {
        let (once, _) = git_handoff::redact::redact(&text);
        let (twice, again) = git_handoff::redact::redact(&once);
        prop_assert!(again.is_empty(), "{:?} -> {:?} -> {:?}", text, once, again);
        prop_assert_eq!(twice, once);
    }
}
