#!/usr/bin/env bash
# Installs what a fresh Debian/Ubuntu machine lacks to build and test Outpost. Idempotent: a
# machine that has everything gets two quick checks and no apt call.
set -euo pipefail

# C toolchain for SQLCipher and its vendored OpenSSL (perl drives OpenSSL's configure);
# PostgreSQL server binaries for the server's PostgreSQL test suite (a throwaway instance is
# started by scripts/with-postgres.sh; the packaged cluster is not used); python3 picks a free port;
# libdbus-1-dev for the client vault's Secret Service binding (keyring, linked against the system
# libdbus that every Linux desktop ships); dbus (dbus-run-session) and gnome-keyring for the vault's
# tests against a real Secret Service (`make keychain-test`).
# The desktop shell (Tauri 2 on WebKitGTK 4.1): libwebkit2gtk-4.1-dev and friends to build it;
# webkit2gtk-driver (WebKitWebDriver), xvfb and xauth for the WebDriver suite under a virtual
# display; dbus-x11 for a session bus beside it; fonts-noto-cjk so Chinese text renders (a minimal
# Debian has no CJK glyphs; the .deb depends on it too); nodejs/npm only when the machine has no Node.
packages=(build-essential perl pkg-config ca-certificates postgresql python3 python3-venv libdbus-1-dev dbus gnome-keyring
  libwebkit2gtk-4.1-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  webkit2gtk-driver xvfb xauth dbus-x11 file fonts-noto-cjk)
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    echo "prereqs: installing ${missing[*]}"
    sh -c "DEBIAN_FRONTEND=noninteractive $cmd"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "prereqs: installing ${missing[*]} with sudo"
    sudo sh -c "DEBIAN_FRONTEND=noninteractive $cmd"
  else
    echo "prereqs: missing Debian packages: ${missing[*]}" >&2
    echo "prereqs: run this as root, then run make again:" >&2
    echo "  sudo sh -c '$cmd'" >&2
    exit 1
  fi
fi

if ! command -v cargo >/dev/null; then
  echo "prereqs: cargo is not on PATH. Install the Rust toolchain (https://rustup.rs) and run make again." >&2
  exit 1
fi

# tauri-driver (the WebDriver front for the desktop suite), once per machine, into ~/.cargo/bin.
if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "prereqs: installing tauri-driver"
  cargo install tauri-driver --locked --version 2.1.0
fi

# Tauri's CLI (the .deb bundler behind `make package`), pinned, into a tools directory outside
# the clone. Not in ui/package.json: its lock file would need every platform's binary package,
# which a registry mirror may not carry, and `npm ci` refuses a lock without them.
tauri_cli_version=2.12.5
tools="${OUTPOST_TOOLS_DIR:-$HOME/.cache/outpost/tools}"
if [ "$("$tools/node_modules/.bin/tauri" --version 2>/dev/null)" != "tauri-cli $tauri_cli_version" ]; then
  echo "prereqs: installing @tauri-apps/cli $tauri_cli_version into $tools"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-save --no-audit --no-fund "@tauri-apps/cli@$tauri_cli_version"
fi

# Schemathesis (the OpenAPI property-based client behind `make api-test`), pinned by the Makefile,
# in a venv outside the clone; a failed install leaves no half venv behind.
st_venv="$HOME/.cache/outpost/schemathesis-${SCHEMATHESIS_VERSION:?set by the Makefile}"
if [ ! -x "$st_venv/bin/st" ]; then
  echo "prereqs: installing schemathesis $SCHEMATHESIS_VERSION into $st_venv"
  rm -rf "$st_venv"
  python3 -m venv "$st_venv" && "$st_venv/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" || { rm -rf "$st_venv"; exit 1; }
fi

# The UI's packages, from ui/package-lock.json, when it changed since the last install.
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "prereqs: npm ci (ui/)"
  (cd ui && npm ci --no-audit --no-fund)
fi
