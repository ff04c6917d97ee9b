#!/usr/bin/env bash
# `npm run demo`: a real, pinned n8n with this package installed as users install it, talking to local
# stand-ins of the Decagon and dembrane ECHO APIs. Runs an export end to end and prints a summary, then
# serves the n8n editor (URL and login printed) until Ctrl-C. DEMO_EXIT=1 stops after the export.
# Everything it writes goes to .tmp/demo/ (recreated on each run) and ~/.cache/n8n-nodes-conversation-export/.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== build"
npm run --silent build >/dev/null

echo "== pinned n8n and Node 24 (installed once into ~/.cache/n8n-nodes-conversation-export, several minutes the first time)"
bash scripts/install-n8n.sh | tail -n 1

# The rest (stand-ins, n8n user folder, import, execute, start) is scripts/demo.ts, on the same helper
# the end-to-end tests use (test/support/n8n-instance.ts).
exec node node_modules/ts-node/dist/bin.js --transpile-only scripts/demo.ts
