#!/usr/bin/env bash
# Runs a command with OUTPOST_TEST_PG_URL pointing at a PostgreSQL server: the one already named
# by OUTPOST_TEST_PG_URL, or a throwaway server from Debian's packages on 127.0.0.1 in a
# temporary data directory, stopped (and deleted) when the command ends.
set -euo pipefail

if [ -n "${OUTPOST_TEST_PG_URL:-}" ]; then
  exec "$@"
fi

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: PostgreSQL server binaries not found; run scripts/prereqs.sh (package postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/outpost-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: a throwaway test server; durability is tested elsewhere.
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }

export OUTPOST_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: throwaway PostgreSQL on 127.0.0.1:$port"
"$@"
