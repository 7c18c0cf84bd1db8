#!/usr/bin/env bash
# `make api-test`: Schemathesis against real outpost-servers on 127.0.0.1, one on SQLite and, when
# OUTPOST_TEST_PG_URL names a PostgreSQL server (scripts/with-postgres.sh), one on PostgreSQL, side
# by side. Every answer must be a status, content type and body the OpenAPI document lists, none
# a server error, and requests the document forbids must be refused (checks and per-operation
# exceptions: scripts/schemathesis.toml).
#
# Each run gets a fresh organisation (`init`, demo data, an intake key), a server on a free port,
# and hands the admin's access token and the intake key to Schemathesis through the environment.
# Generation is deterministic (the same requests every run) and bounded
# (OUTPOST_API_TEST_EXAMPLES per operation and phase, 12 by default). Exits non-zero on any
# failure, printing Schemathesis' report and the end of that server's log.
set -euo pipefail

target="${CARGO_TARGET_DIR:?set by the Makefile}/debug"
st="$HOME/.cache/outpost/schemathesis-${SCHEMATHESIS_VERSION:?set by the Makefile}/bin/st"
config="$(cd "$(dirname "$0")" && pwd)/schemathesis.toml"
examples="${OUTPOST_API_TEST_EXAMPLES:-12}"
[ -x "$st" ] || { echo "api-test: $st is missing; run make prereqs" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

# One backend, start to finish, in its own directory; its output goes to $dir/report.
run_backend() {
  local backend=$1 dir="$root/$1"
  mkdir -p "$dir"
  local db
  case "$backend" in
    sqlite) db="sqlite://$dir/outpost.db" ;;
    postgres)
      local name="outpost_api_test_$$"
      psql -q "$OUTPOST_TEST_PG_URL" -c "CREATE DATABASE $name"
      db="${OUTPOST_TEST_PG_URL%/*}/$name"
      ;;
  esac
  server() { "$target/outpost-server" --database-url "$db" --master-key-file "$dir/master-key" "$@"; }
  local init password intake_key port base token
  init=$(server init --org "API test" --admin-email admin@api-test.example)
  password=$(printf '%s\n' "$init" | sed -n 's/.*one-time password: //p')
  [ -n "$password" ] || { echo "init printed no password"; return 1; }
  server demo --tickets 40 >/dev/null
  intake_key=$(server intake-key add --channel api --name api-test | sed -n 's/.*shown once: //p')
  [ -n "$intake_key" ] || { echo "intake-key add printed no key"; return 1; }

  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  # The binary itself, not the `server` function: `$!` must be the server, or killing it would
  # only kill a subshell and leave the server running.
  OUTPOST_BIND="127.0.0.1:$port" "$target/outpost-server" --database-url "$db" \
    --master-key-file "$dir/master-key" serve >"$dir/server.log" 2>&1 &
  server_pid=$!
  # The function runs in its own subshell: the server dies with it, whatever happens.
  trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    curl -sf "$base/health" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { echo "the server exited:"; tail -20 "$dir/server.log"; return 1; }
    sleep 0.1
  done
  token=$(curl -sf -H 'content-type: application/json' \
    -d "{\"email\":\"admin@api-test.example\",\"password\":\"$password\"}" "$base/v1/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

  # Schemathesis keeps its caches in the working directory: the temporary one, never the clone.
  cd "$dir"
  local st_run=("$st" --config-file "$config" run "$base/openapi.json" --workers 1 --max-examples "$examples")
  # Operations that end a user's sessions (disabling, resetting a password or second factor)
  # run alone and last: Schemathesis reuses ids from earlier answers (the admin's own, from
  # /v1/me) and would end the session every other operation runs with.
  local ending=()
  for path in disable reset-password reset-totp; do
    ending+=("/v1/admin/users/{id}/$path")
  done
  local exclude=() include=()
  for path in "${ending[@]}"; do
    exclude+=(--exclude-path "$path")
    include+=(--include-path "$path")
  done
  if ! OUTPOST_API_TEST_TOKEN="$token" OUTPOST_API_TEST_INTAKE_KEY="$intake_key" \
    "${st_run[@]}" "${exclude[@]}" ||
    ! OUTPOST_API_TEST_TOKEN="$token" OUTPOST_API_TEST_INTAKE_KEY="$intake_key" \
      "${st_run[@]}" "${include[@]}"; then
    echo "Schemathesis found failures; the server's log ends with:"
    tail -30 "$dir/server.log"
    return 1
  fi
}

backends=(sqlite)
[ -n "${OUTPOST_TEST_PG_URL:-}" ] && backends+=(postgres)
pids=()
for backend in "${backends[@]}"; do
  echo "api-test: $backend"
  (run_backend "$backend" >"$root/$backend.report" 2>&1) &
  pids+=($!)
done
failed=0
for i in "${!backends[@]}"; do
  if wait "${pids[$i]}"; then
    echo "api-test: ${backends[$i]}: no failures ($(grep -m1 'generated, ' "$root/${backends[$i]}.report" | sed 's/^ *//'))"
  else
    failed=1
    echo "api-test: ${backends[$i]} FAILED:" >&2
    cat "$root/${backends[$i]}.report" >&2
  fi
done
exit "$failed"
