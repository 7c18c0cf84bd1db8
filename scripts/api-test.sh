#!/usr/bin/env bash
# `make api-test`: Schemathesis against a real outpost-server on 127.0.0.1. Every answer must be a
# status, content type and body the OpenAPI document lists, none a server error, and requests the
# document forbids must be refused (checks and per-operation exceptions: scripts/schemathesis.toml).
#
# A fresh organisation in a temporary directory (`init`, demo data, an intake key), the server on
# a free port, the admin's access token and the intake key handed to Schemathesis through the
# environment. Generation is deterministic (the same requests every run) and bounded
# (OUTPOST_API_TEST_EXAMPLES per operation and phase, 20 by default). Exits non-zero on any
# failure, printing the end of the server's log.
set -euo pipefail

target="${CARGO_TARGET_DIR:?set by the Makefile}/debug"
st="$HOME/.cache/outpost/schemathesis-${SCHEMATHESIS_VERSION:?set by the Makefile}/bin/st"
config="$(cd "$(dirname "$0")" && pwd)/schemathesis.toml"
examples="${OUTPOST_API_TEST_EXAMPLES:-20}"
[ -x "$st" ] || { echo "api-test: $st is missing; run make prereqs" >&2; exit 1; }

dir=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

db="sqlite://$dir/outpost.db"
server() { "$target/outpost-server" --database-url "$db" "$@"; }
init=$(server init --org "API test" --admin-email admin@api-test.example)
password=$(printf '%s\n' "$init" | sed -n 's/.*one-time password: //p')
[ -n "$password" ] || { echo "api-test: init printed no password" >&2; exit 1; }
server demo --tickets 40 >/dev/null
intake_key=$(server intake-key add --channel api --name api-test | sed -n 's/.*shown once: //p')
[ -n "$intake_key" ] || { echo "api-test: intake-key add printed no key" >&2; exit 1; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
OUTPOST_BIND="127.0.0.1:$port" server serve >"$dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  curl -sf "$base/health" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "api-test: the server exited:" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
  sleep 0.1
done

token=$(curl -sf -H 'content-type: application/json' \
  -d "{\"email\":\"admin@api-test.example\",\"password\":\"$password\"}" "$base/v1/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
export OUTPOST_API_TEST_TOKEN="$token" OUTPOST_API_TEST_INTAKE_KEY="$intake_key"

# Schemathesis keeps its caches in the working directory: the temporary one, never the clone.
cd "$dir"
run() {
  "$st" --config-file "$config" run "$base/openapi.json" --workers 1 --max-examples "$examples" "$@" || {
    echo "api-test: Schemathesis found failures; the server's log ends with:" >&2
    tail -30 "$dir/server.log" >&2
    exit 1
  }
}
# Disabling a user runs alone and last: Schemathesis reuses ids from earlier answers (the admin's
# own, from /v1/me) and would end the session every other operation runs with.
disable='/v1/admin/users/{id}/disable'
echo "api-test: every operation but $disable"
run --exclude-path "$disable"
echo "api-test: $disable"
run --include-path "$disable"
