//! The one integration test binary (jj's runner pattern): every `test_*.rs` is a module here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod test_agents;
mod test_annotate;
mod test_attribution;
mod test_config;
mod test_demo;
mod test_format;
mod test_fuzz;
mod test_gates;
mod test_hooks;
mod test_hostile;
mod test_index;
mod test_integrity;
mod test_loop;
mod test_manuals;
mod test_mcp;
mod test_membership;
mod test_messages;
mod test_object_formats;
mod test_real_clis;
mod test_robustness;
mod test_sharing;
mod test_snapshots;
mod test_sync;
mod test_trust;
mod test_workflow;

#[test]
fn no_forgotten_test_files() {
    let listed = include_str!("cli.rs");
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name
            .strip_prefix("test_")
            .and_then(|n| n.strip_suffix(".rs"))
        {
            assert!(
                listed.contains(&format!("mod test_{module};")),
                "tests/{name} is not listed in tests/cli.rs"
            );
        }
    }
}
