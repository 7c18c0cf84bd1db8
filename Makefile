# Outpost — the two commands: `make run` and `make test`.
#
# Builds go to a stable directory outside the clone so a fresh clone on the same machine (CI)
# reuses them.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/outpost/target
export CARGO_TERM_COLOR ?= never
CARGO ?= cargo
# Schemathesis for `make api-test`, installed by prereqs into a venv under ~/.cache/outpost.
export SCHEMATHESIS_VERSION ?= 4.32.5

.PHONY: run dev test prereqs ui ui-test lint unit api-test keychain-test desktop-test package package-test bench clean-target

## run: a demo server on 127.0.0.1 and the desktop app signed in to it (scripts/run-demo.sh).
run: prereqs ui
	$(CARGO) build -p outpost-server -p outpost-desktop
	scripts/run-demo.sh

## dev: the browser preview against a real Desk: a demo server, the development bridge
## (outpost-dev-bridge, loopback only, never packaged) signed in to it, and vite on
## http://localhost:1420, which proxies the UI's commands to the bridge (scripts/run-demo.sh).
dev: prereqs
	$(CARGO) build -p outpost-server
	$(CARGO) build -p outpost-desktop --features dev-bridge --bin outpost-dev-bridge
	OUTPOST_DEMO_CLIENT=browser scripts/run-demo.sh

## test: every suite, after installing what is missing.
test: prereqs ui lint ui-test unit api-test keychain-test desktop-test package-test

prereqs:
	@scripts/prereqs.sh

# The SolidJS front end (ui/dist), embedded into the desktop binary when it is compiled, so it
# is built before anything compiles outpost-desktop (clippy included).
ui:
	cd ui && npm run build

ui-test:
	cd ui && npm test

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings
	# The core stays clock-free (`now` is always an argument); --all-features would hide a
	# `Utc::now()` because ts-rs turns on chrono's clock.
	$(CARGO) check --quiet -p outpost-core --lib

# The server suite runs against SQLite and a throwaway PostgreSQL (scripts/with-postgres.sh).
# The whole-system suite (tests/) starts the outpost-server and outpost binaries from the target
# directory, so they are built first. `--tests` makes dev-dependencies take part in feature
# resolution exactly as in the `cargo test` that follows; without it serde, tokio-rustls and
# others resolve with fewer features and the binaries and most of their dependencies would be
# compiled twice.
unit:
	$(CARGO) build --workspace --all-features --bins --tests
	scripts/with-postgres.sh $(CARGO) test --workspace --all-features

# Schemathesis against real outpost-servers on 127.0.0.1, on SQLite and a throwaway PostgreSQL
# side by side (scripts/api-test.sh): every answer conforms to the OpenAPI document, none is a
# server error, requests it forbids are refused. Deterministic and bounded (12 examples per
# operation and phase; 2 to 4 minutes on 2 cores, depending on load); config and exceptions in
# scripts/schemathesis.toml.
api-test:
	$(CARGO) build -p outpost-server --all-features --bins
	scripts/with-postgres.sh scripts/api-test.sh

# The client vault against a real Secret Service (crates/outpost-client/tests/keychain.rs), in
# throwaway D-Bus sessions whose gnome-keyring keeps its keyrings in a temporary directory, never
# the user's own, and cannot show an unlock prompt (no display). The scenarios, in order: a Secret
# Service with no keyring yet; a login keyring unlocked with a fixed password; the same keyring in
# a new session where nobody unlocked it; no session bus at all.
keychain-test:
	$(CARGO) test -p outpost-client --test keychain --no-run
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && mkdir -m 700 "$$tmp/run" && \
	export XDG_DATA_HOME="$$tmp/data" XDG_RUNTIME_DIR="$$tmp/run" && unset DISPLAY WAYLAND_DISPLAY && \
	echo "keychain-test: no keyring yet" && \
	dbus-run-session -- env OUTPOST_TEST_SECRET_SERVICE=locked $(CARGO) test -p outpost-client --test keychain && \
	echo "keychain-test: unlocked keyring" && \
	dbus-run-session -- sh -c 'printf outpost | gnome-keyring-daemon --unlock --components=secrets >/dev/null && OUTPOST_TEST_SECRET_SERVICE=1 $(CARGO) test -p outpost-client --test keychain' && \
	echo "keychain-test: locked keyring" && \
	dbus-run-session -- env OUTPOST_TEST_SECRET_SERVICE=locked $(CARGO) test -p outpost-client --test keychain && \
	echo "keychain-test: no session bus" && \
	env -u DBUS_SESSION_BUS_ADDRESS OUTPOST_TEST_SECRET_SERVICE=no-bus $(CARGO) test -p outpost-client --test keychain

# The desktop app end to end (tests/tests/desktop.rs): tauri-driver + WebKitWebDriver on a
# virtual X display, a session bus with a real gnome-keyring unlocked in it, the real
# outpost-desktop (built by `unit`) against a real outpost-server. Screenshots go to
# $(CARGO_TARGET_DIR)/e2e.
desktop-test:
	$(CARGO) test -p outpost-system-tests --test desktop --no-run
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && mkdir -m 700 "$$tmp/run" && \
	export XDG_DATA_HOME="$$tmp/data" XDG_CONFIG_HOME="$$tmp/config" XDG_RUNTIME_DIR="$$tmp/run" && \
	xvfb-run -a -s "-screen 0 1440x900x24" dbus-run-session -- sh -c \
	  'printf outpost | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
	   $(CARGO) test -p outpost-system-tests --test desktop -- --ignored --test-threads=1 --nocapture'

## package: the .deb with Tauri's bundler (offline), optimised: PROFILE=release (default).
# `make test` packages the debug build it has already compiled (PROFILE=debug) instead of
# compiling everything a second time with optimisations.
PROFILE ?= release
TAURI ?= $(HOME)/.cache/outpost/tools/node_modules/.bin/tauri
package: prereqs ui
	$(TAURI) build $(if $(filter debug,$(PROFILE)),--debug) --bundles deb --ci
	@ls -l $(CARGO_TARGET_DIR)/$(PROFILE)/bundle/deb/*.deb

# Installs the package into a scratch root with dpkg and checks what it holds and depends on.
package-test:
	$(MAKE) package PROFILE=debug
	scripts/check-deb.sh $(CARGO_TARGET_DIR)/debug/bundle/deb/*.deb

## bench: the criterion benchmarks on the 100 000-ticket cache (minutes; not part of test).
bench: prereqs
	$(CARGO) bench -p outpost-core --bench audit
	$(CARGO) bench -p outpost-store --all-features --bench cache

clean-target:
	rm -rf "$(CARGO_TARGET_DIR)"
