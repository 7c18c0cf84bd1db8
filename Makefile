# Outpost — the two commands: `make run` and `make test`.
#
# Builds go to a stable directory outside the clone so a fresh clone on the same machine (CI)
# reuses them.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/outpost/target
export CARGO_TERM_COLOR ?= never
CARGO ?= cargo

.PHONY: run test prereqs lint unit bench demo clean-target

## run: the headless demo (a small encrypted demo cache: a queue page, a search, SLA clocks).
run: prereqs
	$(CARGO) run --quiet -p outpost-store --example demo

## test: every suite, after installing what is missing.
test: prereqs lint unit

prereqs:
	@scripts/prereqs.sh

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

# The server suite runs against SQLite and a throwaway PostgreSQL (scripts/with-postgres.sh).
unit:
	scripts/with-postgres.sh $(CARGO) test --workspace --all-features

## bench: the criterion benchmarks on the 100 000-ticket cache (minutes; not part of test).
bench: prereqs
	$(CARGO) bench -p outpost-core --bench audit
	$(CARGO) bench -p outpost-store --all-features --bench cache

clean-target:
	rm -rf "$(CARGO_TARGET_DIR)"
