#!/usr/bin/env bash
# Runs the property-driven fuzz targets (tests/test_fuzz.rs) for longer than CI does: the
# decoders a remote or an agent feeds (artifacts, session.toml, notes, findings JSON, the seed
# format) and redaction. PROPTEST_CASES sets the cases per target (default 50,000, a few
# minutes on two cores). A failure prints the smallest input that breaks the property.
set -euo pipefail
cd "$(dirname "$0")/.."
PROPTEST_CASES="${PROPTEST_CASES:-50000}" cargo test --test cli -- test_fuzz "$@"
