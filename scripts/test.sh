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

echo "== unit and in-process workflow tests"
npx jest --selectProjects unit workflow

echo "== end-to-end tests in a real n8n (installed once into a cache outside the repo)"
bash scripts/install-n8n.sh >/dev/null
npx jest --selectProjects e2e --runInBand
