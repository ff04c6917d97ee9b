#!/usr/bin/env bash
# Throw-away Postgres and Redis on 127.0.0.1, for n8n in queue mode (the queue e2e test, or by hand).
#
#   scripts/queue-services.sh check          exit 0 when the binaries are there, else 3 and what is missing
#   scripts/queue-services.sh start [DIR]    start both on free ports, data in DIR (default: a new temp
#                                            folder); prints KEY=VALUE lines (n8n's variable names)
#   scripts/queue-services.sh stop DIR       stop both, remove DIR
#
# Binaries: Debian's `postgresql` (initdb, pg_ctl under /usr/lib/postgresql/<version>/bin, or PG_BIN)
# and `redis-server`. Postgres refuses to run as root: as root it runs as the `postgres` user (runuser).
# The cluster is made for tests: fsync off, the n8n role's password checked over TCP, nothing kept.
# `start` also stops and removes services left behind by an earlier run whose owner process is gone
# (QUEUE_SERVICES_OWNER_PID, default the caller's parent process).
set -euo pipefail

PREFIX="n8n-queue-services-"
STEP_TIMEOUT=60

find_pg_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/pg_ctl" ]; then echo "$PG_BIN"; return 0; fi
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"; return 0
  fi
  return 1
}

missing() {
  local out=()
  command -v redis-server >/dev/null 2>&1 || out+=("redis-server (Debian package redis-server)")
  command -v redis-cli >/dev/null 2>&1 || out+=("redis-cli (Debian package redis-server)")
  find_pg_bin >/dev/null || out+=("initdb/pg_ctl (Debian package postgresql)")
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then out+=("a 'postgres' user to run Postgres as (running as root)"); fi
  if [ "${#out[@]}" -gt 0 ]; then printf '%s\n' "${out[@]}"; fi
}

# A port free on 127.0.0.1 a moment ago, below Linux's ephemeral range (32768-60999), where an outgoing
# connection cannot take it before the server binds it (as test/support/n8n-instance.ts freePort does).
free_port() {
  node -e "
    const net = require('net');
    const tryPort = (n) => { const s = net.createServer(); s.once('error', () => n > 0 ? tryPort(n - 1) : process.exit(1));
      s.listen(20000 + Math.floor(Math.random() * 12000), '127.0.0.1', () => { console.log(s.address().port); s.close(); }); };
    tryPort(50);"
}

# Runs a Postgres binary as the user that owns the cluster.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop_dir() {
  local dir="$1"
  [ -d "$dir" ] || return 0
  if [ -f "$dir/services.env" ]; then
    # shellcheck disable=SC1091
    . "$dir/services.env"
    if [ -f "$dir/pg/postmaster.pid" ]; then
      as_pg timeout "$STEP_TIMEOUT" "$PG_BIN_USED/pg_ctl" -D "$dir/pg" -m fast -w -t 30 stop >/dev/null 2>&1 || {
        local pid; pid="$(head -n 1 "$dir/pg/postmaster.pid" 2>/dev/null || true)"
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
      }
    fi
    if [ -f "$dir/redis.pid" ]; then
      timeout 10 redis-cli -h 127.0.0.1 -p "$QUEUE_BULL_REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
      local rpid; rpid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
      for _ in $(seq 1 50); do { [ -n "$rpid" ] && kill -0 "$rpid" 2>/dev/null; } || break; sleep 0.1; done
      [ -n "$rpid" ] && kill -KILL "$rpid" 2>/dev/null || true
    fi
  fi
  rm -rf "$dir"
}

remove_stale() {
  local dir owner
  for dir in "${TMPDIR:-/tmp}/$PREFIX"*; do
    [ -f "$dir/owner.pid" ] || continue
    owner="$(cat "$dir/owner.pid")"
    if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then stop_dir "$dir"; fi
  done
}

start() {
  local problems; problems="$(missing)"
  if [ -n "$problems" ]; then echo "missing: $problems" >&2; exit 3; fi
  remove_stale
  local dir="${1:-}"
  if [ -z "$dir" ]; then dir="$(mktemp -d "${TMPDIR:-/tmp}/${PREFIX}XXXXXX")"; else mkdir -p "$dir"; fi
  chmod 755 "$dir"
  echo "${QUEUE_SERVICES_OWNER_PID:-$PPID}" > "$dir/owner.pid"
  trap 'echo "queue-services: start failed; logs:" >&2; tail -n 30 "$dir"/*.log >&2 2>/dev/null || true; stop_dir "$dir"' ERR

  local pg_bin pg_port redis_port password="n8n-queue-test"
  pg_bin="$(find_pg_bin)"
  pg_port="$(free_port)"
  redis_port="$(free_port)"
  while [ "$redis_port" = "$pg_port" ]; do redis_port="$(free_port)"; done
  cat > "$dir/services.env" <<EOF
PG_BIN_USED=$pg_bin
DB_POSTGRESDB_PORT=$pg_port
QUEUE_BULL_REDIS_PORT=$redis_port
EOF

  # Postgres: a fresh cluster owned by the user that runs it.
  mkdir -p "$dir/pg" "$dir/sock"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/pg" "$dir/sock"; fi
  printf '%s\n' "$password" > "$dir/pwfile"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/pwfile"; fi
  as_pg timeout "$STEP_TIMEOUT" "$pg_bin/initdb" -D "$dir/pg" -U n8n --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
  rm -f "$dir/pwfile"
  touch "$dir/postgres.log"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/postgres.log"; fi
  as_pg timeout "$STEP_TIMEOUT" "$pg_bin/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w -t 50 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null
  as_pg timeout "$STEP_TIMEOUT" "$pg_bin/psql" -h "$dir/sock" -p "$pg_port" -U n8n -d postgres -qAt \
    -c "CREATE DATABASE n8n OWNER n8n" >/dev/null

  # Redis: nothing persisted.
  mkdir -p "$dir/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir/redis" >/dev/null
  local ok=""
  for _ in $(seq 1 100); do
    if [ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null || true)" = PONG ]; then ok=1; break; fi
    sleep 0.2
  done
  if [ -z "$ok" ]; then echo "redis-server did not answer PING on port $redis_port" >&2; false; fi
  trap - ERR

  cat <<EOF
QUEUE_SERVICES_DIR=$dir
DB_TYPE=postgresdb
DB_POSTGRESDB_HOST=127.0.0.1
DB_POSTGRESDB_PORT=$pg_port
DB_POSTGRESDB_DATABASE=n8n
DB_POSTGRESDB_USER=n8n
DB_POSTGRESDB_PASSWORD=$password
QUEUE_BULL_REDIS_HOST=127.0.0.1
QUEUE_BULL_REDIS_PORT=$redis_port
EOF
}

case "${1:-}" in
  check)
    problems="$(missing)"
    if [ -n "$problems" ]; then echo "$problems"; exit 3; fi
    ;;
  start) start "${2:-}" ;;
  stop)
    [ -n "${2:-}" ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
    case "$(basename "$2")" in "$PREFIX"*) ;; *) [ -f "$2/services.env" ] || { echo "$2 is not a queue-services folder" >&2; exit 2; } ;; esac
    stop_dir "$2"
    ;;
  *) echo "usage: $0 check | start [DIR] | stop DIR" >&2; exit 2 ;;
esac
