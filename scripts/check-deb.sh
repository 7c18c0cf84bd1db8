#!/usr/bin/env bash
# Checks the desktop .deb: installs it with dpkg into a scratch root (no scripts run, nothing
# touches the machine's own package database), then checks the files it put there, its
# declared dependencies, and that the installed binary links against nothing the dependencies
# do not provide.
set -euo pipefail
deb=${1:?usage: check-deb.sh <package.deb>}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
fail() { echo "check-deb: $*" >&2; exit 1; }

mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-not-root --force-depends --force-script-chrootless \
  --no-triggers --instdir="$root" --admindir="$root/var/lib/dpkg" -i "$deb" >"$root/dpkg.log" 2>&1 ||
  { cat "$root/dpkg.log" >&2; fail "dpkg could not install it"; }

name=$(dpkg-deb -f "$deb" Package)
[ "$name" = "outpost" ] || fail "package name is '$name', expected 'outpost'"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libdbus-1-3 fonts-noto-cjk; do
  grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
status=$(dpkg --admindir="$root/var/lib/dpkg" -s "$name" | sed -n 's/^Status: //p')
[ "$status" = "install ok installed" ] || fail "dpkg status is '$status'"

bin="$root/usr/bin/outpost-desktop"
[ -x "$bin" ] || fail "no executable /usr/bin/outpost-desktop"
desktop=$(find "$root/usr/share/applications" -name '*.desktop' | head -1)
[ -n "$desktop" ] || fail "no .desktop entry"
grep -q '^Exec=outpost-desktop' "$desktop" || fail "the .desktop entry does not start outpost-desktop"
find "$root/usr/share/icons" -name '*.png' | grep -q . || fail "no icons"

# Every shared library the binary needs resolves on this machine (which has the runtime
# packages the Depends line names).
missing=$(ldd "$bin" | grep 'not found' || true)
[ -z "$missing" ] || fail "unresolved libraries: $missing"

# The front end is inside the binary: no web assets are shipped beside it, and none is fetched.
if find "$root" -name '*.js' -o -name 'index.html' | grep -q .; then
  fail "loose web assets in the package"
fi

echo "check-deb: $name $(dpkg-deb -f "$deb" Version) ok ($(du -h "$deb" | cut -f1)); Depends: $depends"
