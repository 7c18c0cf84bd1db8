#!/usr/bin/env bash
# `make run`: a demo organisation on a local outpost-server (SQLite, 127.0.0.1, a free port) and
# the desktop app signed in to it as a demo agent. `make dev` (OUTPOST_DEMO_CLIENT=browser): the
# development bridge signed in instead, and vite serving the UI in a browser against it.
# Everything lives in a fresh directory under
# $OUTPOST_DEMO_DIR (default ~/.cache/outpost/demo) that is removed when the app closes; the
# demo passwords stay in this script's memory and the app's environment, never on disk.
set -euo pipefail

target="${CARGO_TARGET_DIR:?set by the Makefile}/debug"
root="${OUTPOST_DEMO_DIR:-$HOME/.cache/outpost/demo}"
tickets="${OUTPOST_DEMO_TICKETS:-300}"
mkdir -p "$root"
dir=$(mktemp -d "$root/run-XXXXXX")
server_pid=""
bridge_pid=""
cleanup() {
  # Each child is reaped before the directory goes: one still exiting could write into it.
  for pid in $bridge_pid $server_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

db="sqlite://$dir/server/outpost.db"
mkdir -p "$dir/server" "$dir/client"
server() { "$target/outpost-server" --database-url "$db" "$@"; }

echo "run: creating the demo organisation ($tickets tickets)"
server init --org "Outpost Demo" --admin-email admin@demo.example >/dev/null
# `demo` prints one line per demo user: role, e-mail, one-time password.
demo_users=$(server demo --tickets "$tickets")
# OUTPOST_DEMO_ROLE=supervisor (or admin) opens the app as that role instead of an agent (the
# supervisor workspace: Audit, Reports).
role=${OUTPOST_DEMO_ROLE:-agent}
case "$role" in agent|supervisor|admin) ;; *) echo "run: OUTPOST_DEMO_ROLE must be agent, supervisor or admin" >&2; exit 1 ;; esac
user=$(printf '%s\n' "$demo_users" | awk -v role="$role" '$1 == role { print $2, $3; exit }')
[ -n "$user" ] || { echo "run: the demo printed no $role" >&2; exit 1; }
email=${user% *}
password=${user#* }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
OUTPOST_BIND="127.0.0.1:$port" server serve >"$dir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || { echo "run: the server exited:" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
  sleep 0.1
done

echo "run: server on http://127.0.0.1:$port (log: $dir/server.log)"
printf '%s\n' "$demo_users" | awk '{ printf "run:   %-10s %s\n", $1, $2 }'
# The OS keychain holds the cache key; on a machine without one (no Secret Service) the demo
# profile falls back to a passphrase.
export OUTPOST_DATA_DIR="$dir/client" OUTPOST_PASSWORD="$password" OUTPOST_PASSPHRASE="outpost-demo"
if [ "${OUTPOST_DEMO_CLIENT:-desktop}" = browser ]; then
  bridge="127.0.0.1:$(free_port)"
  "$target/outpost-dev-bridge" --bind "$bridge" --server "http://127.0.0.1:$port" --email "$email" \
    2>"$dir/bridge.log" &
  bridge_pid=$!
  unset OUTPOST_PASSWORD
  echo "run: development bridge on http://$bridge signed in as $email (log: $dir/bridge.log)"
  cd "$(dirname "$0")/../ui"
  OUTPOST_BRIDGE="http://$bridge" npx vite
else
  echo "run: opening Outpost signed in as $email"
  "$target/outpost-desktop" --server "http://127.0.0.1:$port" --email "$email"
fi
