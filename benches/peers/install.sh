#!/usr/bin/env bash
# Installs the MCP memory servers that `cargo bench --bench peers` runs beside git-handoff, into
# the folder given (target/bench-peers), from the npm registry and PyPI only, pinned. Does
# nothing when the same versions are there already.
#
# - @modelcontextprotocol/server-memory: the reference memory server (npm).
# - claude-session-continuity-mcp (npm): its sharp 0.32 downloads libvips from outside the
#   registry at install, so sharp is overridden to 0.33.5, whose binaries come from npm.
# - ctxmem (PyPI), in a virtualenv of its own: its `mcp` extra pulls mcp 2.x, where the FastMCP
#   it imports no longer exists, so mcp is pinned below 2.
set -euo pipefail
dest=${1:?usage: install.sh FOLDER}
want='server-memory 2026.8.31; session-continuity 1.17.2; ctxmem 2.2.0 mcp<2'
mkdir -p "$dest"
cd "$dest"
if [[ -f installed && "$(cat installed)" == "$want" ]]; then
  exit 0
fi
cat > package.json <<'JSON'
{
  "name": "bench-peers",
  "private": true,
  "dependencies": {
    "@modelcontextprotocol/server-memory": "2026.8.31",
    "claude-session-continuity-mcp": "1.17.2"
  },
  "overrides": { "sharp": "0.33.5" }
}
JSON
npm install --no-audit --no-fund --loglevel=error
npm rebuild better-sqlite3 --loglevel=error
python3 -m venv ctxmem-venv
ctxmem-venv/bin/pip install --quiet 'ctxmem==2.2.0' 'mcp<2'
printf '%s' "$want" > installed
